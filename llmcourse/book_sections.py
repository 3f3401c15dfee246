"""The book as a retrieval corpus: one document per section of a built chapter.

Weeks 3-4 search the course's own site, so the corpus is what a reader sees:
the HTML that ``jupyter-book build`` writes, with executed outputs and glued
numbers in place, not the Markdown sources. Each document is one section of a
chapter (an ``<h2>`` with everything under it, its ``<h3>`` subsections
included), identified by the page and the section's HTML anchor, so that a
citation is a link a reader can follow: ``book/week01/attention.html#the-math-derived``.

The evaluation set's relevance judgments (``llmcourse/data/rag_eval/``) name
these identifiers, so the corpus is frozen: :func:`load_sections` reads the
snapshot ``llmcourse/data/book_sections.jsonl``, taken by
``python -m llmcourse.book_sections _build/html`` from a build of the commit
named in the snapshot's first record. Editing a chapter later does not move
the evaluation; retaking the snapshot means re-checking the judgments
(``tests/test_rag_eval_data.py`` finds every evidence sentence that no longer
exists).

What it keeps: headings, paragraphs, lists, tables, admonitions and dropdowns
(interview answers included), math as its TeX source, and the text printed by
code cells. What it drops: code cell inputs, images, the page's navigation,
the bibliography, and sections whose text is shorter than ``MIN_CHARS``.

What it does not handle: pages outside ``book/week*/`` (the front page and
the glossary are not part of the corpus) or HTML written by another theme
than Jupyter Book 1's.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SNAPSHOT = DATA_DIR / "book_sections.jsonl"
MIN_CHARS = 200  # a heading with a sentence under it is not worth retrieving

_DROP = "div.cell_input, img, figure img, .headerlink, .toggle-details__summary svg, div.bibliography, nav"


@dataclass(frozen=True)
class Section:
    """One retrievable document: a section of a chapter."""

    id: str        # "week01/attention#the-math-derived"
    chapter: str   # "week01/attention"
    page_title: str
    title: str     # the section heading
    url: str       # relative to the site root
    text: str


_BLOCKS = ["p", "li", "h3", "h4", "h5", "pre", "tr", "dt", "dd", "div", "blockquote", "summary"]
_BREAK = "\x00"  # marks the end of a block element while the text is flattened
_LINE = "\x01"  # a line break inside <pre>, kept through the flattening
_MATH_DELIMITERS = re.compile(r"\\[()\[\]]")


def _clean(text: str) -> str:
    """One space between words, a blank line between blocks, math without its delimiters."""
    text = _MATH_DELIMITERS.sub("", text.replace("\u00b6", ""))
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*\x00[\s\x00]*", "\n\n", text)
    return text.strip()


def _flatten(node) -> str:
    """The text of ``node`` with a break after every block element (HTML wraps lines anywhere)."""
    for pre in node.find_all("pre"):  # printed tables keep their line breaks
        pre.string = pre.get_text("").strip("\n").replace("\n", _LINE)
    for block in node.find_all(_BLOCKS):
        block.append(_BREAK)
    return _clean(node.get_text("")).replace(_LINE, "\n")


def sections_of_page(html: str, chapter: str) -> list[Section]:
    """The ``<h2>`` sections of one built chapter page, in page order."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    article = soup.select_one("article.bd-article")
    if article is None:
        raise ValueError(f"{chapter}: no <article class='bd-article'>: not a Jupyter Book 1 page")
    for node in article.select(_DROP):
        node.decompose()
    h1 = article.find("h1")
    page_title = _clean(h1.get_text("")).rstrip("#").strip() if h1 else chapter
    found = []
    for section in article.find_all("section"):
        heading = section.find(["h2"], recursive=False)
        if heading is None or not section.get("id"):
            continue
        title = _clean(heading.get_text("")).rstrip("#").strip()
        heading.decompose()
        text = _flatten(section)
        if title.lower() == "references" or len(text) < MIN_CHARS:
            continue
        anchor = section["id"]
        found.append(Section(
            id=f"{chapter}#{anchor}", chapter=chapter, page_title=page_title, title=title,
            url=f"book/{chapter}.html#{anchor}", text=f"{title}\n\n{text}",
        ))
    return found


def sections_of_site(html_dir: Path) -> list[Section]:
    """Every section of every ``book/week*/`` page of a built site, in path order."""
    pages = sorted((Path(html_dir) / "book").glob("week*/*.html"))
    if not pages:
        raise FileNotFoundError(f"no built chapters under {html_dir}/book/week*/: run `make book` first")
    sections = []
    for page in pages:
        chapter = f"{page.parent.name}/{page.stem}"
        sections.extend(sections_of_page(page.read_text(encoding="utf-8"), chapter))
    return sections


def write_snapshot(html_dir: Path, commit: str, path: Path = SNAPSHOT) -> int:
    """Freeze the built site's sections into ``path``; returns how many were written."""
    sections = sections_of_site(html_dir)
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"snapshot_of_commit": commit, "sections": len(sections)}) + "\n")
        for section in sections:
            out.write(json.dumps(asdict(section), ensure_ascii=False) + "\n")
    return len(sections)


def load_sections(path: Path = SNAPSHOT) -> list[Section]:
    """The frozen corpus, in the order it was written."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the corpus snapshot ships with the course package")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    sections = [Section(**json.loads(line)) for line in lines[1:]]
    if len(sections) != header["sections"]:
        raise ValueError(f"{path}: header promises {header['sections']} sections, found {len(sections)}")
    return sections


if __name__ == "__main__":  # python -m llmcourse.book_sections _build/html <commit>
    import subprocess

    site = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"{write_snapshot(site, sys.argv[2] if len(sys.argv) > 2 else head)} sections written to {SNAPSHOT}")
