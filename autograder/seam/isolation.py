"""Operating-system isolation for sandbox processes (Linux).

When the grader runs as root, each sandbox gets:

* its own unprivileged user from a pool (``agsbx0``, ``agsbx1``, ...; created on
  first use), held through a lock file for as long as the sandbox lives, so
  that killing every process of that user ends the whole tree, including
  processes that called ``setsid()`` or double-forked;
* a new network namespace (no interface is up: no network at all);
* a new mount namespace in which the hidden suites, the solutions, the git
  history, the course's gradebook and submissions, and the judge's files are
  covered by empty read-only mounts, and ``/tmp`` and ``/dev/shm`` are private;
* a working directory that holds only its own files, owned by that user;
* ``/proc`` read-only, so that the sandbox cannot reset the kernel's record of
  its own peak memory (``clear_refs``), which the judge reads from outside
  (:meth:`autograder.seam.submission.Submission.peak_memory_of`);
* resource limits: address space, processes, file size, open files, CPU time.

Without root (a learner grading their own notebook on a laptop) none of this
is available; the sandbox then runs as the same user in its own session with
the resource limits only, and is killed by process group. ``available()``
tells which mode applies.

Not handled: seccomp system-call filtering, cgroup memory accounting (the
address-space limit bounds each process; the process limit bounds how many).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import os
import pwd
import resource
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

USER_PREFIX = "agsbx"
POOL_SIZE = 64
STATE_DIR = Path("/var/tmp/autograder")  # lock files and working directories

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_NO_NEW_PRIVS = 38
PR_SET_PDEATHSIG = 1

# uids of the slots this process holds, for emergency clean-up (see the judge's watchdog).
HELD_UIDS: set[int] = set()

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def available() -> bool:
    """True when full isolation (users, namespaces) can be used."""
    return os.geteuid() == 0 and os.environ.get("AUTOGRADER_NO_ISOLATION") != "1"


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


@dataclass
class Slot:
    """One sandbox user, locked for the lifetime of one sandbox."""

    index: int
    uid: int
    gid: int
    lock_fd: int
    workdir: Path = field(default=Path("/nonexistent"))

    @property
    def user(self) -> str:
        return f"{USER_PREFIX}{self.index}"

    def release(self) -> None:
        HELD_UIDS.discard(self.uid)
        os.close(self.lock_fd)


def _ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    with open(STATE_DIR / "useradd.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return pwd.getpwnam(name)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", "--user-group", name],
                check=True, capture_output=True,
            )
            return pwd.getpwnam(name)


def acquire_slot() -> Slot:
    """Lock a free sandbox user (creating it if needed) and give it a clean working directory."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(STATE_DIR, 0o711)
    for index in range(POOL_SIZE):
        fd = os.open(STATE_DIR / f"slot{index}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        entry = _ensure_user(f"{USER_PREFIX}{index}")
        slot = Slot(index, entry.pw_uid, entry.pw_gid, fd)
        HELD_UIDS.add(slot.uid)
        kill_user(slot.uid)  # leftovers of a grader that was killed mid-way
        slot.workdir = STATE_DIR / f"work{index}"
        remove_tree(slot.workdir)
        slot.workdir.mkdir(mode=0o700)
        os.chown(slot.workdir, slot.uid, slot.gid)
        return slot
    raise RuntimeError(f"all {POOL_SIZE} sandbox slots are busy")


def remove_tree(path: Path) -> None:
    """Remove a directory tree the sandbox may have made hostile (odd modes, deep nesting)."""
    if not path.exists():
        return
    subprocess.run(["chmod", "-R", "u+rwx", str(path)], capture_output=True)
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], capture_output=True)


def processes_of(uid: int) -> list[int]:
    """PIDs of live processes whose real uid is ``uid`` (zombies, already dead, are left out)."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as fh:
                state = b""
                for line in fh:
                    if line.startswith(b"State:"):
                        state = line.split()[1]
                    elif line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid and state != b"Z":
                            pids.append(int(entry.name))
                        break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return pids


def kill_user(uid: int, attempts: int = 50) -> bool:
    """Kill every process of ``uid``; True when none is left.

    A helper process takes the sandbox's uid and sends SIGKILL to -1 (every
    process that uid may signal): a fork bomb cannot outrun it, because the
    kernel delivers the signal to all of them at once.
    """
    for _ in range(attempts):
        if not processes_of(uid):
            return True
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the helper
            try:
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.01)
    return not processes_of(uid)


def _mount(source, target, fstype, flags, data) -> None:
    _check(
        _libc.mount(
            None if source is None else source.encode(),
            target.encode(),
            None if fstype is None else fstype.encode(),
            ctypes.c_ulong(flags),
            None if data is None else data.encode(),
        ),
        f"mount {target}",
    )


def _expose_interpreter() -> None:
    """Make the Python installation readable when it sits under a private directory.

    Some machines install Python under a root-only home (``/root/.pyenv``). In
    the sandbox's mount namespace, that private directory is replaced by an
    empty tmpfs holding only the interpreter's installation, bind-mounted back:
    the sandbox user can import the standard library and sees nothing else.
    """
    import sys

    base = os.path.realpath(sys.base_prefix)
    blocked = None
    parts = Path(base).parts
    for i in range(2, len(parts) + 1):
        ancestor = os.path.join(*parts[:i])
        if not os.stat(ancestor).st_mode & 0o001:
            blocked = ancestor
            break
    if blocked is None:
        return
    staging = STATE_DIR / "interpreter"
    staging.mkdir(exist_ok=True)
    _mount(base, str(staging), None, MS_BIND | MS_REC, None)
    _mount("tmpfs", blocked, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    os.makedirs(base, mode=0o755, exist_ok=True)
    for i in range(len(Path(blocked).parts) + 1, len(parts) + 1):
        os.chmod(os.path.join(*parts[:i]), 0o755)
    _mount(str(staging), base, None, MS_BIND | MS_REC, None)
    _mount("tmpfs", blocked, "tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=64k,mode=755")


def _private_tmp() -> None:
    """Give the sandbox empty /tmp and /dev/shm, keeping the code it runs on visible.

    When the project or its virtual environment lives under /tmp (a CI clone,
    say), those directories are bind-mounted back into the new /tmp, with the
    hiding mounts inside them kept.
    """
    import sys

    repo = str(Path(__file__).resolve().parents[2])
    keep = sorted({p for p in (os.path.realpath(sys.prefix), repo) if p.startswith("/tmp/")})
    staged = []
    for i, path in enumerate(keep):
        staging = STATE_DIR / f"keep{i}"
        staging.mkdir(exist_ok=True)
        _mount(path, str(staging), None, MS_BIND | MS_REC, None)
        staged.append((staging, path))
    for private in ("/tmp", "/dev/shm"):
        if os.path.isdir(private):
            _mount("tmpfs", private, "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=1777")
    for staging, path in staged:
        os.makedirs(path, exist_ok=True)
        _mount(str(staging), path, None, MS_BIND | MS_REC, None)


def _read_only_proc() -> None:
    """Make /proc read-only in this mount namespace; the judge's own view stays writable.

    Reading (``/proc/self/status``, ``/proc/cpuinfo``) works as before; writes
    such as ``5 > /proc/self/clear_refs``, which would reset the peak resident
    memory the judge measures, fail with EROFS.
    """
    _mount("/proc", "/proc", None, MS_BIND | MS_REC, None)
    _mount(None, "/proc", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def enter_sandbox(slot: Slot | None, hide: list[str], limits: dict) -> None:
    """Called in the sandbox process before any student code: isolate, then drop root.

    With ``slot`` None (no root), only the resource limits are applied.
    """
    os.setsid()
    if slot is not None:
        _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
        _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        for path in hide:
            if os.path.isdir(path):
                _mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=000")
            elif os.path.exists(path):
                _mount("/dev/null", path, None, MS_BIND, None)
        _expose_interpreter()
        _private_tmp()
        _read_only_proc()
        os.chdir(slot.workdir)
        os.setgroups([])
        os.setgid(slot.gid)
        os.setuid(slot.uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(no_new_privs)")
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    apply_limits(limits)


def apply_limits(limits: dict) -> None:
    """Resource limits for this process and its children (soft = hard)."""
    table = {
        "memory_bytes": resource.RLIMIT_AS,
        "file_bytes": resource.RLIMIT_FSIZE,
        "open_files": resource.RLIMIT_NOFILE,
        "processes": resource.RLIMIT_NPROC,
        "cpu_seconds": resource.RLIMIT_CPU,
        "core_bytes": resource.RLIMIT_CORE,
    }
    for key, which in table.items():
        if key in limits:
            value = int(limits[key])
            resource.setrlimit(which, (value, value))
