"""The judge side of the grading seam: the ``submission`` object hidden tests see.

``Submission`` starts the sandbox process (:mod:`autograder.seam.sandbox`) in a
fresh working directory, runs the notebook's code cells there, and then turns
attribute access and calls into requests over a pipe. Values come back decoded
by :mod:`autograder.seam.codec` (never unpickled); other objects come back as
:class:`Remote` handles that can be called and inspected the same way.

Each request has a time limit. A sandbox that overruns it, crashes or exits is
killed with its whole process group and started again for the next request,
at most ``max_restarts`` times; the request that broke it raises
:class:`SandboxFailure` and so fails only the test that made it.

Not handled here: operating-system isolation of the sandbox (separate user,
network namespace, cgroups); :class:`SandboxLimits` carries the rlimits only.
"""

from __future__ import annotations

import dataclasses
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.seam import codec
from autograder.seam.sandbox import read_frame, write_frame

GiB = 1024**3


@dataclasses.dataclass(frozen=True)
class SandboxLimits:
    """Per-submission limits. Times are seconds; sizes are bytes."""

    notebook_seconds: float = 120.0
    call_seconds: float = 20.0
    memory_bytes: int = 8 * GiB
    file_bytes: int = 64 * 1024**2
    output_bytes: int = 256 * 1024
    max_restarts: int = 2

    def rlimits(self) -> dict:
        return {"memory_bytes": self.memory_bytes, "file_bytes": self.file_bytes, "core_bytes": 0}


class StudentError(Exception):
    """The student's code raised an exception; carries its type and message."""

    def __init__(self, type_name: str, message: str, traceback: str = ""):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message
        self.traceback = traceback


class SandboxFailure(Exception):
    """The sandbox did not answer: it timed out, crashed or exited."""


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
    ):
        self.cells = cells
        self.forbidden = list(forbidden or [])
        self.limits = limits or SandboxLimits()
        self.cell_results: list[dict] = []
        self.failures: list[str] = []
        self._proc: subprocess.Popen | None = None
        self._workdir: str | None = None
        self._generation = 0
        self._starts = 0
        self._broken: str | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start the sandbox and run the notebook; safe to call again after a failure."""
        if self._proc is not None:
            return
        if self._starts > self.limits.max_restarts:
            raise SandboxFailure(self._broken or "the sandbox could not be restarted")
        self._starts += 1
        self._generation += 1
        self._workdir = tempfile.mkdtemp(prefix="autograder-sandbox-")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        log_path = os.path.join(self._workdir, ".output.log")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": self._workdir,
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.seam.sandbox", str(to_child_r), str(from_child_w), log_path],
            cwd=self._workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(to_child_r, from_child_w),
            start_new_session=True,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._wfd, self._rfd = to_child_w, from_child_r
        self._log_path = log_path
        write_frame(
            self._wfd,
            codec.dumps(
                {
                    "cells": self.cells,
                    "forbidden": self.forbidden,
                    "limits": self.limits.rlimits(),
                }
            ),
        )
        ready = self._receive(self.limits.notebook_seconds, "running the notebook")
        self.cell_results = ready.get("cells", [])

    def close(self) -> None:
        """Kill the sandbox's process group and remove its working directory."""
        proc, self._proc = self._proc, None
        if proc is not None:
            for fd in (self._wfd, self._rfd):
                try:
                    os.close(fd)
                except OSError:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> "Submission":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def output(self) -> str:
        """What the notebook printed, trimmed to the output limit."""
        try:
            with open(self._log_path, "rb") as fh:
                data = fh.read(self.limits.output_bytes + 1)
        except (OSError, AttributeError):
            return ""
        text = data[: self.limits.output_bytes].decode("utf-8", "replace")
        return text + ("\n[output trimmed]" if len(data) > self.limits.output_bytes else "")

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

    def forbidden_calls(self) -> list[str]:
        """Forbidden built-ins the student's code tried to call, in any run so far."""
        return self._request({"op": "forbidden_calls"})

    def _check_generation(self, generation: int) -> None:
        if generation != self._generation:
            raise SandboxFailure("this object belonged to a sandbox that was restarted")

    def _request(self, message: dict):
        self.start()
        generation = self._generation
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
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail(f"{what} took longer than {seconds:g} s")
            ready, _, _ = select.select([self._rfd], [], [], left)
            if ready:
                break
        try:
            raw = read_frame(self._rfd)
        except (EOFError, OSError):
            raw = None
        if raw is None:
            code = self._proc.poll() if self._proc else None
            self._fail(f"the notebook's process exited during {what} (exit status {code})")
        try:
            return codec.loads(raw)
        except codec.SeamError as exc:
            self._fail(f"the sandbox sent a malformed reply during {what}: {exc}")

    def _fail(self, reason: str):
        self.failures.append(reason)
        self._broken = reason
        self.close()
        raise SandboxFailure(reason)
