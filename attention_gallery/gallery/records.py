"""Reading the record an executed notebook carries: the only thing the build side
reads of a notebook (index, set pages, ``metrics.json``, the cache's check)."""

from __future__ import annotations

from .. import record
from .errors import BuildError


def read_record(nb, slug: str) -> record.SentenceRecord:
    """Sentence ``slug``'s record, validated and holding every registered method;
    else :class:`BuildError` naming the sentence and what is missing."""
    from ..explain.methods import REGISTRY

    try:
        rec = record.read(nb, methods=list(REGISTRY))
    except record.RecordError as exc:
        raise BuildError(f"sentence {slug!r}: {exc}") from None
    if rec.slug != slug:
        raise BuildError(f"sentence {slug!r}: its notebook holds the record of {rec.slug!r}")
    return rec
