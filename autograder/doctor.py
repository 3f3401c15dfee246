"""The learner's set-up check: is this machine ready for the course?

``run_checks()`` looks at the Python running it (the course's ``.venv`` when
started as ``.venv/bin/autograder doctor``) and returns one :class:`Check`
per item, each OK or FIX with what to do:

* Python is 3.11 (what ``pyproject.toml`` requires);
* torch is the pinned version and a CPU build (no CUDA or ROCm: the course
  runs on a laptop CPU, and a GPU build is gigabytes bigger);
* the Jupyter kernel named ``python3`` runs this environment's Python, with
  ipykernel importable;
* torch's thread count is not above the CPU cores this process may use
  (more threads than cores slows everything down);
* every package pinned in ``requirements.txt`` is installed at that version;
* the course's own packages (``llmcourse``, ``autograder``) import from this
  checkout.

Not handled: repairing anything (each FIX says the command to run); GPUs (the
course does not use them); Jupyter installations outside this environment
(start Jupyter as ``.venv/bin/jupyter lab`` and this check covers it).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

from autograder.exercises import REPO_ROOT

PYTHON = (3, 11)
SETUP = "run `make setup` in the course folder (it installs the exact versions in requirements.txt)"


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def read_pins(path: Path) -> dict[str, str]:
    """name -> version for every ``name==version`` line of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[name.strip().split("[")[0]] = version.split(";")[0].strip()
    return pins


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] == PYTHON:
        return Check("Python", True, f"{version} ({sys.executable})")
    return Check(
        "Python", False, f"{version}, the course needs {PYTHON[0]}.{PYTHON[1]}",
        f"install Python {PYTHON[0]}.{PYTHON[1]}, then `make setup PYTHON=python{PYTHON[0]}.{PYTHON[1]}`",
    )


def check_torch(pins: dict[str, str]) -> Check:
    try:
        import torch
    except ImportError:
        return Check("torch", False, "not installed", SETUP)
    from packaging.version import Version

    version = torch.__version__
    wanted = pins.get("torch")
    gpu = [name for name, v in (("CUDA", torch.version.cuda), ("ROCm", getattr(torch.version, "hip", None))) if v]
    problems = []
    if wanted and Version(version).public != Version(wanted).public:
        problems.append(f"the course pins {wanted}")
    if gpu:
        problems.append(f"this is a {gpu[0]} build")
    if not problems:
        return Check("torch", True, f"{version}, CPU build")
    pin = wanted or Version(version).public
    return Check(
        "torch", False, f"{version}: " + "; ".join(problems),
        f".venv/bin/pip install --force-reinstall torch=={pin} --index-url https://download.pytorch.org/whl/cpu",
    )


def _python_prefix(executable: str) -> str | None:
    try:
        done = subprocess.run(
            [executable, "-c", "import sys, ipykernel; print(sys.prefix)"],
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def check_kernel() -> Check:
    install = f"{Path(sys.executable)} -m ipykernel install --sys-prefix --name python3"
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return Check("Jupyter kernel", False, "jupyter_client is not installed here", SETUP)
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        return Check("Jupyter kernel", False, "no kernel named python3", install)
    argv0 = spec.argv[0] if spec.argv else ""
    if argv0 in {"python", "python3", f"python{PYTHON[0]}.{PYTHON[1]}"}:
        return Check(
            "Jupyter kernel", True,
            f"python3 ({spec.resource_dir}) runs the Python that runs Jupyter: start it as .venv/bin/jupyter lab",
        )
    prefix = _python_prefix(argv0)
    if prefix is not None and Path(prefix).resolve() == Path(sys.prefix).resolve():
        return Check("Jupyter kernel", True, f"python3 runs {argv0}")
    why = "cannot import ipykernel" if prefix is None else f"belongs to {prefix}"
    return Check(
        "Jupyter kernel", False, f"python3 ({spec.resource_dir}) runs {argv0}, which {why}, not {sys.prefix}",
        install + (f" (or remove {spec.resource_dir}, which shadows it)" if not str(spec.resource_dir).startswith(sys.prefix) else ""),
    )


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def check_threads() -> Check:
    try:
        import torch
    except ImportError:
        return Check("threads", False, "torch is not installed", SETUP)
    threads, cores = torch.get_num_threads(), usable_cores()
    if threads > cores:
        return Check(
            "threads", False, f"torch uses {threads} threads on {cores} cores (oversubscribed: slower)",
            f"export OMP_NUM_THREADS={cores} before starting Jupyter (or unset it)",
        )
    note = "" if threads == cores else f"; `export OMP_NUM_THREADS={cores}` would use them all"
    return Check("threads", True, f"torch uses {threads} thread(s) on {cores} core(s){note}")


def check_packages(requirements: Path) -> Check:
    from importlib import metadata

    from packaging.version import InvalidVersion, Version

    if not requirements.exists():
        return Check("packages", False, f"{requirements} not found", "run this from the course's own checkout")
    pins = read_pins(requirements)
    wrong = []
    for name, wanted in sorted(pins.items(), key=lambda kv: kv[0].lower()):
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name} missing (wants {wanted})")
            continue
        try:
            same = Version(have).public == Version(wanted).public
        except InvalidVersion:
            same = have == wanted
        if not same:
            wrong.append(f"{name} {have} (wants {wanted})")
    if not wrong:
        return Check("packages", True, f"all {len(pins)} pinned packages at their versions")
    shown = ", ".join(wrong[:8]) + (f" and {len(wrong) - 8} more" if len(wrong) > 8 else "")
    return Check("packages", False, f"{len(wrong)} of {len(pins)} differ from requirements.txt: {shown}", SETUP)


def check_course_packages() -> Check:
    import importlib

    where = []
    for name in ("llmcourse", "autograder"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            return Check("course packages", False, f"{name} does not import", SETUP)
        where.append(Path(module.__file__).resolve().parent.parent)
    if all(w == REPO_ROOT for w in where):
        return Check("course packages", True, f"llmcourse and autograder from {REPO_ROOT}")
    return Check("course packages", False, f"they import from {sorted(set(map(str, where)))}", SETUP)


def run_checks(requirements: Path | None = None) -> list[Check]:
    requirements = requirements or REPO_ROOT / "requirements.txt"
    pins = read_pins(requirements) if requirements.exists() else {}
    return [
        check_python(),
        check_torch(pins),
        check_kernel(),
        check_threads(),
        check_packages(requirements),
        check_course_packages(),
    ]


def format_checks(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{'OK ' if c.ok else 'FIX'}  {c.name:<{width}}  {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"     {'':<{width}}  -> {c.fix}")
    fixes = sum(not c.ok for c in checks)
    lines.append("All set." if not fixes else f"{fixes} thing(s) to fix.")
    return "\n".join(lines)
