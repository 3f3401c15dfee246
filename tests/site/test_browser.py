"""The built site in a real browser, offline: what a reader sees.

Debian's Chromium (``/usr/bin/chromium``; ``.ci/run`` installs it) driven by
Playwright's Python package, never a browser Playwright downloads. A fixture
serves the built HTML (tests/site/paths.py) on 127.0.0.1 at a free port; a
Playwright route aborts and records every request to any other host, so a page
that needs the network fails here. Checks: the landing page, the sidebar path
through every week, search, executed outputs and plots, math typeset by the
site's own MathJax, the exercise downloads, citations, a phone-width viewport,
and no blocked or failed request and no console error on any page. Screenshots
of key pages go to ``_build/screenshots/`` (tests/site/paths.py).

Every page of the site is loaded once (the ``crawl`` fixture) and several
checks read what that pass recorded, which keeps the suite fast; Playwright's
routing turns the browser's HTTP cache off, so each load fetches its assets.

Not handled: other browser engines, and how pages look (a person checks the
screenshots).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from autograder.exercises import all_exercises
from autograder.leaks import find_leaks, fragments_for
from tests.chapters import REPO, executable_chapters, toc_files
from tests.site.paths import HTML, SCREENSHOTS, page_for, site_pages

pytestmark = pytest.mark.skipif(not (HTML / "index.html").exists(), reason="the site is not built")

CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Every URL that is not on a local host. Routing only these keeps the local requests
# out of the Python handler (the pattern is matched in Playwright's driver).
NON_LOCAL = re.compile(r"^(?!(?:https?|wss?)://(?:127\.0\.0\.1|localhost)(?::\d+)?/)")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# Pixels a page may exceed the viewport's width by (sub-pixel rounding).
OVERFLOW_MARGIN = 2
TIMEOUT_MS = 15_000

# Search term -> pages the Sphinx search must return for it. A term is checked only
# when at least one of its pages is in the book; each of its pages that is in the
# book must be among the results. Add a chapter's page here when the chapter lands.
# (Each term costs a page load: keep the list short.)
SEARCH_EXPECTATIONS: dict[str, list[str]] = {
    "attention": ["book/week01/attention"],
    "scaled dot-product": ["book/week01/attention"],
    "nucleus": ["book/week01/decoding"],
    "RoPE": ["book/week02/positional_encoding"],
    "KV cache": ["book/week06/overview", "book/week06/kv_cache"],
    "recall@k": ["book/week04/overview", "book/week04/retrieval_evaluation"],
    "HNSW": ["book/week03/hnsw"],
    "BM25": ["book/week04/hybrid_retrieval"],
    "InfoNCE": ["book/week03/contrastive"],
    "LoRA": ["book/week05/lora"],
}
# TeX source that shows in a page's text only when math was not typeset.
RAW_TEX = re.compile(r"\$\$|\\\[|\\\]|\\\(|\\\)|\\(?:frac|sqrt|operatorname|sum|mathbf|top|begin|end)\b")


# --- the site on a local port -------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real web server
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".ipynb": "application/x-ipynb+json"}

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@pytest.fixture(scope="module")
def site_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(HTML)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# --- the browser, with every non-local request blocked and recorded -----------------


@dataclass
class Traffic:
    """What went wrong in one browser context, each line naming the page or URL."""

    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def mark(self) -> tuple[int, int, int]:
        return len(self.blocked), len(self.failed), len(self.console_errors)

    def problems(self, since: tuple[int, int, int] = (0, 0, 0)) -> list[str]:
        return (
            [f"blocked non-local request: {x}" for x in self.blocked[since[0]:]]
            + [f"failed request: {x}" for x in self.failed[since[1]:]]
            + [f"console error: {x}" for x in self.console_errors[since[2]:]]
        )


@dataclass
class Session:
    """A browser context (its own cookies, storage, viewport) and its traffic."""

    context: object
    traffic: Traffic


def assert_clean(session: Session, since: tuple[int, int, int]) -> None:
    problems = session.traffic.problems(since)
    assert not problems, "\n".join(problems[:40])


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def open_session(browser, **options) -> Session:
    """A context whose requests may reach 127.0.0.1 only; all else is aborted and recorded."""
    traffic = Traffic()
    context = browser.new_context(accept_downloads=True, **options)
    context.set_default_timeout(TIMEOUT_MS)

    def route(route):
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            try:
                origin = route.request.frame.url
            except Exception:  # a request from a worker has no frame
                origin = "?"
            traffic.blocked.append(f"{url} (from {origin})")
            route.abort("blockedbyclient")

    def on_failed(request):
        # ERR_ABORTED: the page navigated away while a request was in flight (the test
        # moved on); a missing file shows as an HTTP error status instead.
        if urlsplit(request.url).hostname in LOCAL_HOSTS and "ERR_ABORTED" not in (request.failure or ""):
            traffic.failed.append(f"{request.url}: {request.failure}")

    def on_response(response):
        if response.status >= 400:
            traffic.failed.append(f"{response.url}: HTTP {response.status}")

    def on_console(message):
        if message.type == "error":
            page = message.page.url if message.page else "?"
            traffic.console_errors.append(f"{page}: {message.text}")

    def on_page(page):
        page.on("pageerror", lambda error: traffic.console_errors.append(f"{page.url}: uncaught {error}"))

    context.route(NON_LOCAL, route)
    context.on("requestfailed", on_failed)
    context.on("response", on_response)
    context.on("console", on_console)
    context.on("page", on_page)
    return Session(context, traffic)


@pytest.fixture(scope="module")
def desktop(browser):
    session = open_session(browser, viewport=DESKTOP)
    yield session
    session.context.close()


def settle(page) -> None:
    """Wait until the page is loaded, MathJax has typeset it and its fonts are in."""
    page.wait_for_load_state("load")
    page.evaluate(
        """async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
            await document.fonts.ready;
        }"""
    )


def goto(page, url: str) -> None:
    page.goto(url, wait_until="load")
    settle(page)


def screenshot(page, name: str, **options) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), **options)
    return path


def url_of(site_url: str, page: Path) -> str:
    return urljoin(site_url, page.relative_to(HTML).as_posix())


def site_path(site_url: str, url: str) -> str:
    """``book/x.html`` for a URL of the local site."""
    path = unquote(urlsplit(url).path)
    return path[len(urlsplit(site_url).path):].lstrip("/")


# --- one pass over every page ---------------------------------------------------------

PAGE_FACTS = """() => {
    const article = document.querySelector('article.bd-article') || document.body;
    // Prose only: code, cell inputs and outputs may print TeX verbatim (a passage quoted from the book).
    // Hide them while reading innerText; cutting their text out of the page's string instead would
    // also cut every other occurrence of a short inline-code word and leave outputs half removed.
    const verbatim = [...article.querySelectorAll('pre, code, .cell_input, .cell_output')];
    const shown = verbatim.map(e => e.style.display);
    verbatim.forEach(e => { e.style.display = 'none'; });
    const text = article.innerText;
    verbatim.forEach((e, i) => { e.style.display = shown[i]; });
    return {
        ids: [...document.querySelectorAll('[id]')].map(e => e.id)
             .concat([...document.querySelectorAll('a[name]')].map(e => e.name)),
        citationIds: [...document.querySelectorAll('.citation[id]')].map(e => e.id),
        math: document.querySelectorAll('.math').length,
        untypeset: [...document.querySelectorAll('.math')].filter(e => !e.querySelector('mjx-container'))
                   .map(e => e.textContent.slice(0, 80)),
        mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 80)),
        proseText: text,
        images: [...document.images].map(i => ({src: i.currentSrc || i.src, alt: i.alt,
                                                 complete: i.complete, width: i.naturalWidth})),
        citations: [...document.querySelectorAll('a[href*="references.html#"], a.citation-reference')]
                   .map(a => ({href: a.href, text: a.innerText})),
        downloads: [...document.querySelectorAll('article a[download]')].map(a => a.href),
        dropdowns: document.querySelectorAll('article details').length,
        outputs: document.querySelectorAll('.cell_output').length,
        firstOutputVisible: [...document.querySelectorAll('.cell_output')].slice(0, 1).some(e => e.checkVisibility()),
        plots: [...document.querySelectorAll('.cell_output img')].map(i => ({src: i.src, alt: i.alt,
                                                                         complete: i.complete, width: i.naturalWidth})),
    };
}"""

PHONE_FACTS = """(limit) => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    wide: [...document.querySelectorAll('article *')]
          .filter(e => e.getBoundingClientRect().right > limit && e.getBoundingClientRect().width > 0)
          .filter(e => { for (let a = e.parentElement; a && a.tagName !== 'ARTICLE'; a = a.parentElement)
                           if (getComputedStyle(a).overflowX !== 'visible') return false;
                         return true; })
          .slice(0, 3).map(e => e.tagName.toLowerCase() + ': ' + (e.textContent || '').slice(0, 60)),
    menuToggle: [...document.querySelectorAll('button.primary-toggle')].some(b => b.checkVisibility()),
})"""


# The first lines of folded dropdowns (<details>) whose content does not show.
FOLDED_CONTENT = """() => [...document.querySelectorAll('article details')]
    .filter(d => [...d.children].some(c => c.tagName !== 'SUMMARY' && !c.checkVisibility()))
    .map(d => d.innerText.slice(0, 60))"""

# Pages photographed at desktop width during the crawl: site path -> screenshot name.
CRAWL_SCREENSHOTS = {"book/week01/attention.html": "attention"}


@pytest.fixture(scope="module")
def crawl(desktop, site_url):
    """Every page of the site loaded once: ({site path: facts}, problems seen meanwhile).

    Each page is measured in a desktop-width window and, resized without a reload,
    at a phone's width (its width, whether the menu toggle shows). Pages alternate
    which size they load at, so the window is resized once per page.
    """
    since = desktop.traffic.mark()
    page = desktop.context.new_page()
    size = DESKTOP
    page.set_viewport_size(size)
    facts = {}
    for path in site_pages(redirects=False):
        name = path.relative_to(HTML).as_posix()
        goto(page, url_of(site_url, path))
        found = {}
        for step in range(2):
            if size is DESKTOP:
                found.update(_desktop_facts(page, name))
            else:
                found["phone"] = page.evaluate(PHONE_FACTS, PHONE["width"] + OVERFLOW_MARGIN)
            if step == 0:  # now the other size
                size = PHONE if size is DESKTOP else DESKTOP
                page.set_viewport_size(size)
        facts[name] = found
    page.close()
    return facts, desktop.traffic.problems(since)


def _desktop_facts(page, name: str) -> dict:
    found = page.evaluate(PAGE_FACTS)
    found["foldedInPrint"] = []
    if found["dropdowns"]:
        page.emulate_media(media="print")
        found["foldedInPrint"] = page.evaluate(FOLDED_CONTENT)
        page.emulate_media(media="null")
    if name in CRAWL_SCREENSHOTS:
        screenshot(page, CRAWL_SCREENSHOTS[name])
        if found["plots"]:
            page.locator(".cell_output img").first.scroll_into_view_if_needed()
            screenshot(page, f"{CRAWL_SCREENSHOTS[name]}-plot")
    return found


def test_every_page_loads_with_no_blocked_or_failed_request_and_no_console_error(crawl):
    facts, problems = crawl
    assert len(facts) >= len(toc_files())
    assert not problems, "\n".join(problems[:40])


def test_math_is_typeset_by_the_local_mathjax(crawl):
    facts, _ = crawl
    with_math = {path: f for path, f in facts.items() if f["math"]}
    assert "book/week01/attention.html" in with_math, "the attention chapter has no math to check"
    problems = []
    for path, f in with_math.items():
        problems += [f"{path}: not typeset: {m!r}" for m in f["untypeset"]]
        problems += [f"{path}: MathJax error: {m!r}" for m in f["mathErrors"]]
    for path, f in facts.items():
        problems += [f"{path}: raw TeX in the text: {m.group(0)!r}" for m in RAW_TEX.finditer(f["proseText"])]
    assert not problems, "\n".join(problems[:40])


def test_every_image_loads(crawl):
    facts, _ = crawl
    broken = [
        f"{path}: {img['src']}" for path, f in facts.items() for img in f["images"]
        if not (img["complete"] and img["width"] > 0)
    ]
    assert not broken, "images that did not load:\n" + "\n".join(broken)


def test_every_citation_links_to_an_entry_on_the_references_page(crawl, site_url):
    facts, _ = crawl
    citations = [(path, c) for path, f in facts.items() for c in f["citations"]]
    assert citations, "no citation links found on any page (did the markup change?)"
    problems = []
    for path, citation in citations:
        target = facts.get(site_path(site_url, citation["href"]))
        where = f"{path}: {citation['text']!r} -> {citation['href']}"
        if target is None:
            problems.append(f"{where}: no such page")
        elif urlsplit(citation["href"]).fragment not in target["citationIds"]:
            problems.append(f"{where}: no reference entry with that id")
    assert not problems, "\n".join(problems[:40])


def test_every_page_fits_a_phone_width_and_shows_the_menu_toggle(crawl):
    facts, _ = crawl
    problems = []
    for path, f in facts.items():
        phone = f["phone"]
        if phone["scrollWidth"] > PHONE["width"] + OVERFLOW_MARGIN:
            problems.append(f"{path}: {phone['scrollWidth']}px wide at {PHONE['width']}px, e.g. {phone['wide']}")
        if not phone["menuToggle"]:
            problems.append(f"{path}: no visible menu toggle at {PHONE['width']}px")
    assert not problems, "\n".join(problems)


def test_printing_a_page_includes_its_folded_answers(crawl):
    """Print or "Save as PDF" shows dropdown content (model answers), folded on screen."""
    facts, _ = crawl
    folded = [f"{path}: {text!r}" for path, f in facts.items() for text in f["foldedInPrint"]]
    assert not folded, "dropdowns that stay folded in print:\n" + "\n".join(folded[:20])


# --- what a reader does ------------------------------------------------------------------


def week_overviews() -> list[Path]:
    return [p for p in toc_files() if re.fullmatch(r"week\d\d", p.parent.name) and p.stem == "overview"]


def test_landing_page_loads(desktop, site_url):
    since, page = desktop.traffic.mark(), desktop.context.new_page()
    page.goto(site_url, wait_until="load")  # the root index.html redirects to the book's first page
    page.wait_for_url("**/book/index.html")
    settle(page)
    assert "LLM engineering in 8 weeks" in page.title()
    assert page.locator("article h1").first.is_visible()
    sidebar = page.locator("#pst-primary-sidebar")
    assert sidebar.locator("nav.bd-docs-nav").is_visible(), "the sidebar with the table of contents is not shown"
    screenshot(page, "landing")
    toggle = page.locator("button.primary-toggle:visible").first  # collapses and restores the sidebar
    toggle.click()
    sidebar.wait_for(state="hidden")
    toggle.click()
    sidebar.wait_for(state="visible")
    page.close()
    assert_clean(desktop, since)


def test_sidebar_leads_through_every_week(desktop, site_url):
    overviews = week_overviews()
    assert len(overviews) >= 8
    since, page = desktop.traffic.mark(), desktop.context.new_page()
    goto(page, urljoin(site_url, "book/index.html"))
    for overview in overviews:
        target = page_for(overview).relative_to(HTML).as_posix()
        week = int(overview.parent.name.removeprefix("week"))
        link = page.locator(f'nav.bd-docs-nav a[href$="{overview.parent.name}/overview.html"]').first
        assert link.is_visible(), f"the sidebar on {page.url} has no visible link to {target}"
        link.click()
        page.wait_for_url(f"**/{target}", wait_until="domcontentloaded")
        heading = page.locator("article h1").first.inner_text()
        assert heading.startswith(f"Week {week}"), f"{target} opens with {heading!r}"
    page.wait_for_load_state("load")
    page.close()
    assert_clean(desktop, since)


def _search_cases():
    built = {p.relative_to(REPO).with_suffix("").as_posix() for p in toc_files()}
    cases = []
    for term, pages in SEARCH_EXPECTATIONS.items():
        present = [p for p in pages if p in built]
        if present:
            cases.append(pytest.param(term, present, id=term))
    return cases


def test_search_expectations_name_pages_that_exist():
    """A page not yet in the TOC is skipped by the search test, so a misspelt one must fail here."""
    missing = [p for pages in SEARCH_EXPECTATIONS.values() for p in pages if not (REPO / f"{p}.md").exists()]
    assert not missing, f"SEARCH_EXPECTATIONS names pages with no source file: {missing}"


@pytest.mark.parametrize("term, expected", _search_cases())
def test_search_finds(desktop, site_url, term, expected):
    since, page = desktop.traffic.mark(), desktop.context.new_page()
    page.goto(urljoin(site_url, "search.html") + "?q=" + term.replace(" ", "+"), wait_until="load")
    page.wait_for_function(
        """() => { const s = document.querySelector('#search-results .search-summary');
                   return s && /finished|did not match/i.test(s.innerText); }"""
    )
    found = {
        site_path(site_url, href).removesuffix(".html")
        for href in page.eval_on_selector_all("#search-results ul.search li a", "as => as.map(a => a.href)")
    }
    missing = [p for p in expected if p not in found]
    assert not missing, f"searching {term!r} did not return {missing}; it returned {sorted(found)}"
    page.wait_for_load_state("networkidle")  # the result snippets are fetched after the list shows
    if term == "attention":
        screenshot(page, "search-attention")
    page.close()
    assert_clean(desktop, since)


def test_executed_chapters_show_outputs_and_plots(crawl):
    facts, _ = crawl
    chapters = executable_chapters()
    assert chapters
    problems = []
    for chapter in chapters:
        f = facts.get(page_for(chapter).relative_to(HTML).as_posix())
        if f is None:
            problems.append(f"{chapter.name}: no page in the site")
            continue
        if not (f["outputs"] and f["firstOutputVisible"]):
            problems.append(f"{chapter.name}: shows no cell output")
        if not f["plots"]:
            problems.append(f"{chapter.name}: shows no plot")
        problems += [
            f"{chapter.name}: plot {img['src']} did not load or has no alt text" for img in f["plots"]
            if not (img["complete"] and img["width"] > 0 and img["alt"].strip())
        ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("exercise", all_exercises(), ids=lambda ex: ex.id)
def test_download_link_delivers_the_released_notebook(desktop, site_url, crawl, exercise, tmp_path):
    facts, _ = crawl
    name = exercise.release_path.name
    pages = [path for path, f in facts.items() if any(urlsplit(h).path.endswith(f"/{name}") for h in f["downloads"])]
    assert pages, f"no page of the site offers a download of {name}"
    since, page = desktop.traffic.mark(), desktop.context.new_page()
    page.goto(urljoin(site_url, pages[0]), wait_until="domcontentloaded")
    with page.expect_download() as download:
        page.locator(f'article a[download][href$="/{name}"]').first.click()
    saved = tmp_path / name
    download.value.save_as(saved)
    assert saved.read_bytes() == exercise.release_path.read_bytes(), (
        f"the download on {pages[0]} is not {exercise.release_path.relative_to(REPO)}"
    )
    text = saved.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    leaks = find_leaks([saved], fragments_for([exercise]))
    assert not leaks, [leak.fragment for leak in leaks]
    page.wait_for_load_state("load")
    page.close()
    assert_clean(desktop, since)


def test_phone_reader_can_read_and_open_the_menu(browser, site_url):
    """A phone (mobile viewport, touch): the page is not zoomed out, and the menu opens."""
    phone = open_session(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.context.new_page()
    goto(page, urljoin(site_url, "book/week01/attention.html"))
    widths = page.evaluate("() => [window.innerWidth, document.scrollingElement.scrollWidth]")
    assert max(widths) <= PHONE["width"] + OVERFLOW_MARGIN, f"the chapter lays out {widths} px wide on a phone"
    screenshot(page, "phone-attention")
    page.locator("button.primary-toggle:visible").first.click()
    menu = page.locator("dialog#pst-primary-sidebar-modal[open] nav.bd-docs-nav")
    menu.wait_for(state="visible")
    assert menu.locator('a[href$="week08/overview.html"]').first.is_visible(), "the opened menu does not list the weeks"
    screenshot(page, "phone-menu")
    phone.context.close()
    assert_clean(phone, (0, 0, 0))


def test_requests_to_other_hosts_are_blocked_and_recorded(browser, site_url):
    """The guard itself: a page that reaches out is stopped, and the attempt is on record."""
    session = open_session(browser, viewport=DESKTOP)
    page = session.context.new_page()
    page.goto(urljoin(site_url, "genindex.html"), wait_until="load")
    reached = page.evaluate(
        """async () => {
            const img = new Image();
            const loaded = new Promise(done => { img.onload = () => done(true); img.onerror = () => done(false); });
            img.src = 'https://cdn.example.org/pixel.png';
            let fetched = true;
            try { await fetch('https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js'); } catch (e) { fetched = false; }
            return [await loaded, fetched];
        }"""
    )
    session.context.close()
    assert reached == [False, False]
    blocked = " ".join(session.traffic.blocked)
    assert "cdn.example.org/pixel.png" in blocked and "cdn.jsdelivr.net" in blocked, session.traffic.blocked
