"""Do the token scores point at the tokens the model actually uses?

An ERASER-style deletion test (DeYoung et al. 2020) on one sentence, for any
ranking of its tokens (highest score first):

* **comprehensiveness** = p(target | x) - p(target | x without its top-k
  tokens): if the top tokens really carry the decision, removing them hurts,
  so *higher is more faithful*;
* **sufficiency** = p(target | x) - p(target | only the top-k tokens kept):
  if the top tokens suffice on their own, keeping only them changes little,
  so *lower is more faithful*.

Both are averaged over k in ``ks`` (each k capped at the number of word
tokens; equal capped values counted once) and compared with the same numbers
for random rankings (under :data:`RANDOM`). Special tokens ([CLS], [SEP]) are
never ranked and never removed; what removing means is defined once, in
:mod:`~attention_gallery.explain.removal`. Every distinct variant of a sentence
runs once per model (see ``ModelRun.removals``). Everything is deterministic:
rankings break ties by position, random rankings are seeded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..record import RANDOM  # the random baseline's key beside the methods' names
from . import removal
from .forward import ModelRun
from .methods import Attribution

READING = (
    "Comprehensiveness is how much the probability of the predicted class drops "
    "when the top-ranked tokens are removed (higher = more faithful); sufficiency "
    "is how much it drops when only those tokens are kept (lower = more faithful); "
    "a faithful method beats the random ranking on both."
)

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


def random_rankings(run: ModelRun, draws: int, seed: int) -> list[np.ndarray]:
    """``draws`` random orders of the word tokens (numpy generator seeded with ``seed``)."""
    rng = np.random.default_rng(seed)
    words = run.sentence.words
    return [rng.permutation(words) for _ in range(int(draws))]


def _deletion(run: ModelRun, rankings: Mapping[str, list[np.ndarray]], ks: Sequence[int],
              target: int | None) -> dict[str, dict[str, float]]:
    """Comprehensiveness and sufficiency of every ranking.

    ``rankings`` maps a name to a list of orders (positions, best first); the
    numbers of a name are averaged over its orders (one order, or random draws).
    """
    sentence = run.sentence
    n_words = len(sentence.words)
    if n_words == 0:
        raise ValueError(f"no word tokens to remove in {sentence.text!r}")
    ks = capped_ks(ks, n_words)
    batch, slots = [removal.remove(sentence, [])], {}
    for name, orders in rankings.items():
        slots[name] = []
        for order in orders:
            slots[name].append(len(batch))
            order = np.asarray(order)
            batch.extend(removal.remove(sentence, order[:k]) for k in ks)
            batch.extend(removal.keep_only(sentence, order[:k]) for k in ks)
    p = run.removals.probs(batch)[:, run.predicted if target is None else int(target)]
    n = len(ks)
    result = {}
    for name, starts in slots.items():
        comp = [p[0] - p[i:i + n].mean() for i in starts]
        suff = [p[0] - p[i + n:i + 2 * n].mean() for i in starts]
        result[name] = {"comprehensiveness": float(np.mean(comp)),
                        "sufficiency": float(np.mean(suff))}
    return result


def _one_ranking(run: ModelRun, scores, ks, target) -> dict[str, float]:
    return _deletion(run, {"s": [rank_tokens(scores, run.sentence.special)]}, ks, target)["s"]


def comprehensiveness(run: ModelRun, scores, ks: Sequence[int] = (1, 2, 3),
                      target: int | None = None) -> float:
    """Mean over k of p(target | x) - p(target | x with the top-k tokens removed).

    ``scores`` has one value per token (special tokens included, ignored);
    ``target`` defaults to the model's predicted class. Higher = more faithful.
    """
    return _one_ranking(run, scores, ks, target)["comprehensiveness"]


def sufficiency(run: ModelRun, scores, ks: Sequence[int] = (1, 2, 3),
                target: int | None = None) -> float:
    """Mean over k of p(target | x) - p(target | only the top-k tokens kept).

    Lower = more faithful (it can be negative: the kept tokens alone are even
    more convincing than the whole sentence).
    """
    return _one_ranking(run, scores, ks, target)["sufficiency"]


def random_baseline(run: ModelRun, ks: Sequence[int] = (1, 2, 3), draws: int = 10,
                    seed: int = 0, target: int | None = None) -> dict[str, float]:
    """Comprehensiveness and sufficiency averaged over ``draws`` random rankings."""
    return _deletion(run, {RANDOM: random_rankings(run, draws, seed)}, ks, target)[RANDOM]


def faithfulness(run: ModelRun, attributions: Mapping[str, Attribution],
                 ks: Sequence[int] = (1, 2, 3), draws: int = 10, seed: int = 0,
                 target: int | None = None) -> dict[str, dict[str, float]]:
    """The deletion test for every attribution and a random ranking.

    Each attribution ranks tokens by score, highest first (for IG the signed score
    toward the target: tokens pushing toward the predicted class come first).
    Returns ``{method: {'comprehensiveness': c, 'sufficiency': s}, ...,
    'random': {...}}`` in the order of ``attributions``, floats rounded to 4 decimals.
    """
    special = run.sentence.special
    rankings = {name: [rank_tokens(a.scores, special)] for name, a in attributions.items()}
    if RANDOM in rankings:
        raise ValueError(f"{RANDOM!r} is reserved for the random baseline")
    rankings[RANDOM] = random_rankings(run, draws, seed)
    result = _deletion(run, rankings, ks, target)
    return {name: {key: round(value, 4) for key, value in numbers.items()}
            for name, numbers in result.items()}
