"""What "removing a token" means: the one definition, used by leave-one-out
occlusion and by the deletion test (comprehensiveness and sufficiency).

Changing :func:`remove` (for instance to ERASER's deletion, which shortens the
input) changes both at once; :class:`Removals` runs whatever it returns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .encode import EncodedSentence
from .forward import forward

REMOVAL = (
    "A removed token's id is replaced by the tokenizer's [MASK] id (by [PAD] when "
    "the tokenizer has no mask token); every token keeps its position, [CLS] and "
    "[SEP] are never removed, and the attention mask is left unchanged."
)

BATCH = 64  # variants per forward pass


def removal_id(sentence: EncodedSentence) -> int:
    """The id that stands in for a removed token: [MASK], else [PAD]."""
    for rid in (sentence.mask_id, sentence.pad_id):
        if rid is not None:
            return int(rid)
    raise ValueError("the tokenizer has neither a [MASK] nor a [PAD] token")


def remove(sentence: EncodedSentence, positions: Sequence[int]) -> torch.Tensor:
    """The ids (T,) the model sees when the tokens at ``positions`` are removed.

    Special tokens are never removed: asking for one is an error."""
    positions = np.asarray(positions, dtype=np.int64).reshape(-1)
    if positions.size and sentence.special[positions].any():
        raise ValueError(f"special tokens are never removed (positions {positions.tolist()})")
    ids = sentence.input_ids[0].clone()
    ids[torch.from_numpy(positions)] = removal_id(sentence)
    return ids


def keep_only(sentence: EncodedSentence, positions: Sequence[int]) -> torch.Tensor:
    """The ids (T,) with every word token except those at ``positions`` removed."""
    return remove(sentence, np.setdiff1d(sentence.words, np.asarray(positions, dtype=np.int64)))


class Removals:
    """One model's class probabilities on variants of one sentence.

    Each distinct variant is run once, however many rankings (or methods) ask for
    it; the new ones run together, :data:`BATCH` sequences per forward pass, with
    no gradients.
    """

    def __init__(self, model, sentence: EncodedSentence):
        self.model = model
        self.sentence = sentence
        self._known: dict[bytes, np.ndarray] = {}

    def probs(self, variants: Sequence[torch.Tensor]) -> np.ndarray:
        """Class probabilities (N, labels), float64, of a list of id sequences."""
        keys = [ids.numpy().tobytes() for ids in variants]
        todo: dict[bytes, torch.Tensor] = {}
        for key, ids in zip(keys, variants):
            if key not in self._known and key not in todo:
                todo[key] = ids
        if todo:
            new_keys, batch = list(todo), torch.stack(list(todo.values()))
            mask = self.sentence.attention_mask[0]
            with torch.no_grad():
                for start in range(0, len(batch), BATCH):
                    chunk = batch[start:start + BATCH]
                    logits, _ = forward(self.model, chunk, mask.expand_as(chunk))
                    probs = torch.softmax(logits.double(), dim=-1).numpy()
                    for key, row in zip(new_keys[start:start + BATCH], probs):
                        self._known[key] = row
        return np.stack([self._known[key] for key in keys])

    @property
    def runs(self) -> int:
        """How many distinct variants have been run so far."""
        return len(self._known)
