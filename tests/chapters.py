"""The book's executable chapters, converted for nbval and cached for the book build.

Chapters are MyST Markdown notebooks. ``export_for_nbval`` writes each one as
an ``.ipynb`` under ``_build/nbval/`` using myst-nb's own reader, so the cells
are exactly those the book build hashes. After nbval has executed a chapter
without error, ``store_executed`` puts its outputs into the book's jupyter-cache
(``_build/.jupyter_cache``); ``jupyter-book build`` then finds a cache hit and
does not execute the chapter a second time.

Not handled: chapters written as ``.ipynb`` (none yet) and per-cell cache
metadata beyond what myst-nb hashes by default.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parent.parent
NBVAL_DIR = REPO / "_build" / "nbval"
BOOK_CACHE = REPO / "_build" / ".jupyter_cache"
SOURCE_KEY = "chapter_source"


def toc_files() -> list[Path]:
    """Every page named in _toc.yml, in order."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    names: list[str] = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                names.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in toc.items() if k != "root"})
    paths = []
    for name in names:
        for suffix in (".md", ".ipynb"):
            if (REPO / f"{name}{suffix}").exists():
                paths.append(REPO / f"{name}{suffix}")
                break
        else:
            raise FileNotFoundError(f"_toc.yml names {name}, which does not exist")
    return paths


def read_chapter(path: Path) -> nbformat.NotebookNode:
    """A chapter as the book build reads it (myst-nb's reader)."""
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(path.read_text("utf8"), add_source_map=True, path=str(path))


def executable_chapters() -> list[Path]:
    """Chapters with code cells: MyST notebooks (they carry a kernelspec)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    found = []
    for path in toc_files():
        if path.suffix == ".md" and is_myst_markdown_notebook(path.read_text("utf8")):
            if any(c.cell_type == "code" for c in read_chapter(path).cells):
                found.append(path)
    return found


def export_for_nbval() -> list[Path]:
    """Write every executable chapter as .ipynb under _build/nbval/; return the paths."""
    written = []
    for path in executable_chapters():
        nb = read_chapter(path)
        nb.metadata[SOURCE_KEY] = str(path.relative_to(REPO))
        out = NBVAL_DIR / path.relative_to(REPO).with_suffix(".ipynb")
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
        written.append(out)
    return written


def store_executed(source: str, outputs: list[list[dict]]) -> None:
    """Cache the outputs of chapter ``source``'s code cells, in order, for the book build."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    path = REPO / source
    nb = read_chapter(path)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if len(code_cells) != len(outputs):
        raise ValueError(f"{source}: {len(outputs)} executed cells for {len(code_cells)} code cells")
    for cell, cell_outputs in zip(code_cells, outputs):
        cell.outputs = [nbformat.from_dict(o) for o in cell_outputs]
    for attempt in range(20):  # xdist workers may write the SQLite cache at once
        try:
            get_cache(str(BOOK_CACHE)).cache_notebook_bundle(
                CacheBundleIn(nb, str(path)), check_validity=False, overwrite=True
            )
            return
        except Exception as exc:  # sqlite "database is locked" surfaces as several types
            if "locked" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.25)
