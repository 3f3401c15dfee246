"""Sphinx extension: the built site needs nothing from outside itself.

What it does:

* serves MathJax from the site: it adds the MathJax 3 files shipped by the
  pinned PyPI package ``sphinx-mathjax-offline`` (requirements.txt) to
  ``html_static_path``, so each build copies them to ``_static/mathjax/``;
  ``mathjax_path`` in ``_config.yml`` names the file to load
  (``mathjax/tex-chtml.js``, relative to ``_static``);
* writes each identical inline script once per page (see ``_check_assets``);
* fails the build (a warning, and the book is built with warnings as errors)
  when ``mathjax_path`` or any script or stylesheet a page loads is a remote
  URL, so a theme or extension update that adds a CDN reference is caught at
  build time.

Not handled: URLs that scripts build at run time (for example sphinx-thebe's
``THEBE_JS_URL``, fetched only when a reader starts a live kernel, a button this
book does not show). The browser tests in ``tests/site/`` block and report any
non-local request a page makes on load.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.util import logging

logger = logging.getLogger(__name__)

MATHJAX_DIST = "sphinx-mathjax-offline"
# Inside that distribution: static/mathjax/<MathJax 3 es5 build>
MATHJAX_STATIC = f"{MATHJAX_DIST}/static"


def _is_remote(url: str) -> bool:
    return "://" in url or url.startswith("//")


def mathjax_static_dir() -> Path:
    """The directory holding ``mathjax/`` from the pinned package."""
    try:
        dist = metadata.distribution(MATHJAX_DIST)
    except metadata.PackageNotFoundError as exc:
        raise ConfigError(
            f"{MATHJAX_DIST} is not installed: the site serves MathJax from its own _static. "
            "Run `make setup` (it installs requirements.txt)."
        ) from exc
    return Path(dist.locate_file(MATHJAX_STATIC)).resolve()


def _configure(app: Sphinx, config: Config) -> None:
    path = config.mathjax_path
    if _is_remote(path):
        raise ConfigError(
            f"mathjax_path is {path!r}: the site must serve MathJax itself; "
            "set it to a path under _static, e.g. mathjax/tex-chtml.js"
        )
    static = mathjax_static_dir()
    wanted = static / path.split("?")[0]
    if not wanted.is_file():
        raise ConfigError(f"mathjax_path {path!r} is not in {static} (from {MATHJAX_DIST})")
    config.html_static_path = [*config.html_static_path, str(static)]


def _asset_key(asset) -> tuple:
    attributes = getattr(asset, "attributes", {}) or {}
    return (str(getattr(asset, "filename", asset) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _check_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    # Sphinx de-duplicates script files by name only: an inline script that an
    # extension adds at two build events is written twice, and a second
    # `const X = ...` is a SyntaxError in the reader's console (sphinx-thebe's
    # THEBE_JS_URL). Keep the first copy of each identical script.
    scripts, seen = [], set()
    for asset in context.get("script_files", []):
        key = _asset_key(asset)
        if key not in seen:
            seen.add(key)
            scripts.append(asset)
    if "script_files" in context:
        context["script_files"] = scripts
    remote = []
    for key in ("script_files", "css_files"):
        for asset in context.get(key, []):
            name = str(getattr(asset, "filename", asset) or "")
            if _is_remote(name):
                remote.append(name)
    for name in remote:
        logger.warning(f"page {pagename} loads {name} from the network; serve it from _static", location=pagename)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure)
    # After sphinx.ext.mathjax and the themes have added their assets (priority 500).
    app.connect("html-page-context", _check_assets, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
