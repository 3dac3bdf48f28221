"""The one forward pass, and both models of a pair run once on one sentence:
logits, probabilities, attention weights and the difference of attention
(trained - untrained).

Every stage that runs a model goes through :func:`.call.forward`: the runs here,
Integrated Gradients (under Captum, with gradients) and the removal variants of
leave-one-out and the deletion test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from .call import forward
from .encode import EncodedSentence, encode
from .removal import Removals


@dataclass(eq=False)
class ModelRun:
    """One model on one encoded sentence."""

    model: torch.nn.Module = field(repr=False)
    sentence: EncodedSentence = field(repr=False)
    logits: np.ndarray  # (labels,)
    probs: np.ndarray  # (labels,)
    attention: np.ndarray  # (layers, heads, tokens, tokens), rows sum to 1

    @property
    def predicted(self) -> int:
        return int(self.logits.argmax())

    @cached_property
    def removals(self):
        """This model's predictions on the sentence with tokens removed, each
        distinct variant run once (shared by leave-one-out and the deletion test)."""
        return Removals(self.model, self.sentence)


@torch.inference_mode()
def run_model(model, sentence: EncodedSentence) -> ModelRun:
    logits, attentions = forward(model, sentence.input_ids, sentence.attention_mask, attentions=True)
    logits = logits[0].float()
    attention = torch.stack([a[0] for a in attentions]).float()
    return ModelRun(model=model, sentence=sentence, logits=logits.numpy(),
                    probs=torch.softmax(logits, -1).numpy(), attention=attention.numpy())


@dataclass(eq=False)
class SentenceRun:
    """Both models of a pair on one sentence."""

    sentence: EncodedSentence
    labels: tuple[str, ...]
    trained: ModelRun
    untrained: ModelRun

    @property
    def text(self) -> str:
        return self.sentence.text

    @property
    def tokens(self) -> list[str]:
        return self.sentence.tokens

    def run(self, which: str) -> ModelRun:
        if which not in ("trained", "untrained"):
            raise ValueError(f"which must be 'trained' or 'untrained', not {which!r}")
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


def run_sentence(pair, sentence: EncodedSentence | str) -> SentenceRun:
    """Both models of ``pair`` on ``sentence`` (encoded here if given as text)."""
    if isinstance(sentence, str):
        sentence = encode(pair.tokenizer, sentence)
    return SentenceRun(sentence=sentence, labels=tuple(pair.labels),
                       trained=run_model(pair.model("trained"), sentence),
                       untrained=run_model(pair.model("untrained"), sentence))
