"""The judge side of the grading seam: the ``submission`` object hidden tests see.

``Submission`` starts the sandbox process (:mod:`autograder.seam.sandbox`) from
the fork server (:mod:`autograder.seam.zygote`), isolated as
:mod:`autograder.seam.isolation` describes, runs the notebook's code cells
there, and then turns attribute access and calls into requests over a pipe. Values come back decoded
by :mod:`autograder.seam.codec` (never unpickled); other objects come back as
:class:`Remote` handles that can be called and inspected the same way. A hidden
test can also learn how much memory one call needed
(:meth:`Submission.peak_memory_of`), measured from this side by the kernel's
figures for the sandbox process.

Each request has a time limit, and the whole submission a time budget. A
sandbox that overruns a limit, crashes or exits is killed with every process
it started and started again for the next request, at most ``max_restarts``
times; the request that broke it raises :class:`SandboxFailure` and so fails
only the test that made it. What the notebook prints is read from a pipe and
kept up to ``output_bytes``; the rest is drained and counted, never stored.
"""

from __future__ import annotations

import dataclasses
import os
import select
import shutil
import signal
import tempfile
import threading
import time

from autograder.seam import codec, isolation
from autograder.seam.sandbox import read_frame, write_frame

GiB = 1024**3
MiB = 1024**2


@dataclasses.dataclass(frozen=True)
class SandboxLimits:
    """Per-submission limits. Times are seconds; sizes are bytes."""

    notebook_seconds: float = 120.0
    call_seconds: float = 20.0
    submission_seconds: float = 600.0
    memory_bytes: int = 6 * GiB
    file_bytes: int = 64 * MiB
    processes: int = 256  # threads count too
    open_files: int = 256
    output_bytes: int = 256 * 1024
    reply_bytes: int = 256 * MiB
    max_restarts: int = 2

    def rlimits(self) -> dict:
        return {
            "memory_bytes": self.memory_bytes,
            "file_bytes": self.file_bytes,
            "processes": self.processes,
            "open_files": self.open_files,
            "cpu_seconds": int(self.submission_seconds) + 60,
            "core_bytes": 0,
        }


SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
}

_shared_zygote = None
_zygote_lock = threading.Lock()


def shared_zygote():
    """The process's fork server, started on first use (see :mod:`autograder.seam.zygote`)."""
    global _shared_zygote
    with _zygote_lock:
        if _shared_zygote is None:
            from autograder.seam.zygote import Zygote

            _shared_zygote = Zygote()
        return _shared_zygote


class OutputPipe:
    """Drains the sandbox's stdout and stderr; keeps the first ``limit`` bytes."""

    def __init__(self, fd: int, limit: int):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0
        self._fd = fd
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            room = self.limit - len(self.kept)
            self.kept += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)
        os.close(self._fd)

    def settled_text(self, wait: float = 0.5) -> str:
        """What was kept so far, once the pipe holds nothing more to drain (or after ``wait`` s)."""
        import fcntl
        import struct
        import termios

        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                pending = struct.unpack("i", fcntl.ioctl(self._fd, termios.FIONREAD, b"\0" * 4))[0]
            except OSError:
                break
            if pending == 0:
                break
            time.sleep(0.005)
        return bytes(self.kept).decode("utf-8", "replace")

    def text(self, wait: float = 1.0) -> str:
        self._thread.join(wait)
        text = bytes(self.kept).decode("utf-8", "replace")
        return text + (f"\n[output trimmed: {self.dropped} more bytes]" if self.dropped else "")


class StudentError(Exception):
    """The student's code raised an exception; carries its type and message."""

    def __init__(self, type_name: str, message: str, traceback: str = ""):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message
        self.traceback = traceback


class SandboxFailure(Exception):
    """The sandbox did not answer: it timed out, crashed or exited."""


class MemoryProbeUnavailable(RuntimeError):
    """This machine does not let the judge measure the sandbox's peak memory."""


def _resident_peak(pid: int) -> int:
    """The kernel's record of the largest resident set of ``pid`` (VmHWM), in bytes."""
    with open(f"/proc/{pid}/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
    raise MemoryProbeUnavailable(f"/proc/{pid}/status has no VmHWM line")


def _reset_resident_peak(pid: int) -> int:
    """Lower the peak of ``pid`` to its current resident set; return that, in bytes."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return _resident_peak(pid)
    except OSError as exc:
        raise MemoryProbeUnavailable(
            f"cannot measure the sandbox's peak memory here: resetting it through "
            f"/proc/{pid}/clear_refs failed ({exc.strerror or exc}); this needs Linux and a "
            f"grader running as root or as the sandbox's own user"
        ) from None


class Remote:
    """An object that lives in the sandbox: call it, or read its attributes."""

    def __init__(self, submission: "Submission", handle: int, type_name: str, generation: int):
        self.__dict__.update(_sub=submission, _handle=handle, _type=type_name, _gen=generation)

    @property
    def __seam_handle__(self) -> int:
        self._sub._check_generation(self._gen)
        return self._handle

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._sub._request({"op": "getattr", "target": self.__seam_handle__, "name": name})

    def __call__(self, *args, **kwargs):
        return self._sub._request(
            {
                "op": "call",
                "target": self.__seam_handle__,
                "args": codec.to_wire(list(args)),
                "kwargs": codec.to_wire(dict(kwargs)),
            }
        )

    def __repr__(self) -> str:
        return f"<remote {self._type}>"


class Submission:
    """A student's notebook, executed in a sandbox, seen through the seam."""

    def __init__(
        self,
        cells: list[dict],
        forbidden: list[str] | None = None,
        limits: SandboxLimits | None = None,
        hide: list[str] | None = None,
        forbidden_ops: list[str] | None = None,
    ):
        self.cells = cells
        self.forbidden = list(forbidden or [])
        self.forbidden_ops = list(forbidden_ops or [])
        self.limits = limits or SandboxLimits()
        self.hide = list(hide or [])
        self.cell_results: list[dict] = []
        # What the notebook printed while it first ran, before any request (and so any
        # hidden test's input) reached the sandbox: the only output safe to show a learner.
        self.output_before_requests: str | None = None
        self._requested = False
        self.failures: list[str] = []
        self._pid: int | None = None
        self._slot: isolation.Slot | None = None
        self._workdir: str | None = None
        self._output: OutputPipe | None = None
        self._outputs: list[str] = []
        self._generation = 0
        self._starts = 0
        self._broken: str | None = None
        self._deadline: float | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start the sandbox and run the notebook; safe to call again after a failure."""
        if self._pid is not None:
            return
        if self._deadline is None:
            self._deadline = time.monotonic() + self.limits.submission_seconds
        if self._starts > self.limits.max_restarts:
            raise SandboxFailure(self._broken or "the sandbox could not be restarted")
        if time.monotonic() >= self._deadline:
            raise SandboxFailure(f"the submission used up its {self.limits.submission_seconds:g} s")
        self._starts += 1
        self._generation += 1
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        out_r, out_w = os.pipe()
        spec = {"hide": self.hide, "limits": self.limits.rlimits(), "env": dict(SANDBOX_ENV)}
        if isolation.available():
            self._slot = isolation.acquire_slot()
            self._workdir = str(self._slot.workdir)
            spec["slot"] = {
                "index": self._slot.index, "uid": self._slot.uid,
                "gid": self._slot.gid, "workdir": self._workdir,
            }
        else:
            self._workdir = tempfile.mkdtemp(prefix="autograder-sandbox-")
            spec["workdir"] = self._workdir
        spec["env"]["HOME"] = self._workdir
        try:
            self._pid = shared_zygote().spawn(spec, [to_child_r, from_child_w, out_w])
        finally:
            for fd in (to_child_r, from_child_w, out_w):
                os.close(fd)
        self._wfd, self._rfd = to_child_w, from_child_r
        self._output = OutputPipe(out_r, self.limits.output_bytes)
        write_frame(
            self._wfd,
            codec.dumps({"cells": self.cells, "forbidden": self.forbidden, "forbidden_ops": self.forbidden_ops}),
        )
        ready = self._receive(self.limits.notebook_seconds, "running the notebook")
        self.cell_results = ready.get("cells", [])
        if not self._requested:
            self.output_before_requests = self._output.settled_text()

    def close(self) -> None:
        """Kill every process the sandbox started and remove its working directory."""
        pid, self._pid = self._pid, None
        if pid is None:
            return
        for fd in (self._wfd, self._rfd):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._slot is not None:
            isolation.kill_user(self._slot.uid)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._output is not None:
            self._outputs.append(self._output.text())
            self._output = None
        if self._slot is not None:
            isolation.remove_tree(self._slot.workdir)
            self._slot.release()
            self._slot = None
        elif self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None

    def __enter__(self) -> "Submission":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def output(self) -> str:
        """What the notebook printed (each run, trimmed to the output limit)."""
        runs = list(self._outputs)
        if self._output is not None:
            runs.append(self._output.text(wait=0.2))
        return "\n[sandbox restarted]\n".join(runs)

    # -- the seam ----------------------------------------------------------

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        self.start()
        return self._request({"op": "getattr", "target": 0, "name": name})

    def vjp(self, fn: Remote, args: tuple, cotangents, **kwargs):
        """Gradients of ``sum(fn(*args) * cotangents)`` for args with requires_grad.

        Returns one entry per tensor argument that requires grad, in order
        (None where the output does not depend on it).
        """
        return self._request(
            {
                "op": "vjp",
                "target": fn.__seam_handle__,
                "args": codec.to_wire(list(args)),
                "kwargs": codec.to_wire(dict(kwargs)),
                "cotangents": codec.to_wire(cotangents),
            }
        )

    def peak_memory_of(self, fn: Remote, *args, **kwargs) -> tuple[object, int]:
        """Call ``fn(*args, **kwargs)`` in the sandbox; return its result and the memory the call needed.

        The second value, in bytes, is measured here, outside the sandbox, from
        the kernel's own figures for the sandbox process: its peak resident set
        (VmHWM) is lowered to its current resident set (``5`` written to
        ``/proc/<pid>/clear_refs``) just before the request and read just after
        the reply; the value is the difference. It covers everything the
        sandbox did for the request: decoding the arguments, the call, encoding
        the result. Memory the process already held and reused is not counted
        again, and memory of processes the notebook starts is not counted.

        The sandbox cannot write the figure the judge reads, and with isolation
        it sees ``/proc`` read-only, so it cannot lower its own peak in the middle
        of the call either (without isolation, on a learner's own machine, it
        could). Raises :class:`MemoryProbeUnavailable` where the measurement is
        not possible (no Linux ``/proc``, or no permission to write it).
        """
        self.start()
        target = fn.__seam_handle__  # checked against the running sandbox before measuring
        baseline = _reset_resident_peak(self._pid)
        result = self._request(
            {"op": "call", "target": target, "args": codec.to_wire(list(args)), "kwargs": codec.to_wire(dict(kwargs))}
        )
        return result, max(_resident_peak(self._pid) - baseline, 0)

    def forbidden_calls(self) -> list[str]:
        """Forbidden built-ins the student's code reaches for.

        Two sources: the learner's cell text, checked here in the judge where the
        student cannot interfere (:mod:`autograder.scratch`), and the calls the
        sandbox's tripwires caught at run time.
        """
        from autograder.scratch import forbidden_references

        static = forbidden_references(self.cells, self.forbidden) if self.forbidden else []
        runtime = [f"called {name}" for name in self._request({"op": "forbidden_calls"})]
        return static + runtime

    def _check_generation(self, generation: int) -> None:
        if generation != self._generation:
            raise SandboxFailure("this object belonged to a sandbox that was restarted")

    def _request(self, message: dict):
        self.start()
        generation = self._generation
        self._requested = True
        write_frame(self._wfd, codec.dumps(message))
        reply = self._receive(self.limits.call_seconds, "a call into the notebook")
        if not reply.get("ok"):
            err = reply.get("error") or {}
            raise StudentError(
                str(err.get("type", "Error")), str(err.get("message", "")), str(err.get("traceback", ""))
            )

        def resolve(handle: int) -> Remote:
            return Remote(self, handle, "object", generation)

        return codec.from_wire(reply.get("value"), resolve)

    def _receive(self, seconds: float, what: str) -> dict:
        deadline = min(time.monotonic() + seconds, self._deadline)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if deadline == self._deadline:
                    self._fail(f"the submission used up its {self.limits.submission_seconds:g} s during {what}")
                self._fail(f"{what} took longer than {seconds:g} s")
            ready, _, _ = select.select([self._rfd], [], [], left)
            if ready:
                break
        try:
            raw = read_frame(self._rfd, self.limits.reply_bytes)
        except codec.SeamError as exc:
            self._fail(f"{what}: {exc}")
        except (EOFError, OSError):
            raw = None
        if raw is None:
            self._fail(f"the notebook's process exited during {what}")
        try:
            return codec.loads(raw)
        except codec.SeamError as exc:
            self._fail(f"the sandbox sent a malformed reply during {what}: {exc}")

    def _fail(self, reason: str):
        self.failures.append(reason)
        self._broken = reason
        self.close()
        raise SandboxFailure(reason)
