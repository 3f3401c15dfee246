"""How long the site takes to build from clean, and to rebuild after one edit.

``make bench-build`` runs this. It copies the repository to a temporary folder
(without .venv, _build, .git and caches), then:

1. builds the site there from clean: empty execution cache, so every chapter's
   code runs (``jupyter-book build . --warningiserror --nitpick --keep-going``,
   as ``make book`` does);
2. appends a sentence to a Markdown paragraph of one executable chapter (code
   unchanged, so the execution cache still holds) and builds again;

and prints the wall time of each, their ratio, and how many notebooks each build
executed. The machine's load average is printed too: on a shared machine the
numbers are only as quiet as the machine was.

Not handled: timing a single stage of the build (read, execute, write), and
averaging over repeated runs (run it again for a second sample).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EXCLUDE = {".venv", "_build", ".git", ".pytest_cache", "__pycache__", ".ipynb_checkpoints", ".autograder"}
ADDED = "This sentence was added by the build-time benchmark."


def copy_repo(dest: Path) -> None:
    shutil.copytree(REPO, dest, ignore=lambda _dir, names: [n for n in names if n in EXCLUDE], symlinks=True)


def build(root: Path, log: Path) -> tuple[float, int]:
    """Build the book in ``root``; return (wall seconds, notebooks executed)."""
    cmd = [str(BIN / "jupyter-book"), "build", ".", "--warningiserror", "--nitpick", "--keep-going"]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    took = time.perf_counter() - start
    log.write_text(proc.stdout)
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-4000:])
        raise SystemExit(f"the build failed (exit {proc.returncode}); full log: {log}")
    return took, len(re.findall(r"Executing notebook", proc.stdout))


def first_executable_chapter() -> Path:
    sys.path.insert(0, str(REPO))
    from tests.chapters import executable_chapters

    chapters = executable_chapters()
    if not chapters:
        raise SystemExit("the book has no executable chapter to edit")
    return chapters[0].relative_to(REPO)


def append_sentence(chapter: Path) -> str:
    """Append ADDED to the first prose paragraph after the chapter's title; return that line."""
    lines = chapter.read_text("utf8").splitlines(keepends=True)
    title = next(i for i, line in enumerate(lines) if line.startswith("# "))
    for i in range(title + 1, len(lines)):
        text = lines[i].strip()
        if text and not text.startswith(("#", "```", ":::", "$$", "{", "<", "|", "-", "*", ">")):
            while i + 1 < len(lines) and lines[i + 1].strip():  # to the paragraph's last line
                i += 1
            lines[i] = lines[i].rstrip("\n") + f" {ADDED}\n"
            chapter.write_text("".join(lines), "utf8")
            return lines[i].strip()
    raise SystemExit(f"{chapter}: no prose paragraph after the title")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", type=Path, help="chapter to edit, relative to the repository (default: the first executable one)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and its logs")
    args = parser.parse_args(argv)

    chapter = args.chapter or first_executable_chapter()
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    root = work / "repo"
    try:
        print(f"copying {REPO} to {root} (without {', '.join(sorted(EXCLUDE))})", flush=True)
        copy_repo(root)
        load_before = os.getloadavg()[0]
        print("clean build (execution on, empty cache) ...", flush=True)
        clean, clean_executed = build(root, work / "clean.log")
        edited = append_sentence(root / chapter)
        print(f"edited {chapter}: ...{edited[-90:]}", flush=True)
        print("rebuild ...", flush=True)
        rebuild, rebuild_executed = build(root, work / "rebuild.log")
        load_after = os.getloadavg()[0]
        rows = [
            ("clean build", f"{clean:.1f}", str(clean_executed)),
            (f"rebuild after editing {chapter.name}", f"{rebuild:.1f}", str(rebuild_executed)),
            ("rebuild / clean", f"{rebuild / clean:.2f}", ""),
        ]
        header = ("build", "wall time (s)", "notebooks executed")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        print()
        for row in [header, tuple("-" * w for w in widths), *rows]:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        print(f"\n{os.cpu_count()} cores; load average (1 min) {load_before:.1f} before, {load_after:.1f} after")
        if rebuild_executed:
            print("note: the rebuild executed notebooks again; the execution cache missed")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
