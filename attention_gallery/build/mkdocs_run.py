"""One ``mkdocs build --strict`` of a staged docs folder: the full build's and the
incremental one's (:mod:`.incremental`), reproducible (``SOURCE_DATE_EPOCH``)."""

from __future__ import annotations

import logging
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

from mkdocs.commands.build import build as mk_build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort, MkDocsException

from .. import config
from ..errors import BuildError


@contextmanager
def _source_date_epoch():
    """``SOURCE_DATE_EPOCH`` (no build date in pages) set for the block only."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = before or source_date()
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]


def mkdocs_build(docs: Path, site_dir: Path, quiet=False, dirty=False) -> None:
    """``mkdocs build --strict`` of ``docs`` into ``site_dir`` (the gallery plugin
    in mkdocs.yml adds the gallery's pages and nav). ``dirty``: mkdocs' ``--dirty``,
    which renders only the pages whose source is newer than their page in ``site_dir``
    (:mod:`.incremental` decides when that gives the full build's site); its warning
    that links may go stale is not counted as a strict-mode failure."""
    cfg = load_config(str(config.REPO_ROOT / "mkdocs.yml"), docs_dir=str(docs), site_dir=str(site_dir), strict=True)
    # MkDocs keeps plugin objects for the process, and Material's search plugin carries
    # the index of one dirty build into the next (meant for `mkdocs serve`, one page at
    # a time): a dirty build here starts without it (incremental merges the index)
    search = cfg.plugins.get("material/search") or cfg.plugins.get("search")
    if search is not None and hasattr(search, "search_index_prev"):
        search.search_index_prev = None
    level = logging.getLogger("mkdocs").level
    if quiet:
        logging.getLogger("mkdocs").setLevel(logging.WARNING)
    builder_log = logging.getLogger("mkdocs.commands.build")
    if dirty:
        builder_log.addFilter(_not_the_dirty_warning)
    try:
        cfg.plugins.on_startup(command="build", dirty=dirty)
        with _source_date_epoch():
            mk_build(cfg, dirty=dirty)
    except (Abort, MkDocsException) as exc:
        raise BuildError(f"mkdocs build --strict failed: {exc}") from None
    finally:
        logging.getLogger("mkdocs").setLevel(level)
        builder_log.removeFilter(_not_the_dirty_warning)


def _not_the_dirty_warning(record) -> bool:
    return "'dirty' build" not in record.getMessage()


def source_date() -> str:
    """The last commit's time (reproducible builds), or 0 outside a git checkout."""
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=config.REPO_ROOT,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "0"
    except (OSError, subprocess.SubprocessError):
        return "0"
