"""A small English corpus the course owns: the prose of its own chapters.

Defined for the tokenization chapter (``book/week01/tokenization.md``), where
a BPE tokenizer is trained on it, and for the ``week01/bpe`` exercise and its
hidden tests; any later chapter that needs real text without a download (for
example a retrieval index) can use it too.

What it does:

* reads every ``book/**/*.md`` file of the repository, in sorted path order,
  so the same checkout always gives the same text;
* drops YAML front matter, executable code cells (```` ```{code-cell} ````),
  plain code fences (```` ```python ````, ```` ```bash ````, ...), directives
  that hold no prose (``{bibliography}``, ``{toctree}``, ``{code-block}``,
  ...), the option lines of the directives it keeps (a dropdown's title and
  body stay), MyST comments (``% ...``), HTML comments and label lines
  (``(name)=``);
* collapses runs of blank lines, and joins the files with a blank line;
* ``course_text(max_chars)`` cuts the result to at most ``max_chars``
  characters (300 000 by default: a few hundred kilobytes at most).

What it does not do:

* it is prose *with markup*, not clean plain text: inline roles such as
  ``{cite}`key` ``, inline code, Markdown links and emphasis, tables and
  LaTeX math (``$...$``, ``$$...$$``) are kept verbatim;
* it follows the chapters as they are on disk, so the text changes whenever a
  chapter is edited: use it where any English text will do, never as a source
  of fixed expected values;
* it needs the repository's ``book/`` folder next to this package (the
  editable install the course sets up); installed elsewhere it raises
  ``FileNotFoundError`` rather than returning an empty string;
* it does not strip Markdown pages that are not listed in ``_toc.yml``.
"""

from __future__ import annotations

import re
from pathlib import Path

BOOK_DIR = Path(__file__).resolve().parent.parent / "book"
DEFAULT_MAX_CHARS = 300_000

# Directives whose body is code or configuration, never prose.
_NON_PROSE = {
    "code-cell", "code", "code-block", "sourcecode", "literalinclude", "bibliography",
    "toctree", "tableofcontents", "raw", "eval-rst", "glue:figure", "glue:any",
}
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}|:{3,})\s*(\{([^}]*)\})?\s*(.*)$")
_OPTION = re.compile(r"^\s*:[\w-]+:")
_LABEL = re.compile(r"^\s*\([\w.-]+\)=\s*$")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _strip_front_matter(text: str) -> str:
    lines = text.splitlines(keepends=True)
    if lines and lines[0].strip() == "---":
        for k in range(1, len(lines)):
            if lines[k].strip() == "---":
                return "".join(lines[k + 1 :])
    return text


def _prose_lines(lines: list[str]) -> list[str]:
    """Keep the prose of ``lines``; drop code fences and non-prose directives."""
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _FENCE.match(line)
        if not match:
            if not (line.lstrip().startswith("%") or _LABEL.match(line)):
                kept.append(line)
            i += 1
            continue
        fence, directive, title = match.group(2), match.group(4), match.group(5)
        # Find the closing fence: same character, at least as long, nothing else on the line.
        j = i + 1
        while j < len(lines):
            closing = lines[j].strip()
            if closing and set(closing) == {fence[0]} and len(closing) >= len(fence):
                break
            j += 1
        body = lines[i + 1 : j]
        if directive is not None and directive.strip() not in _NON_PROSE:
            # A directive with prose inside (dropdown, note, figure caption): keep its
            # title and body, without the option lines or a YAML option block.
            if body and body[0].strip() == "---":
                end = next((k for k in range(1, len(body)) if body[k].strip() == "---"), 0)
                body = body[end + 1 :]
            while body and _OPTION.match(body[0]):
                body = body[1:]
            if title.strip():
                kept.append(title.strip())
                kept.append("")
            kept.extend(_prose_lines(body))
        i = j + 1
    return kept


def clean_markdown(text: str) -> str:
    """The prose of one MyST Markdown page (see the module docstring for what is kept)."""
    text = _HTML_COMMENT.sub("", _strip_front_matter(text))
    prose = "\n".join(_prose_lines(text.splitlines()))
    return re.sub(r"\n{3,}", "\n\n", prose).strip()


def course_documents(book_dir: Path | None = None) -> dict[str, str]:
    """Each Markdown page's prose, keyed by its path relative to ``book/``, in sorted order."""
    root = Path(book_dir) if book_dir is not None else BOOK_DIR
    paths = sorted(root.rglob("*.md"))
    if not paths:
        raise FileNotFoundError(
            f"no Markdown chapters under {root}: llmcourse.corpus needs the course repository's book/ folder"
        )
    documents = {}
    for path in paths:
        prose = clean_markdown(path.read_text("utf-8"))
        if prose:
            documents[path.relative_to(root).as_posix()] = prose
    return documents


def course_text(max_chars: int | None = DEFAULT_MAX_CHARS, book_dir: Path | None = None) -> str:
    """The course's chapters as one English text, at most ``max_chars`` characters long.

    ``max_chars=None`` returns everything. The pages are joined in sorted path
    order with a blank line between them.
    """
    text = "\n\n".join(course_documents(book_dir).values())
    return text if max_chars is None else text[:max_chars]


# A frozen copy of the text, for what must not move when a chapter is edited.
SNAPSHOT_PATH = Path(__file__).resolve().parent / "data" / "course_text_snapshot.txt"


def snapshot_text() -> str:
    """A frozen snapshot of :func:`course_text`, shipped with the package.

    The tiny GPT (``llmcourse.gpt.pretrained``) and the ``week01/tiny_gpt``
    exercise train on it, so that their weights, cached models and stated
    loss targets stay put while the chapters change. Refresh it on purpose
    with :func:`write_snapshot` (every cached model then retrains once).
    """
    return SNAPSHOT_PATH.read_text(encoding="utf8")


def write_snapshot(max_chars: int = 200_000) -> Path:
    """Freeze the current chapters' text (its first ``max_chars`` characters) as the snapshot."""
    SNAPSHOT_PATH.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT_PATH.write_text(course_text(max_chars), encoding="utf8")
    return SNAPSHOT_PATH
