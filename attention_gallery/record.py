"""The record of one sentence: what the kernel hands to the build.

The notebook's hidden last cell (``page.record(ex)``) writes one
:class:`SentenceRecord` as a display output of type :data:`MIME`; the build reads
nothing else from an executed notebook (index, set pages, ``metrics.json``).
Every field is required: a record lacking the head change, the faithfulness
results or a registered explanation method is rejected with what is missing,
never turned into an emptier page. No torch here: the build side imports it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

SCHEMA_VERSION = 6
MIME = "application/vnd.attention-gallery.record+json"
RANDOM = "random"  # the random baseline's key beside the methods in ``faithfulness``


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outcome(_Strict):
    """One model's verdict on the sentence."""

    predicted: str
    confidence: float  # probability of the predicted label, 4 decimals
    p_positive: float  # probability of the last label, 4 decimals
    probs: list[float]
    logits: list[float]
    correct: bool


class Deletion(_Strict):
    """The deletion test of one ranking (see ``explain.faithfulness``)."""

    comprehensiveness: float  # top-k (1, 2, 3 tokens)
    sufficiency: float
    aopc_comprehensiveness: float  # ERASER's bins (1, 5, 10, 20, 50% of the tokens)
    aopc_sufficiency: float
    tau_loo: float  # Kendall's tau against leave-one-out (0 for the random ranking)
    # the same four figures on the target's log-odds (claims decide on them where
    # no variant moves p by claims' min_move_p)
    comprehensiveness_logodds: float
    sufficiency_logodds: float
    aopc_comprehensiveness_logodds: float
    aopc_sufficiency_logodds: float
    removed_p: list[float]  # p(target) with the top k removed, k = 1, 2, 3 (capped)
    kept_p: list[float]  # p(target) with only the top k kept (random: expectations)


class RandomInfo(_Strict):
    """How the random ranking's expectation was obtained for one model."""

    mode: str  # "exact" or "sampled:N"
    se: dict[str, float]  # standard error of each figure, log-odds too (0 where exact)


class Faithfulness(_Strict):
    """The deletion test of the fine-tuned model (the untrained head's
    probabilities stay within about 1% of 0.5, so no ranking can move them)."""

    trained: dict[str, Deletion]
    random_baseline: dict[str, RandomInfo]  # by model: "trained"


class Seeds(_Strict):
    """The untrained head drawn with several seeds on the same encoder output."""

    seeds: list[int]
    p_positive: list[float]  # one per seed, 4 decimals
    positive_fraction: float  # fraction of seeds predicting the last label


class IGCheck(_Strict):
    """How far Integrated Gradients can be trusted on this sentence, for one model."""

    steps: int  # integration steps used (doubled from 32 until within tolerance, cap 512)
    completeness_error: float  # |sum of scores - logit change|, in logits
    relative_error: float  # completeness_error / |logit change|
    logit_change: float  # target logit, input minus baseline
    baseline_p_positive: float  # p(last label) of the baseline input itself


class LayerChange(_Strict):
    """Mean head change per layer: total, from the layer's own adapter, inherited."""

    total: list[float]
    direct: list[float]
    inherited: list[float]


def toward_last_label(scores, target: int, n_labels: int) -> np.ndarray:
    """Signed token scores explaining class ``target``, pointing toward the last label
    (positive): scores explaining another class are negated (two labels), so a colour
    or a sign means the same class in every row."""
    scores = np.asarray(scores, dtype=float)
    return scores if int(target) == n_labels - 1 else -scores


class Scores(_Strict):
    """One method's token scores (special tokens included) and the class explained."""

    target: int
    scores: list[float]  # 4 decimals


class NoticePoint(_Strict):
    """One thing "What to notice" says: a claim (see ``claims``, ``explain.notice``)."""

    kind: str  # verdict, head, tokens, untrained
    text: str
    head: tuple[int, int] | None  # (layer, head) the point is about, 0-based
    rule: str  # the rule in rules.json that decided it
    outcome: str  # what the rule said (chooses the wording)
    numbers: dict  # the numbers the statement cites


class Sink(_Strict):
    """Each head's attention to and from [CLS], both models (``explain.headchange.sink_facts``)."""

    to_cls_trained: list[list[float]]  # layers x heads: the words' mean attention to [CLS]
    to_cls_untrained: list[list[float]]
    cls_gain: list[list[float]]  # largest gain of [CLS]'s attention to one word
    cls_gain_token: list[list[int]]  # that word's position


class Timeline(_Strict):
    """The trained adapter's run on the sentence, checkpoint by checkpoint (the pair's
    ``checkpoints``): p(last label) at each step, and how far the sentence's most-changed
    head (top_heads[0]) had moved from the untrained model (its change, as head_change)."""

    steps: list[int]
    p_positive: list[float]  # 4 decimals
    top_head_change: list[float]  # 4 decimals

    @model_validator(mode="after")
    def _consistent(self) -> "Timeline":
        if not self.steps or sorted(set(self.steps)) != self.steps:
            raise ValueError(f"timeline steps must be increasing: {self.steps}")
        if not len(self.p_positive) == len(self.top_head_change) == len(self.steps):
            raise ValueError("timeline: one p_positive and one top_head_change per step")
        return self


class SentenceRecord(_Strict):
    schema_version: Literal[6]
    slug: str
    title: str
    text: str
    label: str
    note: str
    pair: str
    labels: list[str]  # the pair's labels, by class index (the last is the "positive" one)
    tokens: list[str]
    n_tokens: int
    special_tokens: list[bool]  # per token: a special token of the tokenizer ([CLS], [SEP], ...)
    trained: Outcome
    untrained: Outcome
    methods: list[str]  # registry names, in registry order
    head_change: list[list[float]]  # layers x heads, 4 decimals
    top_heads: list[tuple[int, int, float]]  # (layer, head, change), largest first
    faithfulness: Faithfulness
    untrained_seeds: Seeds
    ig: dict[str, IGCheck]  # by model
    layer_change: LayerChange
    notice: list[NoticePoint]
    sink: Sink
    scores: dict[str, Scores]  # the fine-tuned model's token scores, by method
    timeline: Timeline | None  # None: the pair declares no checkpoints

    @model_validator(mode="after")
    def _consistent(self) -> "SentenceRecord":
        if self.n_tokens != len(self.tokens):
            raise ValueError(f"n_tokens is {self.n_tokens} but there are {len(self.tokens)} tokens")
        if len(self.special_tokens) != self.n_tokens:
            raise ValueError(f"special_tokens has {len(self.special_tokens)} entries for {self.n_tokens} tokens")
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be two or more distinct names: {self.labels}")
        for where, name in (("label", self.label), ("trained.predicted", self.trained.predicted),
                            ("untrained.predicted", self.untrained.predicted)):
            if name not in self.labels:
                raise ValueError(f"{where} {name!r} is not one of the labels {self.labels}")
        if len(set(self.methods)) != len(self.methods) or RANDOM in self.methods:
            raise ValueError(f"methods must be distinct names other than {RANDOM!r}: {self.methods}")
        widths = {len(row) for row in self.head_change}
        if not self.head_change or len(widths) != 1 or 0 in widths:
            raise ValueError("head_change must be a non-empty layers x heads table")
        layers, heads = len(self.head_change), widths.pop()
        lc = self.layer_change
        if not len(lc.total) == len(lc.direct) == len(lc.inherited) == layers:
            raise ValueError(f"layer_change must give {layers} values for each part")
        for name, table in self.sink:
            if len(table) != layers or any(len(row) != heads for row in table):
                raise ValueError(f"sink.{name} must be a {layers} x {heads} table, like head_change")
        for layer, head, _ in self.top_heads:
            if not (0 <= layer < layers and 0 <= head < heads):
                raise ValueError(f"top head ({layer}, {head}) is outside the {layers} x {heads} heads")
        return self

    @property
    def words(self) -> list[int]:
        """Positions of the word tokens (the ones an explanation ranks): every token
        the tokenizer did not mark as special, as the kernel decided
        (``explain.encode.special_mask``)."""
        return [i for i, special in enumerate(self.special_tokens) if not special]

    @property
    def special(self) -> list[bool]:
        """Per token: True for the special tokens :attr:`words` leaves out."""
        return list(self.special_tokens)

    @property
    def positive(self) -> str:
        """The last label: the class ``p_positive`` and signed scores point toward."""
        return self.labels[-1]

    def missing(self, methods) -> list[str]:
        """What this record lacks against the method names ``methods``: the
        methods it does not list and the deletion-test results it does not hold
        (each method's and the random baseline's, for the fine-tuned model)."""
        out = [f"method {m!r}" for m in methods if m not in self.methods]
        results = self.faithfulness.trained
        lacking = [m for m in (*self.methods, *methods, RANDOM) if m not in results]
        out += [f"faithfulness.trained.{m}" for m in dict.fromkeys(lacking)]
        if "trained" not in self.faithfulness.random_baseline:
            out.append("faithfulness.random_baseline.trained")
        return out


class RecordError(ValueError):
    """A notebook whose record is missing, incomplete or malformed."""


HOW = ("the notebook's record cell, `page.record(ex)`, computes every part; "
       "is it missing from the template, or does the template predate it?")


def find(nb) -> dict | None:
    """The record's data in an executed notebook, or None."""
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if MIME in data:
                return dict(data[MIME])
    return None


def parse(data: dict, methods) -> SentenceRecord:
    """A validated record that holds every one of ``methods``; else RecordError
    naming what is missing or wrong."""
    try:
        record = SentenceRecord.model_validate(data)
    except ValidationError as exc:
        missing = [".".join(map(str, e["loc"])) for e in exc.errors() if e["type"] == "missing"]
        other = [f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}"
                 for e in exc.errors() if e["type"] != "missing"]
        parts = []
        if missing:
            parts.append(f"its record lacks {', '.join(missing)}")
        if other:
            parts.append("its record is malformed (" + "; ".join(other) + ")")
        raise RecordError(" and ".join(parts) + f" ({HOW})") from None
    lacking = record.missing(methods)
    if lacking:
        raise RecordError(f"its record lacks {', '.join(lacking)} ({HOW})")
    return record


def read(nb, methods) -> SentenceRecord:
    """The record of an executed notebook, checked against ``methods``."""
    data = find(nb)
    if data is None:
        raise RecordError(f"the executed notebook has no record ({HOW})")
    return parse(data, methods)
