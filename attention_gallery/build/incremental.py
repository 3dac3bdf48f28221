"""Render only the pages a changed sentence touches, and get the full build's site.

Watch mode (:mod:`.watch`) rebuilds after every save; a full ``mkdocs build`` renders
every page of the set (seconds, and more with every sentence). When only some
sentences' notebooks changed (same slugs in the same order, same template and docs:
the navigation is the same), the pages that can differ are those sentences' pages,
"How to read the views" when its figures show one of them (:mod:`.figures`), the
written pages that state the set's claims (``{{claim:…}}``, filled from every record:
the home page, "How to read the views"), the generated pages (overview, pair, set figures, ``metrics.json``: rendered unless their
source is the one the live site was built from, :func:`..web.generated.generated`),
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
class no page used before) it returns why, and the caller builds everything (None:
the site is done).

What a dirty build still does for every page is cheap but for one thing: listing the
theme's files (Material ships some 14,000, its icons), which :func:`theme_listed_once`
does once per process. Changes to the theme, like changes to the code, need a restart
of watch mode.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path

from mkdocs.structure.files import Files

from ..web import figures, generated
from ..web.offline import ASSET_DIR, classes_in
from ..web.pages import CLAIM
from . import outdir
from .mkdocs_run import mkdocs_build

PAST = 1  # the modification time given to every unchanged source: older than any page
INDEX = Path("search") / "search_index.json"


def build_pages(docs: Path, site: Path, live: Path, changed, quiet: bool = False,
                copied: bool = False, generated_before: dict | None = None) -> str | None:
    """Build ``site`` from the staged ``docs``, rendering only the pages of the
    ``changed`` slugs and the generated ones, on a copy of the ``live`` site built from
    the same sentences, template and docs (``copied``: ``site`` is that copy already;
    watch mode makes it while the kernels run). ``generated_before``: the generated
    files' sources the live site was built from (:func:`generated_sources` after that
    build); one whose source is the same is left as the live site has it. Returns None
    when done, else why it could not be done exactly (``site`` is then to be built in
    full)."""

    if not outdir.has_marker(live) or not (live / INDEX).is_file():
        return "no site built before"
    if not copied:
        copy_site(live, site)
    sources = {f"gallery/{slug}.ipynb" for slug in changed}
    slugs = [p.stem for p in (docs / "gallery").glob("*.ipynb")]
    if figures.may_show(slugs, changed):  # "How to read the views" draws a gallery sentence
        sources.add(figures.PAGE)
    sources |= claim_pages(docs)  # their claims are made from every record, the changed ones too
    date_sources(docs, sources)
    with theme_listed_once(), generated.live_sources(generated_before or {}):
        mkdocs_build(docs, site, quiet=quiet, dirty=True)
    merged = merge_search_index((live / INDEX).read_text(encoding="utf-8"),
                                (site / INDEX).read_text(encoding="utf-8"))
    if merged is None:
        return "the search index has other pages"
    why = stylesheets_differ(live, site, changed)
    if why:
        return why
    (site / INDEX).write_text(merged, encoding="utf-8")
    return None


def _not_ours(folder: str, names: list[str]) -> set[str]:
    """The names in ``folder`` that are neither a folder nor a regular file (a symlink,
    a device, a pipe): a build never makes them, so one there was planted."""
    left = set()
    for name in names:
        try:
            mode = os.lstat(os.path.join(folder, name)).st_mode
        except OSError:
            continue
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            left.add(name)
    return left


def copy_site(source: Path, target: Path) -> None:
    """Copy a built site: its folders and regular files; a symlink planted in it is left
    behind (neither copied nor followed), so a rebuild never publishes it."""
    shutil.copytree(source, target, symlinks=True, ignore=_not_ours)


def claim_pages(docs: Path) -> set[str]:
    """The written pages (``docs/**/*.md``) that state a claim of the set."""
    return {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")
            if CLAIM.search(p.read_text(encoding="utf-8"))}


_LISTED: dict[tuple, list] = {}  # (theme folders, theme templates) -> the theme's static files


class _ListedOnce:
    """A stand-in for the theme's Jinja environment that lists its files once."""

    def __init__(self, env, key: tuple):
        self.env, self.key = env, key

    def list_templates(self, filter_func=None):
        if self.key not in _LISTED:
            _LISTED[self.key] = self.env.list_templates(filter_func=filter_func)
        return _LISTED[self.key]


@contextmanager
def theme_listed_once():
    """Inside the block, mkdocs lists the theme's static files from what the first
    listing of this process found (the same theme folders and templates)."""
    original = Files.__dict__["add_files_from_theme"]

    def add_files_from_theme(self, env, config):
        key = (tuple(config.theme.dirs), tuple(config.theme.static_templates))
        return original(self, _ListedOnce(env, key), config)

    Files.add_files_from_theme = add_files_from_theme
    try:
        yield
    finally:
        Files.add_files_from_theme = original


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


_SEEN: dict[tuple, frozenset] = {}  # (page, mtime, size) -> its classes; the copies keep their times


def _classes(page: Path) -> frozenset:
    """The classes a notebook page uses (what trims the stylesheets); none for a page
    that is not a notebook's or not there. Remembered by the page's path, time and
    size: a rebuild reads again only the pages it rendered."""
    try:
        st = page.stat()
    except FileNotFoundError:
        return frozenset()
    key = (page.parent.name, st.st_mtime_ns, st.st_size)
    if key not in _SEEN:
        html = page.read_text(encoding="utf-8")
        _SEEN[key] = frozenset(classes_in(html) if "jupyter-wrapper" in html else ())
    return _SEEN[key]


def stylesheets_differ(live: Path, site: Path, changed) -> str | None:
    """Why the live site's shared stylesheets (kept by the dirty build) are not what a
    full build would write, or None: the same files, trimmed for the classes the
    notebook pages use together, which the ``changed`` pages have not changed."""
    names = {p.name for p in (site / ASSET_DIR).glob("*.css")}
    if names != {p.name for p in (live / ASSET_DIR).glob("*.css")}:
        return "the pages share other stylesheets"
    if any((site / ASSET_DIR / n).read_bytes() != (live / ASSET_DIR / n).read_bytes() for n in names):
        return "a shared stylesheet was written again"
    now = {page.parent.name: _classes(page) for page in (site / "gallery").glob("*/index.html")}
    before = {**now, **{slug: _classes(live / "gallery" / slug / "index.html") for slug in changed}}
    gained = set().union(*now.values()) - set().union(*before.values())
    lost = set().union(*before.values()) - set().union(*now.values())
    if gained or lost:
        return f"the pages use other classes ({', '.join(sorted(gained | lost)[:3])})"
    return None
