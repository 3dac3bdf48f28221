"""Render only the pages a changed sentence touches, and get the full build's site.

Watch mode (:mod:`.watch`) rebuilds after every save; a full ``mkdocs build`` renders
every page of the set (seconds, and more with every sentence). When only some
sentences' notebooks changed (same slugs in the same order, same template and docs:
the navigation is the same), the pages that can differ are those sentences' pages,
the generated pages (overview, pair, set figures, ``metrics.json``: always rendered),
the search index, and the theme's own pages (404, sitemap: always rendered).

:func:`build_pages` starts from a copy of the live site and runs mkdocs' ``--dirty``
build, which renders a page only when its source is newer than its page: every
staged source is dated in the past except the changed notebooks. Two things a dirty
build gets wrong are put right here:

* the search index holds only the pages it rendered: the other pages' entries are
  taken from the live site's index, in the live index's order (a full build's order);
* the shared JupyterLab stylesheets are trimmed to the classes the notebook pages
  use; a dirty build sees only the rendered ones, so it keeps the live site's files
  (the gallery plugin leaves existing ones alone in a dirty build), which is exact
  when the notebook pages together use the same classes as before.

When either cannot be made exact (a page the live index lacks, a new stylesheet, a
class no page used before) it returns False and the caller builds everything.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from . import outdir
from .offline import ASSET_DIR, classes_in

PAST = 1  # the modification time given to every unchanged source: older than any page
INDEX = Path("search") / "search_index.json"


def build_pages(docs: Path, site: Path, live: Path, changed, quiet: bool = False) -> bool:
    """Build ``site`` from the staged ``docs``, rendering only the pages of the
    ``changed`` slugs and the generated ones, on a copy of the ``live`` site built from
    the same sentences, template and docs. False: not done exactly (``site`` is then
    to be built in full)."""
    from .build import mkdocs_build

    if not outdir.has_marker(live) or not (live / INDEX).is_file():
        return False
    shutil.copytree(live, site, symlinks=True)
    date_sources(docs, {f"gallery/{slug}.ipynb" for slug in changed})
    mkdocs_build(docs, site, quiet=quiet, dirty=True)
    merged = merge_search_index((live / INDEX).read_text(encoding="utf-8"),
                                (site / INDEX).read_text(encoding="utf-8"))
    if merged is None or not same_stylesheets(live, site, changed):
        return False
    (site / INDEX).write_text(merged, encoding="utf-8")
    return True


def date_sources(docs: Path, changed: set[str]) -> None:
    """Date every file under ``docs`` in the past but the ``changed`` ones (paths
    relative to ``docs``), which are dated now: mkdocs renders just those."""
    for path in docs.rglob("*"):
        if path.is_file():
            if path.relative_to(docs).as_posix() in changed:
                os.utime(path, None)
            else:
                os.utime(path, (PAST, PAST))


def _page_of(entry: dict) -> str:
    return entry["location"].split("#", 1)[0]


def merge_search_index(live: str, rendered: str) -> str | None:
    """The live index with the entries of every page in ``rendered`` (a dirty build's
    index: its pages only) put in place of that page's, in the live order; serialised
    as Material's search plugin does. None when ``rendered`` has a page the live index
    lacks or another configuration (the page set or the search setup changed)."""
    old, new = json.loads(live), json.loads(rendered)
    if old.get("config") != new.get("config"):
        return None
    fresh: dict[str, list] = {}
    for entry in new["docs"]:
        fresh.setdefault(_page_of(entry), []).append(entry)
    pages = list(dict.fromkeys(_page_of(e) for e in old["docs"]))
    if not set(fresh) <= set(pages):
        return None
    docs = []
    for page in pages:
        docs.extend(fresh[page] if page in fresh else [e for e in old["docs"] if _page_of(e) == page])
    return json.dumps({"config": new["config"], "docs": docs}, separators=(",", ":"), default=str)


def _classes(page: Path) -> set[str]:
    """The classes a notebook page uses (what trims the stylesheets); none for a page
    that is not a notebook's or not there."""
    try:
        html = page.read_text(encoding="utf-8")
    except FileNotFoundError:
        return set()
    return classes_in(html) if "jupyter-wrapper" in html else set()


def same_stylesheets(live: Path, site: Path, changed) -> bool:
    """Whether the live site's shared stylesheets (kept by the dirty build) are what a
    full build would write: the same files, trimmed for the classes the notebook pages
    use together, which the ``changed`` pages have not changed."""
    names = {p.name for p in (site / ASSET_DIR).glob("*.css")}
    if names != {p.name for p in (live / ASSET_DIR).glob("*.css")}:
        return False
    if any((site / ASSET_DIR / n).read_bytes() != (live / ASSET_DIR / n).read_bytes() for n in names):
        return False
    now = {page.parent.name: _classes(page) for page in (site / "gallery").glob("*/index.html")}
    before = {**now, **{slug: _classes(live / "gallery" / slug / "index.html") for slug in changed}}
    return set().union(*now.values()) == set().union(*before.values())
