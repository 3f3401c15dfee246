"""A fork server that starts sandbox processes with the heavy imports already done.

Importing torch takes seconds; forking a process that has already imported it
takes milliseconds. The zygote is forked from a judge worker at its very start,
before the worker reads any solution, hidden test or other student's file, so a
sandbox forked from it inherits nothing secret. Torch is imported but never run
in the zygote, so no thread pool exists yet when it forks.

Protocol over a Unix socket pair: the judge sends a small JSON spec with three
file descriptors attached (the sandbox's request pipe, reply pipe and output
pipe); the zygote forks a child, replies with the child's pid, and reaps
children as they exit. The child enters isolation
(:func:`autograder.seam.isolation.enter_sandbox`), points stdout and stderr at
the output pipe, and serves the submission (:func:`autograder.seam.sandbox.serve_submission`).

Not handled: restarting a zygote that died (the judge worker starts a new one).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys

from autograder.seam import isolation

PRELOAD = ("torch", "numpy", "IPython.core.inputtransformer2", "llmcourse.testing")


class Zygote:
    """The judge's handle on a running fork server."""

    def __init__(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the zygote itself
            parent.close()
            try:
                _serve(child)
            finally:
                os._exit(0)
        child.close()
        self.pid = pid
        self._sock = parent

    def spawn(self, spec: dict, fds: list[int]) -> int:
        """Start one sandbox process; return its pid."""
        socket.send_fds(self._sock, [json.dumps(spec).encode()], fds)
        reply = self._sock.recv(4096)
        if not reply:
            raise RuntimeError("the sandbox fork server has exited")
        return int(json.loads(reply)["pid"])

    def close(self) -> None:
        try:
            self._sock.close()
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (OSError, ChildProcessError):
            pass


def _serve(sock: socket.socket) -> None:  # pragma: no cover - runs in the zygote
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    importlib.import_module("autograder.seam.sandbox")  # preloaded for the children

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 8)
        except OSError:
            return
        if not msg:
            return
        spec = json.loads(msg)
        pid = os.fork()
        if pid == 0:
            sock.close()
            code = 70
            try:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                code = _sandbox_child(spec, fds)
            except BaseException:  # noqa: BLE001 - a child must never return into the zygote loop
                import traceback

                try:
                    os.write(2, traceback.format_exc().encode()[-4000:])
                except OSError:
                    pass
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        sock.send(json.dumps({"pid": pid}).encode())


def _sandbox_child(spec: dict, fds: list[int]) -> int:  # pragma: no cover - runs in the sandbox
    rfd, wfd, out_fd = fds
    slot = None
    if spec.get("slot") is not None:
        s = spec["slot"]
        slot = isolation.Slot(s["index"], s["uid"], s["gid"], lock_fd=-1, workdir=isolation.Path(s["workdir"]))
    isolation.enter_sandbox(slot, spec.get("hide", []), spec.get("limits", {}))
    if slot is None:
        os.chdir(spec["workdir"])
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.environ.clear()
    os.environ.update(spec.get("env", {}))
    sys.stdout = open(1, "w", buffering=1, closefd=False)
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    # torch read OMP_NUM_THREADS when the zygote imported it, before the sandbox's
    # environment existed, so set the thread count the environment asks for here.
    # One thread per sandbox: graders run several sandboxes side by side, and two
    # threads fighting for a core made a small model's training step 5x slower.
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    from autograder.seam import sandbox

    return sandbox.serve_submission(rfd, wfd)
