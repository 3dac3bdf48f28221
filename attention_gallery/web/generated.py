"""Which generated files a build made, and from what: the gallery plugin adds every
generated file through :func:`generated`, which notes the hash of its source; a
dirty build on a live site (:mod:`attention_gallery.build.incremental`, watch mode)
gives the live site's notes (:func:`live_sources`), so a generated file whose source
is unchanged is left as the copy of the live site has it."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

_MADE: dict[str, str] = {}  # generated file -> hash of its source, in this process's last build
_LIVE: dict[str, str] = {}  # the same, of the live site, during a dirty build on it


def new_build() -> None:
    """A build starts (the gallery plugin's ``on_config``)."""
    _MADE.clear()


def generated(file):
    """The gallery plugin adds ``file`` (made from a string): its source is noted, and
    in a dirty build on a live site built from the same source it is left as it is
    (not rendered, not written: the copy of the live site has it)."""
    digest = hashlib.sha256(file.content_bytes).hexdigest()
    _MADE[file.src_uri] = digest
    if _LIVE.get(file.src_uri) == digest:
        file.is_modified = lambda: False
    return file


def generated_sources() -> dict[str, str]:
    """What :func:`generated` noted in this process's last build."""
    return dict(_MADE)


@contextmanager
def live_sources(sources: dict[str, str]):
    _LIVE.update(sources)
    try:
        yield
    finally:
        _LIVE.clear()
