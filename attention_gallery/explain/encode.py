"""One sentence, tokenised once: the object every stage of a page receives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import config


class SentenceTooLongError(ValueError):
    """A sentence with more tokens than the gallery accepts."""


@dataclass(frozen=True, eq=False)
class EncodedSentence:
    """A sentence as the models see it (a batch of one)."""

    text: str
    input_ids: torch.Tensor  # (1, T)
    attention_mask: torch.Tensor  # (1, T)
    tokens: list[str]  # (T,), special tokens included
    special: np.ndarray  # (T,) bool: [CLS], [SEP], [PAD], [MASK]... ([UNK] is a word)
    pad_id: int | None
    mask_id: int | None

    @property
    def words(self) -> np.ndarray:
        """Positions of the non-special tokens (the ones an explanation ranks)."""
        return np.flatnonzero(~self.special)

    def __len__(self) -> int:
        return len(self.tokens)


def special_ids(tokenizer) -> set[int]:
    """The ids of the tokenizer's special tokens ([CLS], [SEP], [PAD], [MASK]...).

    [UNK] is a word the tokenizer did not know, not a special token.
    """
    specials = {int(i) for i in getattr(tokenizer, "all_special_ids", ()) or ()}
    specials.discard(getattr(tokenizer, "unk_token_id", None))
    return specials


def special_mask(tokenizer, ids) -> np.ndarray:
    """True where ``ids`` holds a special token (:func:`special_ids`)."""
    specials = special_ids(tokenizer)
    return np.array([int(i) in specials for i in ids], dtype=bool)


def encode(tokenizer, text: str, max_tokens: int = config.MAX_TOKENS) -> EncodedSentence:
    """Tokenise ``text`` once. Refuses sentences over ``max_tokens`` (never truncates)."""
    enc = tokenizer(text, return_tensors="pt", truncation=False)
    ids = enc["input_ids"]
    n = ids.shape[1]
    if n > max_tokens:
        raise SentenceTooLongError(
            f"sentence has {n} tokens; the gallery accepts at most {max_tokens} "
            f"(attention views of longer inputs are unreadable)"
        )
    id_list = ids[0].tolist()
    return EncodedSentence(
        text=text,
        input_ids=ids,
        attention_mask=enc["attention_mask"],
        tokens=tokenizer.convert_ids_to_tokens(id_list),
        special=special_mask(tokenizer, id_list),
        pad_id=getattr(tokenizer, "pad_token_id", None),
        mask_id=getattr(tokenizer, "mask_token_id", None),
    )
