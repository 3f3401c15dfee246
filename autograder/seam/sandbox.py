"""The sandbox side of the grading seam: runs a student's notebook and serves calls.

Forked by the zygote (:mod:`autograder.seam.zygote`) for one submission, already
isolated, with stdout and stderr going to an output pipe that the judge reads
(so nothing the student prints can touch the protocol channel). It executes
the notebook's code cells in order, reports how each cell went, then answers
requests from the judge until the channel closes:

* ``getattr``: an attribute of a handle (handle 0 is the notebook namespace);
* ``call``: call a handle with arguments;
* ``vjp``: call a handle and return gradients of ``sum(output * cotangent)``
  with respect to the tensor arguments that require grad;
* ``forbidden_calls``: which forbidden built-ins student code tried to call.

Results go back by value where :mod:`autograder.seam.codec` can encode them,
as handles otherwise. Everything here runs with the student's code loaded, so
the judge treats every reply as untrusted data: nothing here decides a verdict.

Not handled here: operating-system isolation, which is applied before this
module's code runs (:mod:`autograder.seam.isolation`).
"""

from __future__ import annotations

import builtins
import os
import struct
import sys
import traceback
import types

from autograder.seam import codec

CELL_PREFIX = "<cell "


def read_frame(fd: int, max_size: int | None = None) -> bytes | None:
    """Read one length-prefixed frame, or None at end of stream."""
    header = _read_exact(fd, 4)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    if max_size is not None and size > max_size:
        raise codec.SeamError(f"a reply of {size} bytes is larger than the {max_size}-byte limit")
    body = _read_exact(fd, size)
    if body is None:
        raise EOFError("channel closed in the middle of a frame")
    return body


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, n - got)
        if not chunk:
            return None if got == 0 else b"".join(chunks)
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_frame(fd: int, body: bytes) -> None:
    """Write one length-prefixed frame."""
    data = struct.pack(">I", len(body)) + body
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class HandleTable:
    """Objects that stay in the sandbox, referred to by integer ids."""

    def __init__(self, namespace: dict):
        self._objects: dict[int, object] = {0: namespace}
        self._ids: dict[int, int] = {}

    def add(self, obj: object) -> int:
        key = id(obj)
        if key in self._ids and self._objects.get(self._ids[key]) is obj:
            return self._ids[key]
        handle = len(self._objects)
        self._objects[handle] = obj
        self._ids[key] = handle
        return handle

    def get(self, handle: int) -> object:
        try:
            return self._objects[handle]
        except KeyError:
            raise codec.SeamError(f"unknown handle {handle}") from None


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def _library_prefixes() -> tuple[str, ...]:
    import sysconfig

    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    return tuple(os.path.realpath(p) + os.sep for p in paths)


class Tripwires:
    """Replace forbidden built-ins by functions that refuse student callers.

    A call is refused when the nearest caller frame that is not library code
    (the standard library or site-packages) is not an instructor's locked
    cell. Locked cells, and library code they call, keep the real function,
    so a public check may compare against it.
    """

    def __init__(self, dotted_names: list[str], ops: list[str] | None = None):
        self.names = dotted_names
        self.ops = set(ops or [])
        self.trusted_code: set[int] = set()
        self.hits: list[str] = []
        self._prefixes = _library_prefixes()

    def trust(self, code: types.CodeType) -> None:
        self.trusted_code.update(id(c) for c in _code_objects(code))

    def _student_is_calling(self, depth: int = 2) -> bool:
        """Is the nearest caller that is neither library nor this harness a learner's cell?

        Library frames (standard library, site-packages) and this module's own
        frames are skipped; the first other frame decides: instructor code
        (a locked cell's code object) may call, anything else may not. A stack
        with no such frame is the harness itself.
        """
        frame = sys._getframe(depth)
        while frame is not None:
            name = frame.f_code.co_filename
            library = os.path.isabs(name) and os.path.realpath(name).startswith(self._prefixes)
            if not library and name != __file__:
                return id(frame.f_code) not in self.trusted_code
            frame = frame.f_back
        return False

    def install(self) -> None:
        self._install_functions()
        if self.ops:
            self._install_op_mode()

    def _install_op_mode(self) -> None:
        """Refuse forbidden aten operators, however they are reached (aliases, private names).

        A dispatch mode sees every operator call below Python; the same
        caller rule applies, so a locked cell may still use torch's attention.
        """
        from torch.utils._python_dispatch import TorchDispatchMode

        wires = self

        class ForbiddenOps(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                name = func._schema.name
                if name in wires.ops and wires._student_is_calling(depth=2):
                    wires.hits.append(name)
                    raise RuntimeError(f"{name} is not available in this exercise: implement it from scratch")
                return func(*args, **(kwargs or {}))

        self._mode = ForbiddenOps()
        self._mode.__enter__()

    def _install_functions(self) -> None:
        import importlib

        for dotted in self.names:
            parts = dotted.split(".")
            owner = importlib.import_module(parts[0])
            for i, part in enumerate(parts[1:-1], start=1):
                try:
                    owner = getattr(owner, part)
                except AttributeError:
                    try:
                        owner = importlib.import_module(".".join(parts[: i + 1]))
                    except ImportError:
                        owner = None
                        break
            if owner is None:
                continue
            original = getattr(owner, parts[-1], None)
            if original is None:  # not in this torch version: nothing to switch off
                continue
            try:
                setattr(owner, parts[-1], self._wrap(dotted, original))
            except (AttributeError, TypeError):  # a C type that refuses new attributes
                continue

    def _wrap(self, dotted: str, original):
        wires = self

        def tripwire(*args, **kwargs):
            if wires._student_is_calling():
                wires.hits.append(dotted)
                raise RuntimeError(
                    f"{dotted} is not available in this exercise: implement it from scratch"
                )
            return original(*args, **kwargs)

        tripwire.__name__ = getattr(original, "__name__", "tripwire")
        tripwire.__doc__ = getattr(original, "__doc__", None)
        return tripwire


class _Shell:
    """The little of ``get_ipython()`` that grading needs: magics become no-ops."""

    def run_line_magic(self, name, line, *args, **kwargs):
        return None

    def run_cell_magic(self, name, line, cell, *args, **kwargs):
        return None

    def system(self, cmd, *args, **kwargs):
        raise RuntimeError("shell commands are not run during grading")

    getoutput = system


def _to_python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _student_traceback(exc: BaseException) -> str:
    """The traceback restricted to notebook cells: what the learner can act on."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(CELL_PREFIX)
    ]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)[-4000:]


def _error(exc: BaseException) -> dict:
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": _student_traceback(exc),
    }


def run_cells(cells: list[dict], namespace: dict, tripwires: Tripwires) -> list[dict]:
    """Execute code cells in order; a failing cell is recorded and the next runs."""
    results = []
    shell = _Shell()
    namespace["get_ipython"] = lambda: shell
    for cell in cells:
        filename = f"{CELL_PREFIX}{cell['index']}{' locked' if cell['locked'] else ''}>"
        try:
            code = compile(_to_python(cell["source"]), filename, "exec")
        except SyntaxError as exc:
            results.append({"index": cell["index"], "status": "error", "error": _error(exc)})
            continue
        if cell["locked"]:
            tripwires.trust(code)
        try:
            exec(code, namespace)
            results.append({"index": cell["index"], "status": "ok"})
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a cell is a cell error too
            results.append({"index": cell["index"], "status": "error", "error": _error(exc)})
    return results


def _flatten_outputs(value):
    if isinstance(value, (tuple, list)):
        return list(value)
    return [value]


def vjp(fn, args, kwargs, cotangents):
    """Gradients of sum(output_i * cotangent_i) w.r.t. tensor args requiring grad."""
    import torch

    inputs = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    with torch.enable_grad():
        outputs = _flatten_outputs(fn(*args, **kwargs))
        cotangents = _flatten_outputs(cotangents)
        if len(cotangents) != len(outputs):
            raise ValueError(
                f"the function returned {len(outputs)} outputs, expected {len(cotangents)}"
            )
        total = None
        for out, cot in zip(outputs, cotangents):
            if cot is None:
                continue
            if not isinstance(out, torch.Tensor):
                raise TypeError(f"an output is a {type(out).__name__}, not a tensor")
            if not out.requires_grad:
                raise RuntimeError("an output does not depend differentiably on the inputs")
            term = (out * cot.to(out.dtype)).sum()
            total = term if total is None else total + term
        if total is None:
            raise ValueError("no cotangent given")
        grads = torch.autograd.grad(total, inputs, allow_unused=True)
    return list(grads)


def serve(rfd: int, wfd: int, table: HandleTable, tripwires: Tripwires) -> None:
    """Answer requests until the judge closes the channel."""

    def resolve(handle: int):
        return table.get(handle)

    while True:
        raw = read_frame(rfd)
        if raw is None:
            return
        try:
            request = codec.loads(raw)
            op = request.get("op")
            if op == "forbidden_calls":
                value = list(tripwires.hits)
            else:
                target = table.get(int(request["target"]))
                if op == "getattr":
                    value = _getattr(target, str(request["name"]), handle_is_namespace=request["target"] == 0)
                elif op == "call":
                    args = codec.from_wire(request.get("args", []), resolve)
                    kwargs = codec.from_wire(request.get("kwargs", {"$dict": {}}), resolve)
                    value = target(*args, **kwargs)
                elif op == "vjp":
                    args = codec.from_wire(request.get("args", []), resolve)
                    kwargs = codec.from_wire(request.get("kwargs", {"$dict": {}}), resolve)
                    cot = codec.from_wire(request["cotangents"], resolve)
                    value = vjp(target, args, kwargs, cot)
                else:
                    raise codec.SeamError(f"unknown operation {op!r}")
            reply = {"ok": True, "value": codec.to_wire(value, make_handle=table.add)}
        except BaseException as exc:  # noqa: BLE001 - every student failure becomes a reply
            reply = {"ok": False, "error": _error(exc)}
        try:
            body = codec.dumps(reply)
        except (TypeError, ValueError) as exc:
            body = codec.dumps({"ok": False, "error": _error(exc)})
        write_frame(wfd, body)


def _getattr(target, name: str, handle_is_namespace: bool):
    if handle_is_namespace:
        if name not in target:
            raise AttributeError(f"the notebook does not define {name!r}")
        return target[name]
    return getattr(target, name)


def serve_submission(rfd: int, wfd: int) -> int:
    """Run the notebook sent in the setup frame, report its cells, then serve requests.

    The caller has already isolated this process and pointed stdout and stderr
    at the output pipe (see :mod:`autograder.seam.zygote`).
    """
    setup = codec.loads(read_frame(rfd))
    os.environ.setdefault("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    tripwires = Tripwires(setup.get("forbidden", []), setup.get("forbidden_ops", []))
    tripwires.install()
    cell_results = run_cells(setup["cells"], namespace, tripwires)
    sys.stdout.flush()
    sys.stderr.flush()
    write_frame(wfd, codec.dumps({"ok": True, "cells": cell_results}))
    serve(rfd, wfd, HandleTable(namespace), tripwires)
    return 0
