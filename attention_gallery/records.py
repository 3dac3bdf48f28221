"""Reading the record an executed notebook carries: the only thing the build and the
site read of a notebook (the cache's check, the pages, ``metrics.json``)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import nbformat

from . import record
from .errors import BuildError

_READ: OrderedDict = OrderedDict()  # (content hash, slug) -> record, the most recent last
_READ_MAX = 4096


def read_record(nb, slug: str, methods: Sequence[str]) -> record.SentenceRecord:
    """Sentence ``slug``'s record, validated and holding an attribution of every one
    of ``methods`` (the registry's: the build asks it, the site its catalog); else
    :class:`BuildError` naming the sentence and what is missing."""
    try:
        rec = record.read(nb, methods=list(methods))
    except record.RecordError as exc:
        raise BuildError(f"sentence {slug!r}: {exc}") from None
    if rec.slug != slug:
        raise BuildError(f"sentence {slug!r}: its notebook holds the record of {rec.slug!r}")
    return rec


def read_record_file(path: Path, slug: str, methods: Sequence[str]) -> record.SentenceRecord:
    """The record of the notebook file at ``path`` (see :func:`read_record`), remembered
    by the file's content: a process that builds again and again (watch mode) parses
    each notebook once (hashing it costs a hundredth of parsing and validating it)."""
    data = Path(path).read_bytes()
    key = (hashlib.sha256(data).hexdigest(), slug, tuple(methods))
    if key in _READ:
        _READ.move_to_end(key)
        return _READ[key]
    rec = read_record(nbformat.reads(data.decode("utf-8"), as_version=4), slug, methods)
    _READ[key] = rec
    if len(_READ) > _READ_MAX:
        _READ.popitem(last=False)
    return rec
