"""Which tokens did the classifier use? The explanation methods, in one registry.

Each method is an object shaped like a Captum attribution method: a ``name``
(its key in :data:`REGISTRY`, in ``metrics.json`` and in the record), a
``title``, a one-line ``description`` and one ``attribute(sentence, run,
target)`` that returns an :class:`Attribution` with one score per token,
special tokens included. ``target`` defaults to the model's predicted class.
Pages, the deletion test, the set pages and ``metrics.json`` iterate over
:data:`REGISTRY`; adding a method is one class and one line in it.

A method declares what it needs (``needs``: a subset of :data:`NEEDS`) and whether
it is the deletion test's reference ranking (``reference``); every consumer asks
(:func:`runs_in_browser`, :func:`reference`, :func:`ranked_against_reference`)
instead of naming methods: the live page runs the methods marked ``browser`` (its
graph has no gradients), the tau-LOO column compares every other method with the
reference.

* ``ig`` - Integrated Gradients (Sundararajan et al. 2017) on the input (word)
  embeddings, with Captum's ``LayerIntegratedGradients``.
* ``rollout`` - attention rollout (Abnar & Zuidema 2020) of the [CLS] token.
* ``attention`` - the raw last-layer attention of [CLS], averaged over heads.
* ``norms`` - norm-based attention (Kobayashi et al. 2020): the last-layer
  attention of [CLS] with each head's weights scaled by the norm of what it moves.
* ``loo`` - leave-one-out occlusion: the drop in the target class's
  probability when one token is removed (forward passes only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from . import removal, views
from .call import forward
from .encode import EncodedSentence
from .forward import ModelRun


@dataclass
class Attribution:
    """One method's token scores for one sentence and one model."""

    method: str
    tokens: list[str]
    scores: np.ndarray  # (T,), one score per token, special tokens included
    target: int  # the class explained
    info: dict = field(default_factory=dict)

    def recorded(self) -> list[float]:
        """The scores as the record keeps them (4 decimals): what the site re-derives from."""
        return [round(float(x), 4) for x in self.scores]


NEEDS = {
    "attention": "the attention weights of one forward pass",
    "gradients": "gradients through the model (the live page's graph has none)",
    "removals": "extra forward passes of the sentence with tokens removed",
    "values": "each layer's value vectors through its output projection (what each head moves)",
}


class Method:
    """An explanation method: subclasses set the three names, what they need and
    ``attribute``."""

    name: str
    title: str
    description: str
    signed: bool = True  # scores push toward (+) or away from (-) the target class
    unit: str = "score"  # what a score is measured in (for the colour legend)
    needs: frozenset[str] = frozenset()  # keys of NEEDS
    reference: bool = False  # the ranking tau-LOO compares the others with (one method)
    # the live page computes it too (docs/assets/javascripts/lib/maths.js, tested number
    # for number against tests/golden/live.json, which scripts/js_golden.py writes);
    # never a method that needs gradients
    browser: bool = False
    # the attributes a page states about the method (the site reads them from the
    # manifest's catalog, explain/facts.py: it imports no torch)
    published: tuple[str, ...] = ()

    def attribute(self, sentence: EncodedSentence, run: ModelRun,
                  target: int | None = None) -> Attribution:
        raise NotImplementedError

    def caption(self, attribution: Attribution) -> str:
        """A check of one attribution shown under the rows of a page ('' for none)."""
        return ""

    def _result(self, sentence: EncodedSentence, scores, target: int, info: dict) -> Attribution:
        return Attribution(method=self.name, tokens=sentence.tokens,
                           scores=np.asarray(scores, dtype=np.float64), target=int(target), info=info)


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


class AttentionRollout(Method):
    name = "rollout"
    title = "Attention rollout"
    description = ("how much [CLS] attends to each token through all layers, following "
                   "attention (averaged over heads, with the residual connection added as "
                   "half the weight) from the first layer to the last.")
    residual = 0.5
    published = ("residual",)
    signed = False
    unit = "of [CLS]'s rolled-out attention"
    needs = frozenset({"attention"})
    browser = True

    def attribute(self, sentence, run, target=None):
        return self._result(sentence, rollout(run.attention, self.residual), run.explained(target), {
            "row": "[CLS]", "residual": self.residual,
            "attention": "heads averaged; 0.5*A + 0.5*I, rows renormalised; "
                         "layers multiplied from the first to the last"})


class RawAttention(Method):
    name = "attention"
    title = "Raw attention"
    description = ("how much [CLS] attends to each token in the last layer, averaged over "
                   "heads; it ignores every earlier layer.")
    signed = False
    unit = "of [CLS]'s attention (probability mass)"
    needs = frozenset({"attention"})
    browser = True

    def attribute(self, sentence, run, target=None):
        return self._result(sentence, cls_attention(run.attention), run.explained(target), {
            "row": "[CLS]", "layer": int(np.asarray(run.attention).shape[0]) - 1,
            "attention": "last layer, heads averaged"})


class NormAttention(Method):
    """Kobayashi et al. (2020): attention weights say where a head looks, not how much
    it moves. ``‖α_ij f_h(x_j)‖`` weights each head's attention by the norm of token
    j's value vector through the head's slice of the output projection
    (:attr:`.forward.ModelRun.norm_attention`); a token that receives much weight
    but carries a small vector (often [CLS], [SEP], punctuation) scores less."""

    name = "norms"
    title = "Norm-based attention"
    description = ("how much [CLS] receives from each token in the last layer, each head's "
                   "attention weighted by the norm of the vector it moves, ‖αf(x)‖, summed "
                   "over heads; it ignores every earlier layer.")
    signed = False
    unit = "of the norm [CLS] receives (‖αf(x)‖, summed over heads)"
    needs = frozenset({"attention", "values"})
    browser = True  # the live page's graph gives the value vectors' norms (live/export.py)

    def attribute(self, sentence, run, target=None):
        norms = np.asarray(run.norm_attention, dtype=np.float64)
        return self._result(sentence, norms[-1, :, 0, :].sum(axis=0), run.explained(target), {
            "row": "[CLS]", "layer": int(norms.shape[0]) - 1,
            "attention": "last layer, ‖α f(x)‖ summed over heads"})


# --- Integrated Gradients ----------------------------------------------------

def ig_baseline_ids(sentence: EncodedSentence) -> torch.Tensor:
    """The sentence's ids (1, T) with every non-special token replaced by [PAD]."""
    if sentence.pad_id is None:
        raise ValueError("the tokenizer has no [PAD] token for the IG baseline")
    baseline = sentence.input_ids.clone()
    baseline[0, torch.from_numpy(~sentence.special)] = sentence.pad_id
    return baseline


class IntegratedGradients(Method):
    """The explained output is the *logit* of the target class; the baseline is
    the same sentence with every non-special token replaced by [PAD]. A token's
    score is its attribution summed over the embedding dimension; the scores add
    up to ``f(x) - f(baseline)`` up to Captum's convergence delta, which ``info``
    reports (no forward pass of its own)."""

    name = "ig"
    title = "Integrated Gradients"
    description = ("how much each token's embedding contributes to the predicted class's "
                   "logit, measured against the same sentence with its words replaced by "
                   "[PAD]; positive scores push toward the prediction, negative away, and "
                   "the scores add up to the change in that logit.")
    baseline = ("the same token sequence with every non-special token replaced by [PAD] "
                "([CLS], [SEP] and positions kept, attention mask unchanged)")
    published = ("baseline",)
    output = "logit of the target class (before softmax)"
    unit = "logit"
    needs = frozenset({"gradients"})

    # steps: start at n_steps, double until the completeness error is at most
    # max(rel_tol * |logit change|, abs_tol), up to max_steps. For the fine-tuned
    # model (logit changes of 1 to 4) the relative bound governs; for the untrained
    # head (changes of about 0.01) the absolute one (0.001 logit).
    rel_tol = 0.01
    abs_tol = 0.001

    def __init__(self, n_steps: int = 32, internal_batch_size: int | None = 64,
                 max_steps: int = 512):
        self.n_steps = int(n_steps)
        self.max_steps = int(max_steps)
        self.internal_batch_size = internal_batch_size

    def tolerance(self, logit_change: float) -> float:
        return max(self.rel_tol * abs(logit_change), self.abs_tol)

    def _attribute(self, lig, sentence, target, n_steps):
        with torch.inference_mode(False), torch.enable_grad():
            attributions, delta = lig.attribute(
                inputs=sentence.input_ids,
                baselines=ig_baseline_ids(sentence),
                target=target,
                additional_forward_args=(sentence.attention_mask,),
                n_steps=n_steps,
                internal_batch_size=self.internal_batch_size,
                return_convergence_delta=True,
            )
        scores = attributions.sum(dim=-1)[0].detach().double().numpy()
        # Captum's delta = sum of attributions - (f(x) - f(baseline)), from its own
        # forward passes at both ends of the path.
        return scores, float(delta.detach().reshape(-1)[0])

    def attribute(self, sentence, run, target=None):
        # captum: only when IG runs (half a second to import; the build reads this registry without running it)
        from captum.attr import LayerIntegratedGradients

        target = run.explained(target)
        model = run.model
        lig = LayerIntegratedGradients(lambda ids, mask: forward(model, ids, mask)[0],
                                       model.get_input_embeddings())
        steps = self.n_steps
        tried = []
        while True:
            scores, delta = self._attribute(lig, sentence, target, steps)
            change = float(scores.sum()) - delta
            tried.append(steps)
            if abs(delta) <= self.tolerance(change) or steps * 2 > self.max_steps:
                break
            steps *= 2
        with torch.no_grad():
            base_logits, _ = forward(model, ig_baseline_ids(sentence), sentence.attention_mask)
        base_p = torch.softmax(base_logits[0].double(), -1)
        info = {
            "baseline": self.baseline,
            "output": self.output,
            "n_steps": steps,
            "steps_tried": tried,
            "internal_batch_size": self.internal_batch_size,
            "delta": delta,
            "logit_change": change,
            "completeness_error": abs(delta),
            "relative_error": abs(delta) / abs(change) if change else 0.0,
            "converged": abs(delta) <= self.tolerance(change),
            "baseline_p_target": float(base_p[target]),
            "baseline_p_last": float(base_p[-1]),
        }
        return self._result(sentence, scores, target, info)

    def caption(self, attribution):
        info = attribution.info
        return (f"IG completeness: the scores sum to {views.signed(np.sum(attribution.scores))}; "
                f"the target logit moves by {views.signed(info['logit_change'])} from baseline "
                f"to input (error {info['completeness_error']:.4f}, "
                f"{100 * info['relative_error']:.2f}% of the change, {info['n_steps']} steps"
                f"{'' if info.get('converged', True) else ', the cap: not within tolerance'}).")


# --- leave-one-out occlusion -------------------------------------------------

class LeaveOneOut(Method):
    """Each word token's score is p(target | x) - p(target | x without it), with
    "without" as :mod:`~attention_gallery.explain.removal` defines it (the same
    removal as the deletion test). Special tokens are never removed and score 0.
    All variants of a sentence run in one batch, with no gradients."""

    name = "loo"
    unit = "probability"
    needs = frozenset({"removals"})
    reference = True
    browser = True
    title = "Leave-one-out occlusion"
    description = ("how much the predicted class's probability drops when the token "
                   "alone is removed (removed as in the deletion test); positive scores "
                   "support the prediction, negative ones oppose it.")

    def attribute(self, sentence, run, target=None):
        target = run.explained(target)
        words = sentence.words
        variants = [removal.remove(sentence, [])] + [removal.remove(sentence, [i]) for i in words]
        p = run.removals.probs(variants)[:, target]
        scores = np.zeros(len(sentence), dtype=np.float64)
        scores[words] = p[0] - p[1:]
        return self._result(sentence, scores, target, {
            "output": "probability of the target class", "p_target": float(p[0]),
            "removal": removal.REMOVAL})


# --- the registry ------------------------------------------------------------

REGISTRY: dict[str, Method] = {m.name: m for m in (
    IntegratedGradients(),
    AttentionRollout(),
    RawAttention(),
    NormAttention(),
    LeaveOneOut(),
)}


_unknown = {m.name: sorted(m.needs - NEEDS.keys()) for m in REGISTRY.values() if m.needs - NEEDS.keys()}
if _unknown:  # a method's needs are declared in NEEDS, in words a page can show
    raise ImportError(f"methods declare needs that NEEDS does not name: {_unknown}")
_no_graph = [m.name for m in REGISTRY.values() if m.browser and "gradients" in m.needs]
if _no_graph:
    raise ImportError(f"methods {_no_graph} need gradients, which the live page's graph has not")
if sum(m.reference for m in REGISTRY.values()) != 1:
    raise ImportError("exactly one registered method is the deletion test's reference ranking")


def runs_in_browser(name: str) -> bool:
    """Whether the live page runs the method (see ``Method.browser``)."""
    return REGISTRY[name].browser


def reference() -> Method:
    """The method every other ranking is compared with (tau-LOO)."""
    return next(m for m in REGISTRY.values() if m.reference)


def ranked_against_reference(name: str) -> bool:
    """Whether a table row has a tau against the reference ranking (the random
    baseline and the reference itself have none)."""
    return name in REGISTRY and not REGISTRY[name].reference


def attribute_all(sentence: EncodedSentence, run: ModelRun,
                  target: int | None = None) -> dict[str, Attribution]:
    """Every registered method on one sentence and model, in registry order."""
    return {name: method.attribute(sentence, run, target) for name, method in REGISTRY.items()}
