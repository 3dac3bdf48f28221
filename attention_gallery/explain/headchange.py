"""How much fine-tuning changed each attention head on one sentence.

Every row of a head's (tokens x tokens) attention matrix is a probability
distribution over the keys one query token looks at. For each head we compare
the two models' rows with the Jensen-Shannon distance (base 2, so it lies in
[0, 1]: 0 = the same distribution, 1 = no overlap at all) and average over the
query tokens. The result is one number per head, shape (layers, heads).
"""

from __future__ import annotations

import numpy as np

MEASURE = (
    "Head change is the Jensen-Shannon distance (base 2, from 0 = identical to "
    "1 = no overlap) between the trained and the untrained model's attention "
    "distributions of a head, computed for every query token and averaged over "
    "the tokens of the sentence."
)


def _kl_to_mixture(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    """sum_k p log2(p / m) over the last axis, with 0 log 0 = 0."""
    positive = p > 0
    ratio = np.divide(p, m, out=np.ones_like(p), where=positive)
    terms = np.where(positive, p * np.log2(ratio), 0.0)
    return terms.sum(axis=-1)


def js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2) between distributions on the last axis.

    Inputs of the same shape (..., K) whose last axis sums to 1; returns shape
    (...). Identical distributions give exactly 0.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"shapes differ: {p.shape} vs {q.shape}")
    m = 0.5 * (p + q)
    divergence = 0.5 * _kl_to_mixture(p, m) + 0.5 * _kl_to_mixture(q, m)
    return np.sqrt(np.clip(divergence, 0.0, 1.0))


def head_change(att_a: np.ndarray, att_b: np.ndarray) -> np.ndarray:
    """Per-head change between two attention tensors of shape (layers, heads, T, T).

    Returns an array (layers, heads): the Jensen-Shannon distance between the
    two models' attention rows (one per query token), averaged over query tokens.
    """
    att_a = np.asarray(att_a)
    att_b = np.asarray(att_b)
    if att_a.ndim != 4 or att_a.shape != att_b.shape:
        raise ValueError(
            f"expected two attention tensors (layers, heads, T, T) of the same shape, "
            f"got {att_a.shape} and {att_b.shape}"
        )
    return js_distance(att_a, att_b).mean(axis=-1)


def top_heads(change: np.ndarray, k: int = 3) -> list[tuple[int, int, float]]:
    """The ``k`` heads that changed most: ``(layer, head, value)``, largest first.

    Ties are broken by (layer, head) ascending.
    """
    change = np.asarray(change)
    if change.ndim != 2:
        raise ValueError(f"expected a (layers, heads) array, got shape {change.shape}")
    cells = [(int(l), int(h), float(change[l, h])) for l, h in np.ndindex(change.shape)]
    cells.sort(key=lambda c: (-c[2], c[0], c[1]))
    return cells[: max(int(k), 0)]


def sink_facts(trained: np.ndarray, untrained: np.ndarray, words: np.ndarray) -> dict:
    """Where each head's attention goes to and from [CLS] (position 0), both models.

    ``to_cls``: the words' mean attention to [CLS] (over the word queries), by
    model, (layers, heads); ``cls_gain``: the largest gain of [CLS]'s attention to
    one word (trained - untrained), with that word's position (ties: the first).
    Tokens moving their attention off the [CLS] sink, or [CLS] moving toward a
    word, are the two stories a head's change usually tells (claims.head_story).
    """
    trained, untrained = np.asarray(trained, np.float64), np.asarray(untrained, np.float64)
    words = np.asarray(words, np.int64)
    if words.size == 0:
        zeros = np.zeros(trained.shape[:2])
        return {"to_cls": {"trained": zeros, "untrained": zeros}, "cls_gain": zeros,
                "cls_gain_token": zeros.astype(int)}
    gain = trained[:, :, 0, words] - untrained[:, :, 0, words]
    best = np.argmax(gain, axis=-1)
    return {"to_cls": {"trained": trained[:, :, words, 0].mean(axis=-1),
                       "untrained": untrained[:, :, words, 0].mean(axis=-1)},
            "cls_gain": np.take_along_axis(gain, best[..., None], -1)[..., 0],
            "cls_gain_token": words[best]}
