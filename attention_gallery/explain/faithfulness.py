"""Do the token scores point at the tokens the model actually uses?

ERASER's deletion test (DeYoung et al. 2020) on one sentence, for any ranking of
its tokens (highest score first):

* **comprehensiveness** = p(target | x) - p(target | x without its top-k
  tokens): if the top tokens really carry the decision, removing them hurts,
  so *higher is more faithful*;
* **sufficiency** = p(target | x) - p(target | only the top-k tokens kept):
  if the top tokens suffice on their own, keeping only them changes little,
  so *lower is more faithful*.

The top-k figures average over k in ``ks`` (1, 2, 3 word tokens, each capped at
the number of word tokens, equal capped values counted once). **AOPC** averages
the same differences over ERASER's bins, the top 1, 5, 10, 20 and 50% of the word
tokens (rounded, at least one token per bin; each bin counted, even when two bins
round to the same k). The **random baseline** is the expectation over uniformly
random rankings: exact (every subset of size k enumerated) where a k has at most
:data:`EXACT_LIMIT` subsets, else estimated from :data:`DRAWS` seeded random
orders, whose standard error is reported. ``tau_loo`` is Kendall's tau (tau-b)
between a method's scores and leave-one-out's over the word tokens (ferret's
tau-LOO); the random ranking's is 0 in expectation.

Special tokens ([CLS], [SEP]) are never ranked and never removed; what removing
means is defined once, in :mod:`~attention_gallery.explain.removal`. Every
distinct variant of a sentence runs once per model (``ModelRun.removals``).
Everything is deterministic: rankings break ties by position, draws are seeded.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import kendalltau

from ..record import RANDOM  # the random baseline's key beside the methods' names
from ..rules import section
from . import removal
from .forward import ModelRun
from .methods import Attribution, reference

RULE = section("claims")["faithfulness"]["rule"]  # the verdict rule, for READING (the claims decide)
KS = (1, 2, 3)
BINS = (0.01, 0.05, 0.10, 0.20, 0.50)  # ERASER's AOPC bins, fractions of the word tokens
EXACT_LIMIT = 256  # subsets of one size enumerated exactly up to this many
DRAWS = 200  # random orders drawn otherwise
FIGURES = ("comprehensiveness", "sufficiency", "aopc_comprehensiveness", "aopc_sufficiency")
# the same four figures on the target's log-odds, log p / (1 - p), instead of its
# probability: they still separate rankings where the model is so sure that no
# variant moves p (claims.faithfulness_outcome decides on them there)
LOGODDS = tuple(f"{f}_logodds" for f in FIGURES)
TOP_P = ("removed_p", "kept_p")  # p(target) of each top-k variant, k in capped_ks(KS)

READING = (
    "Comprehensiveness is how much the probability of the predicted class drops "
    "when the top-ranked tokens are removed (higher = more faithful); sufficiency "
    "is how much it drops when only those tokens are kept (lower = more faithful). "
    "The top-k columns use the top 1, 2 and 3 tokens; the AOPC columns average over "
    "ERASER's bins, the top 1, 5, 10, 20 and 50% of the tokens (at least one). "
    "Tau-LOO is the rank agreement (Kendall's tau, -1 to 1) of a method's scores "
    "with leave-one-out's. The verdict column applies one rule: "
) + RULE

RANDOM_TITLE = "Random order (baseline)"


def rank_tokens(scores, special: np.ndarray) -> np.ndarray:
    """Positions of the non-special tokens, highest score first (ties: position)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != special.shape:
        raise ValueError(f"got {scores.size} scores for {special.size} tokens "
                         f"(one per token, special tokens included)")
    positions = np.flatnonzero(~special)
    order = np.lexsort((positions, -scores[positions]))  # last key is primary
    return positions[order]


def capped_ks(ks: Sequence[int], n_words: int) -> tuple[int, ...]:
    """The distinct values of min(k, n_words) for k in ks (k >= 1)."""
    if any(int(k) < 1 for k in ks):
        raise ValueError(f"every k must be at least 1, got {tuple(ks)}")
    return tuple(sorted({min(int(k), n_words) for k in ks}))


def bin_ks(n_words: int, bins: Sequence[float] = BINS) -> tuple[int, ...]:
    """The k of each AOPC bin: the fraction of ``n_words`` rounded half up, at
    least 1 (duplicates kept: each bin is one point of the curve)."""
    return tuple(max(1, min(n_words, int(math.floor(f * n_words + 0.5)))) for f in bins)


def random_rankings(run: ModelRun, draws: int, seed: int) -> list[np.ndarray]:
    """``draws`` random orders of the word tokens (numpy generator seeded with ``seed``)."""
    rng = np.random.default_rng(seed)
    words = run.sentence.words
    return [rng.permutation(words) for _ in range(int(draws))]


def _weights(ks: Sequence[int], n_words: int) -> dict[str, dict[int, float]]:
    """Each figure as weights over k of p0 - p(variant of size k): figure =
    sum_k w_k (p0 - p_k), the weights of one figure summing to 1."""
    top = capped_ks(ks, n_words)
    bins = bin_ks(n_words)
    w_top = {k: 1.0 / len(top) for k in top}
    w_bin: dict[int, float] = {}
    for k in bins:
        w_bin[k] = w_bin.get(k, 0.0) + 1.0 / len(bins)
    return {"comprehensiveness": w_top, "sufficiency": w_top,
            "aopc_comprehensiveness": w_bin, "aopc_sufficiency": w_bin}


def _figures(p0: float, removed: Mapping[int, float], kept: Mapping[int, float],
             weights) -> dict[str, float]:
    out = {}
    for name, w in weights.items():
        side = removed if name.endswith("comprehensiveness") else kept
        out[name] = float(sum(wk * (p0 - side[k]) for k, wk in w.items()))
    return out


def _all_figures(p0: float, lo0: float, removed, kept, removed_lo, kept_lo, weights, top) -> dict:
    """The four figures on p and on log-odds, and p(target) of each top-k variant."""
    out = _figures(p0, removed, kept, weights)
    out.update({f"{k}_logodds": v for k, v in _figures(lo0, removed_lo, kept_lo, weights).items()})
    out["removed_p"] = [float(removed[k]) for k in top]
    out["kept_p"] = [float(kept[k]) for k in top]
    return out


def _needed(weights) -> list[int]:
    return sorted({k for w in weights.values() for k in w})


def _rankings(run: ModelRun, orders: Mapping[str, np.ndarray], ks, target) -> dict[str, dict[str, float]]:
    """The four figures of each order (positions, best first)."""
    sentence = run.sentence
    n_words = len(sentence.words)
    if n_words == 0:
        raise ValueError(f"no word tokens to remove in {sentence.text!r}")
    weights = _weights(ks, n_words)
    need = _needed(weights)
    batch = [removal.remove(sentence, [])]
    for order in orders.values():
        order = np.asarray(order)
        batch.extend(removal.remove(sentence, order[:k]) for k in need)
        batch.extend(removal.keep_only(sentence, order[:k]) for k in need)
    t = run.explained(target)
    p = run.removals.probs(batch)[:, t]
    lo = run.removals.log_odds(batch, t)
    top = capped_ks(ks, n_words)
    n, out = len(need), {}
    for i, name in enumerate(orders):
        start = 1 + 2 * n * i
        sides = [dict(zip(need, v[a:a + n])) for v in (p, lo) for a in (start, start + n)]
        out[name] = _all_figures(p[0], lo[0], sides[0], sides[1], sides[2], sides[3], weights, top)
    return out


@dataclass
class RandomBaseline:
    """The random ranking's figures: their expectation, exact or estimated
    (:data:`FIGURES`, :data:`LOGODDS` and, per top k, :data:`TOP_P`)."""

    figures: dict
    se: dict[str, float]  # standard error of each figure (0 where exact)
    mode: str  # "exact" or "sampled:N"


def random_expectation(run: ModelRun, ks: Sequence[int] = KS, draws: int = DRAWS, seed: int = 0,
                       target: int | None = None, exact_limit: int = EXACT_LIMIT) -> RandomBaseline:
    """The expected figures of a uniformly random ranking of the word tokens.

    A random ranking's top k is a uniformly random k-subset, so each figure is a
    weighted sum over k of p0 - E[p(variant)]. For each k with at most
    ``exact_limit`` subsets the expectation is exact (every subset run); for the
    others it is the mean over ``draws`` seeded random orders (their top k), with
    the standard error of the mean."""
    sentence = run.sentence
    words = sentence.words
    n_words = len(words)
    if n_words == 0:
        raise ValueError(f"no word tokens to remove in {sentence.text!r}")
    t = run.explained(target)
    weights = _weights(ks, n_words)
    need = _needed(weights)
    exact = [k for k in need if math.comb(n_words, k) <= exact_limit]
    sampled = [k for k in need if k not in exact]
    whole = [removal.remove(sentence, [])]
    p0 = float(run.removals.probs(whole)[0, t])
    lo0 = float(run.removals.log_odds(whole, t)[0])
    removed: dict[int, float] = {}
    kept: dict[int, float] = {}
    removed_lo: dict[int, float] = {}
    kept_lo: dict[int, float] = {}
    for k in exact:
        subsets = [list(c) for c in itertools.combinations(words.tolist(), k)]
        for side, out_p, out_lo in ((removal.remove, removed, removed_lo), (removal.keep_only, kept, kept_lo)):
            variants = [side(sentence, s) for s in subsets]
            out_p[k] = float(run.removals.probs(variants)[:, t].mean())
            out_lo[k] = float(run.removals.log_odds(variants, t).mean())
    se = {name: 0.0 for name in (*weights, *(f"{f}_logodds" for f in weights))}
    if sampled:
        orders = random_rankings(run, draws, seed)
        batch = []
        for order in orders:
            batch.extend(removal.remove(sentence, order[:k]) for k in sampled)
            batch.extend(removal.keep_only(sentence, order[:k]) for k in sampled)
        shape = (len(orders), 2, len(sampled))
        p = run.removals.probs(batch)[:, t].reshape(shape)
        lo = run.removals.log_odds(batch, t).reshape(shape)
        for values, start, suffix in ((p, p0, ""), (lo, lo0, "_logodds")):
            for name, w in weights.items():
                side = 0 if name.endswith("comprehensiveness") else 1
                # the sampled part of the figure, one value per draw
                per_draw = sum(w.get(k, 0.0) * (start - values[:, side, j]) for j, k in enumerate(sampled))
                se[name + suffix] = float(np.std(per_draw, ddof=1) / math.sqrt(len(orders)))
        for j, k in enumerate(sampled):
            removed[k], kept[k] = float(p[:, 0, j].mean()), float(p[:, 1, j].mean())
            removed_lo[k], kept_lo[k] = float(lo[:, 0, j].mean()), float(lo[:, 1, j].mean())
    mode = "exact" if not sampled else f"sampled:{int(draws)}"
    figures = _all_figures(p0, lo0, removed, kept, removed_lo, kept_lo, weights, capped_ks(ks, n_words))
    return RandomBaseline(figures=figures, se=se, mode=mode)


def _one_ranking(run: ModelRun, scores, ks, target) -> dict[str, float]:
    return _rankings(run, {"s": rank_tokens(scores, run.sentence.special)}, ks, target)["s"]


def comprehensiveness(run: ModelRun, scores, ks: Sequence[int] = KS,
                      target: int | None = None) -> float:
    """Mean over k of p(target | x) - p(target | x with the top-k tokens removed).

    ``scores`` has one value per token (special tokens included, ignored);
    ``target`` defaults to the model's predicted class. Higher = more faithful.
    """
    return _one_ranking(run, scores, ks, target)["comprehensiveness"]


def sufficiency(run: ModelRun, scores, ks: Sequence[int] = KS,
                target: int | None = None) -> float:
    """Mean over k of p(target | x) - p(target | only the top-k tokens kept).

    Lower = more faithful (it can be negative: the kept tokens alone are even
    more convincing than the whole sentence).
    """
    return _one_ranking(run, scores, ks, target)["sufficiency"]


def aopc(run: ModelRun, scores, target: int | None = None) -> dict[str, float]:
    """AOPC comprehensiveness and sufficiency over ERASER's bins."""
    figures = _one_ranking(run, scores, KS, target)
    return {k: figures[k] for k in ("aopc_comprehensiveness", "aopc_sufficiency")}


def random_baseline(run: ModelRun, ks: Sequence[int] = KS, draws: int = DRAWS,
                    seed: int = 0, target: int | None = None) -> dict[str, float]:
    """The random ranking's expected figures (see :func:`random_expectation`)."""
    return random_expectation(run, ks, draws, seed, target).figures


def tau_loo(scores, loo_scores, special: np.ndarray) -> float:
    """Kendall's tau-b of ``scores`` against leave-one-out's over the word tokens
    (1 for a single word; 0 where either ranking is constant)."""
    words = np.flatnonzero(~np.asarray(special, bool))
    if len(words) < 2:
        return 1.0
    tau = kendalltau(np.asarray(scores, float)[words], np.asarray(loo_scores, float)[words]).statistic
    return 0.0 if not np.isfinite(tau) else float(tau)


def deletion_test(run: ModelRun, attributions: Mapping[str, Attribution], ks: Sequence[int] = KS,
                  draws: int = DRAWS, seed: int = 0, target: int | None = None):
    """``(table, random)``: the figures of every attribution and of the random
    baseline (``table[RANDOM]``, with tau_loo 0), and the :class:`RandomBaseline`."""
    if RANDOM in attributions:
        raise ValueError(f"{RANDOM!r} is reserved for the random baseline")
    special = run.sentence.special
    orders = {name: rank_tokens(a.scores, special) for name, a in attributions.items()}
    table = _rankings(run, orders, ks, target)
    loo = attributions.get(reference().name)
    if loo is None or (target is not None and loo.target != int(target)):
        loo = reference().attribute(run.sentence, run, target)
    for name, a in attributions.items():
        table[name]["tau_loo"] = tau_loo(a.scores, loo.scores, special)
    rnd = random_expectation(run, ks, draws, seed, target)
    table[RANDOM] = {**rnd.figures, "tau_loo": 0.0}
    table = {name: {key: ([round(v, 4) for v in value] if isinstance(value, list) else round(value, 4))
                     for key, value in numbers.items()}
             for name, numbers in table.items()}
    return table, rnd


def faithfulness(run: ModelRun, attributions: Mapping[str, Attribution],
                 ks: Sequence[int] = KS, draws: int = DRAWS, seed: int = 0,
                 target: int | None = None) -> dict[str, dict[str, float]]:
    """The deletion test for every attribution and the random baseline.

    Each attribution ranks tokens by score, highest first (for IG the signed score
    toward the target: tokens pushing toward the predicted class come first).
    Returns ``{method: {figure: value}, ..., 'random': {...}}`` in the order of
    ``attributions``, floats rounded to 4 decimals (figures: :data:`FIGURES` and
    ``tau_loo``).
    """
    return deletion_test(run, attributions, ks, draws, seed, target)[0]
