"""What differs between model families, in one place: where a classifier keeps its
encoder, its layers, each layer's value and output projections, its pooler and its
head, and how many heads a layer has.

Every module that reaches inside a model asks here (the seeded heads of the
untrained model, the per-layer change, the linear probes, the LoRA modules that
training adapts, norm-based attention's value vectors), never by attribute names
of its own. Adding a family is one entry in :data:`FAMILIES`. The module reads
attributes only: it imports neither torch nor transformers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce


@dataclass(frozen=True)
class Family:
    """Paths (dotted attribute names) inside a ``...ForSequenceClassification`` model."""

    name: str  # transformers' ``config.model_type``
    encoder: str  # the encoder (``model.<encoder>``; also ``model.base_model``)
    layers: str  # the encoder's layer list, from the encoder
    value: str  # a layer's value projection (x W_V + b_V), from the layer
    output: str  # a layer's attention output projection (W_O), from the layer
    pooler: str | None  # the encoder's pooler, from the encoder (None: the family has none)
    pre_classifier: str | None  # a dense layer before the classifier, from the model
    classifier: str  # the classification layer, from the model
    heads: str  # the config field with the number of heads per layer
    lora_modules: tuple[str, ...]  # the linear layers LoRA adapts (names PEFT matches)


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("bert", encoder="bert", layers="encoder.layer", value="attention.self.value",
           output="attention.output.dense", pooler="pooler", pre_classifier=None, classifier="classifier",
           heads="num_attention_heads", lora_modules=("query", "key", "value", "dense")),
    Family("distilbert", encoder="distilbert", layers="transformer.layer", value="attention.v_lin",
           output="attention.out_lin", pooler=None, pre_classifier="pre_classifier", classifier="classifier",
           heads="n_heads", lora_modules=("q_lin", "k_lin", "v_lin", "out_lin")),
)}


def _get(obj, path: str):
    return reduce(getattr, path.split("."), obj)


def family_of(model) -> Family:
    """The family of a model (or of its configuration), by ``config.model_type``."""
    cfg = getattr(model, "config", model)
    kind = getattr(cfg, "model_type", None)
    if kind not in FAMILIES:
        raise NotImplementedError(
            f"models of type {kind!r} are not supported (known: {', '.join(sorted(FAMILIES))}); "
            "add their facts to attention_gallery/family.py")
    return FAMILIES[kind]


def encoder(model):
    """The encoder: everything before the pooler and the head."""
    return getattr(model, family_of(model).encoder)


def encoder_layers(model):
    """The encoder's layers (a ``ModuleList``: items may be swapped in place)."""
    return _get(encoder(model), family_of(model).layers)


def value_projection(model, layer: int):
    """Layer ``layer``'s value projection: a linear map, x -> x W_V + b_V (all heads)."""
    return _get(encoder_layers(model)[layer], family_of(model).value)


def output_projection(model, layer: int):
    """Layer ``layer``'s attention output projection W_O (all heads), before the residual."""
    return _get(encoder_layers(model)[layer], family_of(model).output)


def n_heads(model) -> int:
    cfg = getattr(model, "config", model)
    return int(getattr(cfg, family_of(model).heads))


def head_logits(model, hidden):
    """The classification head on the encoder's last hidden states ``hidden`` (N, T, H):
    the pooler when the family has one (else the first token's state), the dense
    layer before the classifier when there is one (with its ReLU), the classifier."""
    fam = family_of(model)
    pooler = getattr(encoder(model), fam.pooler, None) if fam.pooler else None
    x = pooler(hidden) if pooler is not None else hidden[:, 0]
    if fam.pre_classifier:
        x = _get(model, fam.pre_classifier)(x).relu()
    return _get(model, fam.classifier)(x)


def classifier(model):
    """The classification layer (a linear map to the labels)."""
    return _get(model, family_of(model).classifier)
