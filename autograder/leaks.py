"""Find solution code and hidden-test text where learners can see it.

A *fragment* is one distinctive line: a line of a solution block (between
nbgrader's ``### BEGIN SOLUTION`` and ``### END SOLUTION``) or a line of a
hidden test module, stripped, at least ``MIN_LENGTH`` characters long and not
an import. ``find_leaks`` reports every fragment that appears, whitespace
folded, in the text of the files it is given (HTML is also searched with its
tags removed and entities decoded, so highlighted code is caught too).

The held-out questions of the retrieval evaluation set are fragments too,
whatever their length: the week 4 pipeline is graded on them.

A line that the course library (``llmcourse/``) already contains is not a
fragment: learners install and read that library, so such a line is public
whatever else uses it (``tokenizer = CharTokenizer.from_text(text)``).

Not handled: paraphrased or reformatted code, and fragments shorter than
``MIN_LENGTH`` (too generic to tell a leak from a coincidence).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.exercises import Exercise

MIN_LENGTH = 24
TEXT_SUFFIXES = {".html", ".txt", ".js", ".json", ".ipynb", ".md", ".py", ".xml"}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Leak:
    path: Path
    fragment: str
    origin: str


def _fold(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _keep(line: str) -> bool:
    line = line.strip()
    return len(line) >= MIN_LENGTH and not line.startswith(("import ", "from ", "###", "#"))


def solution_fragments(exercise: Exercise) -> set[str]:
    """Distinctive lines of the source notebook's solution blocks."""
    fragments = set()
    for cell in exercise.source_notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and _keep(line):
                fragments.add(_fold(line))
    return fragments


def hidden_test_fragments(exercise: Exercise) -> set[str]:
    """Distinctive lines of the hidden suite (code, inputs, messages)."""
    fragments = set()
    for path in sorted(exercise.suite_dir.glob("*.py")):
        for line in path.read_text().splitlines():
            if _keep(line) and not line.strip().startswith(("def ", "@points", '"""')):
                fragments.add(_fold(line))
    return fragments


def _searchable(path: Path) -> str:
    text = path.read_text("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(text)
            text = "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []))
        except ValueError:
            pass
    folded = _fold(text)
    if path.suffix in {".html", ".xml"}:
        folded += " " + _fold(html.unescape(_TAG.sub("", text)))
    return folded


def find_leaks(roots: list[Path], fragments: dict[str, set[str]]) -> list[Leak]:
    """Every (file, fragment) where a fragment appears in a text file under ``roots``.

    ``fragments`` maps an origin label (e.g. "solution week01/attention") to its lines.
    """
    leaks = []
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix not in TEXT_SUFFIXES:
                continue
            text = _searchable(path)
            for origin, lines in fragments.items():
                leaks += [Leak(path, f, origin) for f in sorted(lines) if f in text]
    return leaks


def public_library_lines() -> set[str]:
    """Every line of the course library's modules, folded: public, so never a leak."""
    import llmcourse

    library = Path(llmcourse.__file__).resolve().parent
    return {_fold(line) for path in sorted(library.rglob("*.py")) for line in path.read_text().splitlines()}


def held_out_questions() -> set[str]:
    """The held-out retrieval questions, which the rag_pipeline suite grades on: learners must never see them."""
    from llmcourse.book_sections import load_sections
    from llmcourse.rag_eval import SPLITS, read_questions

    return {_fold(q.question) for q in read_questions(SPLITS["heldout"], load_sections())}


def fragments_for(exercises: list[Exercise]) -> dict[str, set[str]]:
    public = public_library_lines()
    found = {"held-out questions": held_out_questions()}
    for ex in exercises:
        found[f"solution {ex.id}"] = solution_fragments(ex) - public
        found[f"hidden tests {ex.id}"] = hidden_test_fragments(ex) - public
    return found
