"""The frozen retrieval corpus: how a built page becomes sections, and the snapshot's integrity."""

import json

import pytest

from llmcourse.book_sections import MIN_CHARS, load_sections, sections_of_page

FILLER = "Attention weighs every value by how well its key matches the query. " * 4

PAGE = f"""<html><body><nav>site navigation</nav><article class="bd-article">
<section id="the-page"><h1>The page<a class="headerlink" href="#the-page">#</a></h1>
<p>Intro text that belongs to no h2 section.</p>
<section id="first-part"><h2>First part<a class="headerlink">#</a></h2>
<p>{FILLER}</p><p>The score is
\\(q \\cdot k\\) divided by \\(\\sqrt{{d}}\\).</p>
<div class="cell_input"><pre>print("code is dropped")</pre></div>
<div class="cell_output"><pre>T | time
64 | 0.1</pre></div>
<section id="a-subsection"><h3>A subsection</h3><ul><li>one item</li><li>two items</li></ul></section>
</section>
<section id="too-short"><h2>Too short</h2><p>Only a line.</p></section>
<section id="references"><h2>References</h2><p>{FILLER}</p></section>
</section></article></body></html>"""


def test_a_page_becomes_one_document_per_h2_section():
    sections = sections_of_page(PAGE, "week09/demo")
    assert [s.id for s in sections] == ["week09/demo#first-part"]
    first = sections[0]
    assert first.url == "book/week09/demo.html#first-part"
    assert (first.title, first.page_title) == ("First part", "The page")
    text = first.text
    assert text.startswith("First part\n\nAttention weighs")
    assert "The score is q \\cdot k divided by \\sqrt{d}." in text  # one line, math delimiters gone
    assert "code is dropped" not in text and "navigation" not in text and "#" not in text
    assert "T | time\n64 | 0.1" in text  # printed output keeps its line breaks
    assert "A subsection" in text and "one item\n\ntwo items" in text  # h3 stays inside its h2


def test_a_page_that_is_not_a_jupyter_book_page_is_refused():
    with pytest.raises(ValueError, match="not a Jupyter Book 1 page"):
        sections_of_page("<html><body><p>hello</p></body></html>", "week09/demo")


def test_the_snapshot_is_whole_and_its_ids_unique():
    sections = load_sections()
    ids = [s.id for s in sections]
    assert len(ids) == len(set(ids)) > 100
    assert all(len(s.text) >= MIN_CHARS and s.url.endswith(s.id.split("#")[1]) for s in sections)


def test_a_truncated_snapshot_is_reported(tmp_path):
    path = tmp_path / "cut.jsonl"
    record = {"id": "a#b", "chapter": "a", "page_title": "A", "title": "B", "url": "book/a.html#b", "text": "x"}
    path.write_text(json.dumps({"snapshot_of_commit": "abc", "sections": 2}) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(ValueError, match="promises 2 sections, found 1"):
        load_sections(path)
    with pytest.raises(FileNotFoundError, match="ships with the course package"):
        load_sections(tmp_path / "absent.jsonl")
