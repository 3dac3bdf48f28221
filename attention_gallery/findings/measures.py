"""What the findings measure on one sentence, from one model's attention: pure numpy.

Every function takes a model's attention weights of one sentence, (layers, heads,
query, key), no padding, and returns one number per layer, so the stage can average
over sentences and bootstrap the mean (:mod:`.stage`, :mod:`.cards`).
"""

from __future__ import annotations

import unicodedata

import numpy as np

KINDS = ("cls", "sep", "punct")  # the tokens Clark et al. (2019) found attention goes to


def is_punctuation(token: str) -> bool:
    """A token whose characters are all Unicode punctuation (``,``, ``.``, ``...``,
    ``'``; not ``##s``, not ``[SEP]``)."""
    return bool(token) and all(unicodedata.category(c).startswith("P") for c in token)


def token_kinds(tokens, ids, cls_id: int, sep_id: int) -> dict[str, np.ndarray]:
    """Boolean masks (tokens,) of the [CLS] token(s), the [SEP] token(s) and the
    punctuation tokens of a sentence."""
    ids = np.asarray(ids)
    return {"cls": ids == cls_id, "sep": ids == sep_id,
            "punct": np.array([is_punctuation(t) for t in tokens], dtype=bool) & (ids != cls_id) & (ids != sep_id)}


def sink_shares(attention: np.ndarray, masks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For each kind of token, the share of attention mass it receives in each layer:
    the attention to those keys summed, averaged over heads and query positions
    (special tokens included as queries). (layers,) each."""
    a = np.asarray(attention, dtype=np.float64)
    return {kind: a[..., np.asarray(mask, bool)].sum(-1).mean(axis=(1, 2)) for kind, mask in masks.items()}


def row_entropy(attention: np.ndarray) -> np.ndarray:
    """Mean entropy in nats of the attention rows of each layer, over heads and query
    positions (layers,): log(n) for a uniform row, 0 for a row on one token."""
    a = np.asarray(attention, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(a > 0, -a * np.log(a), 0.0)
    return terms.sum(-1).mean(axis=(1, 2))
