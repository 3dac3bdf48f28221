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
for random rankings. Special tokens ([CLS], [SEP]) are never ranked and never
removed; removal is described in :data:`REMOVAL`. All distinct variants of a sentence
run as one batch (chunks of 64 sequences) with no gradients. Everything is
deterministic: rankings break ties by position, random rankings are seeded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from .forward import encode
from .methods import Attribution, attribute_all, special_mask

REMOVAL = (
    "A removed token's id is replaced by the tokenizer's [MASK] id (by [PAD] when "
    "the tokenizer has no mask token); every token keeps its position, [CLS] and "
    "[SEP] are never removed, and the attention mask is left unchanged."
)

READING = (
    "Comprehensiveness is how much the probability of the predicted class drops "
    "when the top-ranked tokens are removed (higher = more faithful); sufficiency "
    "is how much it drops when only those tokens are kept (lower = more faithful); "
    "a faithful method beats the random ranking on both."
)

BATCH = 64  # variants per forward pass


def removal_id(tokenizer) -> int:
    """The id that stands in for a removed token: [MASK], else [PAD]."""
    for rid in (getattr(tokenizer, "mask_token_id", None), tokenizer.pad_token_id):
        if rid is not None:
            return int(rid)
    raise ValueError("the tokenizer has neither a [MASK] nor a [PAD] token")


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


class _Sentence:
    """One sentence, encoded once: ids, special-token mask, removal id, model."""

    def __init__(self, pair, text: str, which: str):
        self.model = pair.model(which)
        enc = encode(pair.tokenizer, text)
        self.ids = enc["input_ids"][0]
        self.mask = enc["attention_mask"][0]
        self.special = special_mask(pair.tokenizer, self.ids.tolist())
        self.n_words = int((~self.special).sum())
        if self.n_words == 0:
            raise ValueError(f"no word tokens to remove in {text!r}")
        self.rid = removal_id(pair.tokenizer)

    def random_rankings(self, draws: int, seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        positions = np.flatnonzero(~self.special)
        return [rng.permutation(positions) for _ in range(int(draws))]

    def variants(self, order: np.ndarray, ks: tuple[int, ...]) -> list[torch.Tensor]:
        """For each k: the ids with the top-k removed, then with only them kept."""
        words = torch.from_numpy(~self.special)
        removed, kept = [], []
        for k in ks:
            top = torch.zeros_like(words)
            top[torch.from_numpy(order[:k])] = True
            without = self.ids.clone()
            without[top] = self.rid
            only = self.ids.clone()
            only[words & ~top] = self.rid
            removed.append(without)
            kept.append(only)
        return removed + kept

    @torch.no_grad()
    def probs(self, batch: list[torch.Tensor]) -> np.ndarray:
        """Class probabilities (N, labels) of a list of id sequences."""
        ids = torch.stack(batch)
        out = []
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            logits = self.model(input_ids=chunk,
                                attention_mask=self.mask.expand_as(chunk)).logits
            out.append(torch.softmax(logits.double(), dim=-1))
        return torch.cat(out).numpy()


def _deletion(s: _Sentence, rankings: Mapping[str, list[np.ndarray]],
              ks: Sequence[int], target: int | None) -> dict[str, dict[str, float]]:
    """Comprehensiveness and sufficiency of every ranking, all in one batch.

    ``rankings`` maps a name to a list of orders (positions, best first); the
    numbers of a name are averaged over its orders (one order, or random draws).
    """
    ks = capped_ks(ks, s.n_words)
    batch, slots = [s.ids], {}
    for name, orders in rankings.items():
        slots[name] = []
        for order in orders:
            slots[name].append(len(batch))
            batch.extend(s.variants(np.asarray(order), ks))
    # Rankings often agree on their top tokens (and short sentences have few
    # distinct random top-k sets): each distinct sequence is run once.
    seen: dict[bytes, int] = {}
    distinct, index = [], []
    for ids in batch:
        key = ids.numpy().tobytes()
        if key not in seen:
            seen[key] = len(distinct)
            distinct.append(ids)
        index.append(seen[key])
    probs = s.probs(distinct)[index]
    if target is None:
        target = int(probs[0].argmax())
    p = probs[:, int(target)]
    n = len(ks)
    result = {}
    for name, starts in slots.items():
        comp = [p[0] - p[i:i + n].mean() for i in starts]
        suff = [p[0] - p[i + n:i + 2 * n].mean() for i in starts]
        result[name] = {"comprehensiveness": float(np.mean(comp)),
                        "sufficiency": float(np.mean(suff))}
    return result


def _one_ranking(pair, text: str, which: str, scores, ks, target) -> dict[str, float]:
    s = _Sentence(pair, text, which)
    return _deletion(s, {"s": [rank_tokens(scores, s.special)]}, ks, target)["s"]


def comprehensiveness(pair, text: str, which: str, scores, ks: Sequence[int] = (1, 2, 3),
                      target: int | None = None) -> float:
    """Mean over k of p(target | x) - p(target | x with the top-k tokens removed).

    ``scores`` has one value per token (special tokens included, ignored);
    ``target`` defaults to the model's predicted class. Higher = more faithful.
    """
    return _one_ranking(pair, text, which, scores, ks, target)["comprehensiveness"]


def sufficiency(pair, text: str, which: str, scores, ks: Sequence[int] = (1, 2, 3),
                target: int | None = None) -> float:
    """Mean over k of p(target | x) - p(target | only the top-k tokens kept).

    Lower = more faithful (it can be negative: the kept tokens alone are even
    more convincing than the whole sentence).
    """
    return _one_ranking(pair, text, which, scores, ks, target)["sufficiency"]


def random_baseline(pair, text: str, which: str, ks: Sequence[int] = (1, 2, 3),
                    draws: int = 10, seed: int = 0,
                    target: int | None = None) -> dict[str, float]:
    """Comprehensiveness and sufficiency averaged over ``draws`` random rankings
    (numpy generator seeded with ``seed``)."""
    s = _Sentence(pair, text, which)
    return _deletion(s, {"random": s.random_rankings(draws, seed)}, ks, target)["random"]


def faithfulness(pair, text: str, which: str = "trained",
                 attributions: Mapping[str, Attribution] | None = None,
                 ks: Sequence[int] = (1, 2, 3), draws: int = 10, seed: int = 0,
                 target: int | None = None) -> dict[str, dict[str, float]]:
    """The deletion test for every attribution method and a random ranking.

    ``attributions`` defaults to :func:`~attention_gallery.explain.methods.attribute_all`
    of the same sentence and model. Each method ranks tokens by score, highest
    first (for IG the signed score toward the target: tokens pushing toward the
    predicted class come first). Returns ``{method: {'comprehensiveness': c,
    'sufficiency': s}, ..., 'random': {...}}`` with floats rounded to 4 decimals.
    """
    if attributions is None:
        attributions = attribute_all(pair, text, which, target=target)
    s = _Sentence(pair, text, which)
    rankings = {name: [rank_tokens(a.scores, s.special)] for name, a in attributions.items()}
    if "random" in rankings:
        raise ValueError("'random' is reserved for the random baseline")
    rankings["random"] = s.random_rankings(draws, seed)
    result = _deletion(s, rankings, ks, target)
    return {name: {key: round(value, 4) for key, value in numbers.items()}
            for name, numbers in result.items()}
