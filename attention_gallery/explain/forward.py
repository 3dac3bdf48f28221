"""Run both models of a pair on one sentence: tokens, logits, probabilities and
attention weights, and the difference of attention (trained - untrained)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import config
from ..models import LoadedPair


class SentenceTooLongError(ValueError):
    """A sentence with more tokens than the gallery accepts."""


def encode(tokenizer, text: str, max_tokens: int = config.MAX_TOKENS) -> dict:
    """Tokenize one sentence (batch of 1). Refuses sentences over ``max_tokens``."""
    enc = tokenizer(text, return_tensors="pt", truncation=False)
    n = enc["input_ids"].shape[1]
    if n > max_tokens:
        raise SentenceTooLongError(
            f"sentence has {n} tokens; the gallery accepts at most {max_tokens} "
            f"(attention views of longer inputs are unreadable)"
        )
    return enc


def tokens_of(tokenizer, enc) -> list[str]:
    return tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())


@dataclass
class ModelRun:
    """One model on one sentence."""

    logits: np.ndarray  # (labels,)
    probs: np.ndarray  # (labels,)
    attention: np.ndarray  # (layers, heads, tokens, tokens), rows sum to 1

    @property
    def predicted(self) -> int:
        return int(self.logits.argmax())


@dataclass
class SentenceRun:
    """Both models of a pair on one sentence."""

    text: str
    tokens: list[str]
    labels: tuple[str, ...]
    trained: ModelRun
    untrained: ModelRun

    def run(self, which: str) -> ModelRun:
        return getattr(self, which)

    @property
    def diff(self) -> np.ndarray:
        """Attention trained - untrained, signed."""
        return self.trained.attention - self.untrained.attention

    @property
    def gained(self) -> np.ndarray:
        """The attention fine-tuning added (positive part of the difference)."""
        return np.clip(self.diff, 0.0, None)

    @property
    def lost(self) -> np.ndarray:
        """The attention fine-tuning removed (negative part, as positive weights)."""
        return np.clip(-self.diff, 0.0, None)


@torch.inference_mode()
def run_model(model, enc) -> ModelRun:
    out = model(**enc, output_attentions=True)
    logits = out.logits[0].float()
    attention = torch.stack([a[0] for a in out.attentions]).float()
    return ModelRun(
        logits=logits.numpy(),
        probs=torch.softmax(logits, -1).numpy(),
        attention=attention.numpy(),
    )


def run_sentence(pair: LoadedPair, text: str) -> SentenceRun:
    """Tokens, logits, probabilities and attention of both models for ``text``."""
    enc = encode(pair.tokenizer, text)
    return SentenceRun(
        text=text,
        tokens=tokens_of(pair.tokenizer, enc),
        labels=pair.labels,
        trained=run_model(pair.trained, enc),
        untrained=run_model(pair.untrained, enc),
    )
