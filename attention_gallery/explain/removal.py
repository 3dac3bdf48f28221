"""What "removing a token" means: the one definition, used by leave-one-out
occlusion and by the deletion test (comprehensiveness and sufficiency).

Removing is ERASER's (DeYoung et al. 2020): the tokens are deleted, so the input
gets shorter; [CLS] and [SEP] are kept. (Replacing them by [MASK] instead keeps
the length but is not neutral: with every word masked, the fine-tuned model
calls the input positive at 0.81 to 0.93, which makes the test easy for negative
predictions and hard for positive ones.) Changing :func:`remove` changes leave-
one-out and the deletion test at once; :class:`Removals` runs whatever it returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .call import forward
from .encode import EncodedSentence

REMOVAL = (
    "A removed token is deleted from the input (ERASER's definition): the sequence "
    "gets shorter, the tokens after it move up one position, and [CLS] and [SEP] are "
    "never removed."
)

BATCH = 256  # variants per forward pass (256 ran 885 short variants 1.5x faster than 64)


def remove(sentence: EncodedSentence, positions: Sequence[int]) -> torch.Tensor:
    """The ids the model sees when the tokens at ``positions`` are removed:
    the sentence's ids without them (shorter by ``len(set(positions))``).

    Special tokens are never removed: asking for one is an error."""
    positions = np.asarray(positions, dtype=np.int64).reshape(-1)
    if positions.size and sentence.special[positions].any():
        raise ValueError(f"special tokens are never removed (positions {positions.tolist()})")
    keep = np.ones(len(sentence), dtype=bool)
    keep[positions] = False
    return sentence.input_ids[0][torch.from_numpy(keep)].clone()


def keep_only(sentence: EncodedSentence, positions: Sequence[int]) -> torch.Tensor:
    """The ids with every word token except those at ``positions`` removed."""
    return remove(sentence, np.setdiff1d(sentence.words, np.asarray(positions, dtype=np.int64)))


class Removals:
    """One model's class probabilities on variants of one sentence.

    Each distinct variant is run once, however many rankings (or methods) ask for
    it; the new ones run together, grouped by length (no padding, so each runs
    exactly as it would alone), :data:`BATCH` sequences per forward pass, with no
    gradients.
    """

    def __init__(self, model, sentence: EncodedSentence):
        self.model = model
        self.sentence = sentence
        self._known: dict[bytes, np.ndarray] = {}

    def _run(self, variants: Sequence[torch.Tensor]) -> list[bytes]:
        """Run the variants not run yet; their keys, in order."""
        keys = [ids.numpy().tobytes() for ids in variants]
        todo: dict[bytes, torch.Tensor] = {}
        for key, ids in zip(keys, variants):
            if key not in self._known and key not in todo:
                todo[key] = ids
        by_length: dict[int, list[bytes]] = {}
        for key, ids in todo.items():
            by_length.setdefault(len(ids), []).append(key)
        with torch.no_grad():
            for length in sorted(by_length):
                group = by_length[length]
                for start in range(0, len(group), BATCH):
                    chunk_keys = group[start:start + BATCH]
                    chunk = torch.stack([todo[k] for k in chunk_keys])
                    logits, _ = forward(self.model, chunk, torch.ones_like(chunk))
                    probs = torch.softmax(logits.double(), dim=-1).numpy()
                    logp = torch.log_softmax(logits.double(), dim=-1).numpy()
                    for key, row, lrow in zip(chunk_keys, probs, logp):
                        self._known[key] = (row, lrow)
        return keys

    def probs(self, variants: Sequence[torch.Tensor]) -> np.ndarray:
        """Class probabilities (N, labels), float64, of a list of id sequences."""
        return np.stack([self._known[key][0] for key in self._run(variants)])

    def log_odds(self, variants: Sequence[torch.Tensor], target: int) -> np.ndarray:
        """The log-odds of class ``target``, log p / (1 - p), of each id sequence
        (N,), float64, from log-probabilities: finite where p rounds to 1."""
        rows = np.stack([self._known[key][1] for key in self._run(variants)])
        others = np.delete(rows, int(target), axis=1)
        return rows[:, int(target)] - np.logaddexp.reduce(others, axis=1)

    @property
    def runs(self) -> int:
        """How many distinct variants have been run so far."""
        return len(self._known)
