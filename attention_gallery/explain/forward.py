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

from .. import family
from .call import forward, hidden_states
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

    def explained(self, target: int | None = None) -> int:
        """The class an explanation of this run explains: ``target``, else the predicted one."""
        return self.predicted if target is None else int(target)

    @cached_property
    def value_norms(self) -> np.ndarray:
        """(layers, heads, tokens): ``‖f_h(x_j)‖``, token j's value vector through head
        h's slice of the layer's output projection (:func:`value_norms`)."""
        return value_norms(self.model, self.sentence)

    @cached_property
    def norm_attention(self) -> np.ndarray:
        """(layers, heads, tokens, tokens): ``‖α_ij f_h(x_j)‖ = α_ij ‖f_h(x_j)‖``, how much
        each head moves from token j to token i (Kobayashi et al. 2020)."""
        return self.attention * self.value_norms[:, :, None, :]

    @cached_property
    def removals(self):
        """This model's predictions on the sentence with tokens removed, each
        distinct variant run once (shared by leave-one-out and the deletion test)."""
        return Removals(self.model, self.sentence)


@torch.inference_mode()
def value_norms(model, sentence: EncodedSentence) -> np.ndarray:
    """``‖f_h(x_j)‖`` for every layer l, head h and token j (layers, heads, tokens), with
    ``f_h(x_j) = (x_j W_V^h + b_V^h) W_O^h``: the value vector of token j (x_j: what
    layer l receives) through head h's slice of the attention output projection. A
    head's output at token i is then ``Σ_j α_ij f_h(x_j)``, and the heads' outputs
    plus W_O's bias are the attention block's output (before the residual)."""
    states = hidden_states(model, sentence.input_ids, sentence.attention_mask)
    heads = family.n_heads(model)
    out = []
    for layer in range(len(states) - 1):
        x = states[layer][0]  # (T, hidden): the layer's input
        v = family.value_projection(model, layer)(x)  # (T, heads * d)
        w = family.output_projection(model, layer).weight  # (hidden, heads * d)
        t, d = v.shape[0], v.shape[1] // heads
        f = torch.einsum("thd,ohd->hto", v.reshape(t, heads, d), w.reshape(w.shape[0], heads, d))
        out.append(f.norm(dim=-1))
    return torch.stack(out).float().numpy()


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


@torch.inference_mode()
def checkpoint_run(checkpoints, sentence: EncodedSentence) -> dict:
    """The trained adapter's run on ``sentence`` step by step (``checkpoints``:
    :class:`~attention_gallery.models.Checkpoints`): p(last label) at each step, and
    each step's attention (layers, heads, T, T), float64."""
    p, attention = [], []
    for step in checkpoints.steps:
        logits, att = forward(checkpoints.at(step), sentence.input_ids, sentence.attention_mask, attentions=True)
        p.append(float(torch.softmax(logits[0].double(), -1)[-1]))
        attention.append(torch.stack([a[0] for a in att]).double().numpy())
    return {"steps": list(checkpoints.steps), "p_positive": p, "attention": attention}
