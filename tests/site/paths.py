"""Where the site checks find the built site, and where they write artifacts.

``COURSE_SITE_HTML`` points the checks at another build (for example one made with
``jupyter-book build . --path-output /tmp/site-build``, whose HTML is in
``/tmp/site-build/_build/html``); the default is the repository's ``_build/html``.
Screenshots go to ``screenshots/`` beside that ``html/`` folder (``_build/screenshots``
by default), or to ``COURSE_SITE_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.chapters import REPO

HTML = Path(os.environ.get("COURSE_SITE_HTML") or REPO / "_build" / "html").resolve()
SCREENSHOTS = Path(os.environ.get("COURSE_SITE_SCREENSHOTS") or HTML.parent / "screenshots").resolve()

# Folders of assets, not pages.
NOT_PAGES = {"_static", "_sources", "_downloads", "_images"}


def site_pages(redirects: bool = True) -> list[Path]:
    """Every HTML page of the built site (not the theme's assets); ``redirects=False``
    leaves out the stubs that only redirect (the root ``index.html``)."""
    if not HTML.is_dir():
        return []
    pages = sorted(p for p in HTML.rglob("*.html") if not NOT_PAGES & set(p.relative_to(HTML).parts))
    return pages if redirects else [p for p in pages if redirect_target(p) is None]


def redirect_target(page: Path) -> str | None:
    """The URL a ``<meta http-equiv="refresh">`` stub sends the reader to, or None."""
    head = page.read_text("utf-8", errors="replace")[:2000]
    match = re.search(r"""<meta\s+http-equiv=["']refresh["']\s+content=["'][^"']*url=([^"']+)["']""", head, re.I)
    return match.group(1).strip() if match else None


def page_for(source: Path) -> Path:
    """The built page of a book source file (``book/x.md`` -> ``<html>/book/x.html``)."""
    return HTML / source.relative_to(REPO).with_suffix(".html")
