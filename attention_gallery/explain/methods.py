"""Which tokens did the classifier use? Three token scores for one sentence.

One entry point, :func:`attribute` (as in Captum: one ``attribute()`` per
method family), returns an :class:`Attribution` with one score per token,
special tokens included:

* ``'ig'`` - Integrated Gradients (Sundararajan et al. 2017) on the input
  (word) embeddings, with Captum's ``LayerIntegratedGradients``. The explained
  output is the *logit* of the target class; the baseline is the same sentence
  with every non-special token replaced by [PAD]. A token's score is its
  attribution summed over the embedding dimension; the scores add up to
  ``f(x) - f(baseline)`` (completeness), and ``info`` reports how closely.
* ``'rollout'`` - attention rollout (Abnar & Zuidema 2020) of the [CLS] token.
* ``'attention'`` - the raw last-layer attention of [CLS], averaged over heads.

The models only need ``model(input_ids=..., attention_mask=...)`` returning an
object with ``.logits`` (and ``.attentions`` with ``output_attentions=True``
for the attention methods) and ``model.get_input_embeddings()`` for IG.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .forward import ModelRun, encode, tokens_of

METHODS = {
    "ig": (
        "Integrated Gradients: how much each token's embedding contributes to the "
        "predicted class's logit, measured against the same sentence with its words "
        "replaced by [PAD]; positive scores push toward the prediction, negative away, "
        "and the scores add up to the change in that logit."
    ),
    "rollout": (
        "Attention rollout: how much [CLS] attends to each token through all layers, "
        "following attention (averaged over heads, with the residual connection added "
        "as half the weight) from the first layer to the last."
    ),
    "attention": (
        "Raw attention: how much [CLS] attends to each token in the last layer, "
        "averaged over heads; it ignores every earlier layer."
    ),
}

IG_BASELINE = (
    "the same token sequence with every non-special token replaced by [PAD] "
    "([CLS], [SEP] and positions kept, attention mask unchanged)"
)
IG_OUTPUT = "logit of the target class (before softmax)"


@dataclass
class Attribution:
    """One method's token scores for one sentence and one model."""

    method: str
    tokens: list[str]
    scores: np.ndarray  # (T,), one score per token, special tokens included
    target: int  # the class explained
    info: dict = field(default_factory=dict)


# --- helpers shared with faithfulness ----------------------------------------

def special_mask(tokenizer, ids) -> np.ndarray:
    """True where ``ids`` holds a special token ([CLS], [SEP], [PAD], [MASK]...).

    [UNK] is a word the tokenizer did not know, not a special token.
    """
    specials = set(getattr(tokenizer, "all_special_ids", ()) or ())
    specials.discard(getattr(tokenizer, "unk_token_id", None))
    return np.array([int(i) in specials for i in ids], dtype=bool)


def _logits(model, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    return model(input_ids=input_ids, attention_mask=attention_mask).logits


@torch.no_grad()
def _forward(model, enc, output_attentions: bool = False):
    """(logits (labels,), attention (layers, heads, T, T) or None), numpy."""
    kwargs = {"output_attentions": True} if output_attentions else {}
    out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], **kwargs)
    logits = out.logits[0].float().numpy()
    attention = None
    if output_attentions:
        attention = torch.stack([a[0] for a in out.attentions]).float().numpy()
    return logits, attention


# --- attention-based scores (pure functions of an attention tensor) ----------

def rollout_matrix(attention: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """Attention rollout (T, T) of an attention tensor (layers, heads, T, T).

    Per layer: average the heads, mix in the residual connection
    ``(1 - residual) * A + residual * I``, re-normalise the rows; then
    multiply the layers from the first to the last: ``R = A_L ... A_2 A_1``.
    Row ``i`` of ``R`` is how much token ``i`` of the last layer draws on each
    input token.
    """
    attention = np.asarray(attention, dtype=np.float64)
    if attention.ndim != 4:
        raise ValueError(f"expected (layers, heads, T, T), got shape {attention.shape}")
    t = attention.shape[-1]
    eye = np.eye(t)
    result = eye
    for layer in attention:
        a = (1.0 - residual) * layer.mean(axis=0) + residual * eye
        a = a / a.sum(axis=-1, keepdims=True)
        result = a @ result
    return result


def rollout(attention: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """The [CLS] (first) row of :func:`rollout_matrix`: shape (T,)."""
    return rollout_matrix(attention, residual)[0]


def cls_attention(attention: np.ndarray) -> np.ndarray:
    """Last-layer attention from [CLS] (the first token), averaged over heads: (T,)."""
    attention = np.asarray(attention, dtype=np.float64)
    return attention[-1, :, 0, :].mean(axis=0)


# --- Integrated Gradients ----------------------------------------------------

def ig_baseline_ids(tokenizer, input_ids: torch.Tensor) -> torch.Tensor:
    """``input_ids`` with every non-special token replaced by [PAD]."""
    pad = tokenizer.pad_token_id
    if pad is None:
        raise ValueError("the tokenizer has no [PAD] token for the IG baseline")
    keep = torch.from_numpy(special_mask(tokenizer, input_ids[0].tolist()))
    baseline = input_ids.clone()
    baseline[0, ~keep] = pad
    return baseline


def integrated_gradients(model, tokenizer, enc, target: int, n_steps: int = 32,
                         internal_batch_size: int | None = 16) -> tuple[np.ndarray, dict]:
    """IG scores (T,) of the ``target`` logit w.r.t. the input embeddings, and info."""
    from captum.attr import LayerIntegratedGradients

    input_ids, mask = enc["input_ids"], enc["attention_mask"]
    baseline = ig_baseline_ids(tokenizer, input_ids)
    lig = LayerIntegratedGradients(lambda ids, m: _logits(model, ids, m),
                                   model.get_input_embeddings())
    with torch.inference_mode(False), torch.enable_grad():
        attributions, delta = lig.attribute(
            inputs=input_ids,
            baselines=baseline,
            target=int(target),
            additional_forward_args=(mask,),
            n_steps=int(n_steps),
            internal_batch_size=internal_batch_size,
            return_convergence_delta=True,
        )
    scores = attributions.sum(dim=-1)[0].detach().double().numpy()
    with torch.no_grad():
        both = _logits(model, torch.cat([input_ids, baseline]), mask.repeat(2, 1))
    f_x, f_base = (float(v) for v in both[:, int(target)])
    info = {
        "baseline": IG_BASELINE,
        "output": IG_OUTPUT,
        "n_steps": int(n_steps),
        "internal_batch_size": internal_batch_size,
        "f_x": f_x,
        "f_baseline": f_base,
        "delta": float(delta.abs().max()),
        "completeness_error": abs(float(scores.sum()) - (f_x - f_base)),
    }
    return scores, info


# --- the API -----------------------------------------------------------------

def attribute(pair, text: str, which: str = "trained", method: str = "ig",
              target: int | None = None, **kw) -> Attribution:
    """Token scores of ``method`` for ``text`` under ``pair.model(which)``.

    ``target`` defaults to the model's predicted class. Keywords:

    * ``run`` (all methods): a :class:`~attention_gallery.attention.ModelRun`
      of this model on this sentence; its prediction and attention are reused
      instead of running the model again.
    * ``n_steps`` (32) and ``internal_batch_size`` (16) for ``'ig'``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    run: ModelRun | None = kw.pop("run", None)
    ig_kw = {k: kw.pop(k) for k in ("n_steps", "internal_batch_size") if k in kw}
    if kw:
        raise TypeError(f"unexpected keywords for attribute(): {sorted(kw)}")
    model = pair.model(which)
    enc = encode(pair.tokenizer, text)
    tokens = tokens_of(pair.tokenizer, enc)

    attention = run.attention if run is not None else None
    predicted = run.predicted if run is not None else None
    if method != "ig" and attention is None:
        logits, attention = _forward(model, enc, output_attentions=True)
        predicted = int(logits.argmax())
    elif target is None and predicted is None:
        logits, _ = _forward(model, enc)
        predicted = int(logits.argmax())
    target = predicted if target is None else int(target)

    if method == "ig":
        scores, info = integrated_gradients(model, pair.tokenizer, enc, target, **ig_kw)
    elif method == "rollout":
        scores = rollout(attention)
        info = {"row": "[CLS]", "residual": 0.5,
                "attention": "heads averaged; 0.5*A + 0.5*I, rows renormalised; "
                             "layers multiplied from the first to the last"}
    else:
        scores = cls_attention(attention)
        info = {"row": "[CLS]", "layer": int(np.asarray(attention).shape[0]) - 1,
                "attention": "last layer, heads averaged"}
    return Attribution(method=method, tokens=tokens, scores=np.asarray(scores, dtype=np.float64),
                       target=int(target), info=info)


def attribute_all(pair, text: str, which: str = "trained", target: int | None = None,
                  **kw) -> dict[str, Attribution]:
    """All methods of :data:`METHODS` for one sentence, with one forward pass
    shared by the attention-based ones (``kw`` goes to IG or holds ``run``)."""
    run = kw.pop("run", None)
    if run is None:
        enc = encode(pair.tokenizer, text)
        logits, attention = _forward(pair.model(which), enc, output_attentions=True)
        probs = torch.softmax(torch.from_numpy(logits), -1).numpy()
        run = ModelRun(logits=logits, probs=probs, attention=attention)
    return {method: attribute(pair, text, which, method, target=target, run=run,
                              **(kw if method == "ig" else {}))
            for method in METHODS}
