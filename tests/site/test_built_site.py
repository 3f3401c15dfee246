"""Checks on the built site (_build/html), run after `jupyter-book build`.

These read the HTML the build wrote; the real-browser checks are in
test_browser.py. Run through tests/run.py, which builds the site first; set
COURSE_SITE_HTML to check another build (see tests/site/paths.py).
"""

import re
from pathlib import Path

import pytest

from autograder.exercises import all_exercises
from autograder.leaks import find_leaks, fragments_for
from tests.chapters import REPO, executable_chapters, toc_files
from tests.site.paths import HTML, site_pages

pytestmark = pytest.mark.skipif(not (HTML / "index.html").exists(), reason="the site is not built")


def page(source: Path) -> Path:
    return HTML / source.relative_to(REPO).with_suffix(".html")


def test_every_toc_page_is_built():
    missing = [str(p) for p in toc_files() if not page(p).exists()]
    assert not missing


def test_no_solution_or_hidden_test_text_in_site():
    leaks = find_leaks([HTML], fragments_for(all_exercises()))
    assert not leaks, "\n".join(f"{l.path}: {l.origin}: {l.fragment}" for l in leaks[:20])


def test_executed_chapters_show_outputs_and_plots_with_alt_text():
    for chapter in executable_chapters():
        text = page(chapter).read_text()
        assert "cell_output" in text, f"{chapter} shows no executed output"
        images = re.findall(r"<img[^>]*>", text)
        assert images, f"{chapter} shows no plot"
        for img in images:
            alt = re.search(r'alt="([^"]*)"', img)
            assert alt and alt.group(1).strip(), f"an image in {chapter} has no alt text: {img[:120]}"


def test_every_image_on_every_page_has_alt_text():
    """Plots, figures and the theme's own images (logos, launch icons) alike."""
    missing = []
    for path in site_pages():
        for img in re.findall(r"<img\b[^>]*>", path.read_text()):
            alt = re.search(r'\balt="([^"]*)"', img)
            if not (alt and alt.group(1).strip()):
                missing.append(f"{path.relative_to(HTML)}: {img[:120]}")
    assert not missing, "images without alt text:\n" + "\n".join(missing)


def test_every_reference_is_listed_and_cited():
    bib = (REPO / "book" / "references.bib").read_text()
    keys = re.findall(r"@\w+\{([^,]+),", bib)
    assert len(keys) >= 22
    refs = (HTML / "book" / "references.html").read_text()
    listed = re.findall(r'<div class="citation" id="id\d+"', refs) or re.findall(r'class="citation"', refs)
    assert len(listed) == len(keys)
    sources = "\n".join(p.read_text() for p in (REPO / "book").rglob("*.md") if p.name != "references.md")
    uncited = [k for k in keys if k not in sources]
    assert not uncited


def test_exercise_download_links_deliver_the_released_notebook():
    for ex in all_exercises():
        downloads = list((HTML / "_downloads").rglob(ex.release_path.name))
        assert downloads, f"the site offers no download of {ex.release_path.name}"
        assert any(d.read_bytes() == ex.release_path.read_bytes() for d in downloads)
