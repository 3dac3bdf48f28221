"""Where a build may write: it only ever replaces a folder it made.

Every folder a build publishes (the site, ``docs/gallery``) and every staging folder
carries a marker file, :data:`MARKER`. Before anything runs, :func:`plan` checks each
folder the build would replace:

* it does not exist, is empty, or holds the marker: fine;
* it holds a site (or ``docs/gallery``) built before the marker existed, recognised by
  its files alone (:func:`looks_prebuilt`): adopted once, with a note; the next
  build finds the marker;
* anything else (a user's files, a file where a folder should be) is refused.

Whatever they hold, these are refused as ``--out``: the repository root and any folder
above it, the home directory and any folder above it, ``docs/`` and anything inside it,
``.git/`` and the package, the cache and anything inside it; and a cache inside the
output folder (every build would wipe it).

A refusal is a :class:`Refusal`: one line saying what, where and what to do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .. import config

MARKER = ".attention-gallery"
MARKER_FORMAT = 1

# What a published site holds at its top level (mkdocs + the generated gallery), and
# what docs/gallery holds: enough to recognise a site built before the marker existed.
_SITE_NAMES = {"index.html", "404.html", "metrics.json", "sitemap.xml", "sitemap.xml.gz",
               "assets", "search", "gallery"}
_SITE_REQUIRED = {"index.html", "metrics.json", "gallery"}


class Refusal(Exception):
    """The build will not write there; the message says what, where and what to do."""


def write_marker(folder: Path, kind: str) -> None:
    """Mark ``folder`` as made by this build (``kind``: site, gallery-sources, staging)."""
    (folder / MARKER).write_text(json.dumps({
        "made_by": "attention-gallery", "format": MARKER_FORMAT, "kind": kind,
        "note": "made by scripts/build_gallery.py; the next build replaces this folder whole",
    }, indent=1) + "\n", encoding="utf-8")


def marker_kind(folder: Path) -> str | None:
    """The kind ``folder``'s marker names (site, gallery-sources, staging), or None: no marker."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("made_by") != "attention-gallery":
        return None
    return str(data.get("kind", ""))


def has_marker(folder: Path) -> bool:
    return marker_kind(folder) is not None


def _site_names() -> set[str]:
    """Top-level names of a site: fixed ones plus one folder per page in docs/."""
    pages = {p.stem for p in config.DOCS_DIR.glob("*.md") if p.stem != "index"}
    return _SITE_NAMES | pages


def looks_prebuilt(folder: Path, kind: str) -> bool:
    """A folder this build made before it wrote markers, recognised by its files."""
    try:
        names = {p.name for p in folder.iterdir()}
    except OSError:
        return False
    if kind == "site":
        return _SITE_REQUIRED <= names <= _site_names() and (folder / "gallery" / "index.html").is_file()
    if kind == "gallery-sources":  # docs/gallery: executed notebooks (+ generated pages, before the plugin)
        generated = {f"{name}.md" for name in config.RESERVED_SLUGS} | {"gallery.json"}  # no sentence's name
        return bool(names & {"index.md", "gallery.json"}) and all(
            (folder / n).is_file() and (n in generated or n.endswith(".ipynb")) for n in names)
    return False


def old_of(target: Path) -> Path:
    """Where :func:`swap` moves ``target`` for the moment between its two renames."""
    return target.with_name(f".{target.name}.old")


# The folders a build keeps beside its output folder NAME: never an output folder themselves.
_INNER = re.compile(r"\.(.+)\.(staging|old)")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _state(folder: Path) -> str:
    """'absent', 'empty', 'ours', 'prebuilt' or 'foreign' (for a folder to replace)."""
    if not folder.exists() and not folder.is_symlink():
        return "absent"
    if folder.is_symlink() or not folder.is_dir():
        return "foreign"
    if not any(folder.iterdir()):
        return "empty"
    return "ours" if has_marker(folder) else "foreign"


def _sample(folder: Path, limit: int = 3) -> str:
    """A few of the names in ``folder``, those a build never makes first."""
    known = _site_names()
    try:
        names = sorted((p.name for p in folder.iterdir() if p.name != MARKER), key=lambda n: (n in known, n))
    except OSError:
        return ""
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


@dataclass
class Plan:
    """The folders one build replaces, all checked; ``notes`` say what was adopted."""

    out: Path
    cache: Path
    sources: Path | None  # docs/gallery, replaced by the default build only
    notes: list[str] = field(default_factory=list)

    @property
    def staging(self) -> Path:
        return self.out.with_name(f".{self.out.name}.staging")


def _protected(out: Path, cache: Path) -> str | None:
    """Why ``out`` may never be an output folder, or None."""
    repo = config.REPO_ROOT.resolve()
    home = Path(os.path.expanduser("~")).resolve()
    if _inside(repo, out):
        return "it is the repository or a folder above it"
    if _inside(home, out):
        return "it is your home directory or a folder above it"
    for folder, what in ((config.DOCS_DIR, "docs/ (the site's sources)"), (repo / ".git", ".git/"),
                         (config.PACKAGE_DIR, "the attention_gallery package")):
        if _inside(out, folder.resolve()):
            return f"it is inside {what}"
    if _inside(out, cache):
        return f"it is inside the cache {cache}"
    if _inside(cache, out):
        return f"the cache {cache} is inside it, and every build would wipe it (pass --cache elsewhere)"
    return None


def _check_replaceable(folder: Path, kind: str, option: str, plan: Plan) -> None:
    state = _state(folder)
    if state in ("absent", "empty", "ours"):
        return
    if state == "foreign" and folder.is_dir() and not folder.is_symlink() and looks_prebuilt(folder, kind):
        plan.notes.append(f"adopting {folder}: a gallery {kind.replace('-', ' ')} built before build "
                          f"markers existed (recognised by its files); it now carries {MARKER}")
        return
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise Refusal(f"{option} {folder} is not a folder; the build replaces only folders it made: "
                      "choose a new or empty folder")
    raise Refusal(f"{option} {folder} holds files this build did not make ({_sample(folder)}); it only "
                  f"replaces a folder that is new, empty or carries its {MARKER} marker: choose a new "
                  "or empty folder, or move those files away")


def plan(out: Path | str, cache: Path | str, sentences: Path | None = None,
         template: Path | None = None) -> Plan:
    """Check every folder a build into ``out`` would replace; raise :class:`Refusal`."""
    if str(out).strip() == "":
        raise Refusal("--out is empty (an unset shell variable?): name the folder the site goes to, "
                      "e.g. --out site")
    if str(cache).strip() == "":
        raise Refusal("--cache is empty (an unset shell variable?): name the cache folder")
    out, cache = Path(out).expanduser().resolve(), Path(cache).expanduser().resolve()
    if out == Path(out.anchor):
        raise Refusal(f"--out {out} is the root of the file system: choose a new or empty folder")
    why = _protected(out, cache)
    if why:
        raise Refusal(f"--out {out} is refused: {why}; choose a new or empty folder, e.g. --out site")
    for given, what in ((sentences, "sentence set"), (template, "template")):
        if given is not None and _inside(Path(given).resolve(), out):
            raise Refusal(f"--out {out} holds the {what} {given}; the build would replace it: "
                          "choose another folder")
    inner = _INNER.fullmatch(out.name)
    if inner or marker_kind(out) == "staging":
        of = out.with_name(inner.group(1)) if inner else "another build"
        raise Refusal(f"--out {out} is refused: it is the {inner.group(2) if inner else 'staging'} folder of a "
                      f"build into {of} (that build replaces or removes it); choose another folder")
    sources = config.GALLERY_DIR.resolve() if out == config.SITE_DIR.resolve() else None
    result = Plan(out, cache, sources)
    _check_replaceable(out, "site", "--out", result)
    _check_replaceable(result.staging, "site", "staging folder", result)
    _check_replaceable(old_of(out), "site", "old-site folder", result)
    if sources is not None:
        _check_replaceable(sources, "gallery-sources", "docs/gallery", result)
        _check_replaceable(old_of(sources), "gallery-sources", "old docs/gallery folder", result)
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise Refusal(f"--out {out} cannot be created: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK):
        raise Refusal(f"--out {out} cannot be created: {parent} is not writable")
    return result


def remove(folder: Path, kind: str) -> None:
    """Delete a folder this build made (marked, empty, or a ``kind`` built before the
    marker); anything else is left alone."""
    state = _state(folder)
    if state == "absent":
        return
    if state == "foreign" and not looks_prebuilt(folder, kind):
        raise Refusal(f"{folder} holds files this build did not make ({_sample(folder)}); left alone")
    shutil.rmtree(folder)


def recover(plan: Plan) -> list[str]:
    """Put back what a swap interrupted between its two renames left (the previous
    site only as ``.NAME.old``, nothing at NAME): restored, never removed. Run under the
    output folder's lock, before staging; returns the notes to say."""
    notes = []
    targets = [(plan.out, "site")] + ([(plan.sources, "gallery-sources")] if plan.sources is not None else [])
    for target, kind in targets:
        old = old_of(target)
        if _state(old) in ("ours", "empty") or (_state(old) == "foreign" and looks_prebuilt(old, kind)):
            if _state(target) in ("absent", "empty"):
                if target.exists():
                    target.rmdir()
                old.rename(target)
                notes.append(f"restored {target} from {old}: a build was interrupted while it swapped the "
                             "new folder in, and left the previous one there")
    return notes


@contextmanager
def _signals_held():
    """SIGINT and SIGTERM wait until the block ends (the main thread only): the two
    renames of a swap are not parted by Ctrl-C or ``kill``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def swap(new: Path, target: Path, kind: str) -> None:
    """Replace ``target`` (checked by :func:`plan`) by ``new`` in two renames; ``new``
    carries the marker before it is renamed into place. Between the renames signals
    wait, and a failed second rename puts ``target`` back; what a harder stop (a kill,
    a crash) leaves is restored by the next build (:func:`recover`)."""
    write_marker(new, kind)
    old = old_of(target)
    remove(old, kind)
    with _signals_held():
        if target.exists():
            target.rename(old)
        try:
            new.rename(target)
        except BaseException:
            if old.exists() and not target.exists():
                old.rename(target)
            raise
    remove(old, kind)
