"""Internal links of the built site: every relative href/src resolves.

Reads the HTML (and the theme's CSS) the build wrote; no browser. A relative URL
must name a file that exists in the site, and a ``#fragment`` must name an
``id`` (or ``<a name>``) on the target page. External URLs are not fetched (the
site is checked offline); that pages *load* nothing from outside is the browser
tests' job, and that no page references a remote script or stylesheet is
checked here too.

Not handled: URLs built by JavaScript at run time, and ``srcset`` candidates.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.site.paths import HTML, redirect_target, site_pages

pytestmark = pytest.mark.skipif(not (HTML / "index.html").exists(), reason="the site is not built")

URL_ATTRIBUTES = {"href", "src"}
LOADING_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon", "manifest"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.loads: list[str] = []  # URLs the page loads: script src, stylesheets, preloads, icons

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attributes.get(key):
                self.ids.add(attributes[key])
        for key in URL_ATTRIBUTES & attributes.keys():
            if attributes[key] is not None:
                self.urls.append((tag, key, attributes[key].strip()))
        rel = set((attributes.get("rel") or "").lower().split())
        if tag == "script" and attributes.get("src"):
            self.loads.append(attributes["src"].strip())
        elif tag == "link" and attributes.get("href") and rel & LOADING_RELS:
            self.loads.append(attributes["href"].strip())

    handle_startendtag = handle_starttag


@cache
def parse(path: Path) -> _PageParser:
    parser = _PageParser()
    parser.feed(path.read_text("utf-8"))
    return parser


def is_relative(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith("//")


def resolve(base: Path, url: str) -> tuple[Path, str]:
    """The file and fragment a relative URL in ``base`` points to."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    target = base if not path else (base.parent / path)
    if path.endswith("/") or (target.is_dir() and path):
        target = target / "index.html"
    return target.resolve(), unquote(parts.fragment)


def broken_links(page: Path) -> list[str]:
    problems = []
    urls = parse(page).urls
    if redirect_target(page):
        urls = [*urls, ("meta", "refresh", redirect_target(page))]
    for tag, attribute, url in urls:
        if not url or not is_relative(url) or url.startswith(("mailto:", "javascript:", "data:")):
            continue
        target, fragment = resolve(page, url)
        where = f"{page.relative_to(HTML)}: <{tag} {attribute}={url!r}>"
        if not target.is_relative_to(HTML):
            problems.append(f"{where} points outside the site")
        elif not target.is_file():
            problems.append(f"{where}: no file {target.relative_to(HTML)}")
        elif fragment and target.suffix == ".html" and fragment not in parse(target).ids:
            problems.append(f"{where}: no id {fragment!r} in {target.relative_to(HTML)}")
    return problems


def test_the_site_has_pages():
    pages = site_pages()
    assert len(pages) >= 3, f"only {len(pages)} page(s) under {HTML}"


def test_every_relative_link_resolves_to_a_file_and_anchor():
    problems = [p for page in site_pages() for p in broken_links(page)]
    assert not problems, f"{len(problems)} broken internal link(s):\n" + "\n".join(problems[:40])


def test_no_page_loads_a_remote_script_or_stylesheet():
    remote = []
    for page in site_pages():
        # <link rel="canonical"> and the like are links, not loads.
        remote += [f"{page.relative_to(HTML)}: {url}" for url in parse(page).loads if not is_relative(url)]
    assert not remote, "\n".join(remote[:20])


def test_theme_stylesheets_reference_existing_files():
    """Fonts and images named by url() in the site's CSS are shipped with it."""
    problems = []
    for css in sorted((HTML / "_static").rglob("*.css")):
        text = re.sub(r"/\*.*?\*/", "", css.read_text("utf-8", errors="replace"), flags=re.S)
        for url in CSS_URL.findall(text):
            url = url.strip()
            if url.startswith(("data:", "#")):
                continue
            if not is_relative(url):
                problems.append(f"{css.relative_to(HTML)}: remote {url}")
                continue
            target, _ = resolve(css, url)
            if not target.is_file():
                problems.append(f"{css.relative_to(HTML)}: missing {url}")
    assert not problems, "\n".join(sorted(set(problems))[:40])
