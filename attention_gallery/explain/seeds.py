"""The untrained model's head drawn with several seeds, on a shared encoder output.

The untrained model is the pretrained encoder with a head whose weights are drawn
from a seed (``models.seeded_head``). One draw is one arbitrary classifier: to
show how much of its verdict is chance, the head is drawn again with
``config.HEAD_SEEDS`` seeds (the pair's seed, then +1, +2, ...), exactly as
``seeded_head`` draws it, and applied to the encoder's output, computed once.
"""

from __future__ import annotations

import copy

import torch

from .. import config, family
from ..models import seeded_head

_COPIES: dict[int, torch.nn.Module] = {}


def seeds_of(head_seed: int, n: int = config.HEAD_SEEDS) -> list[int]:
    return [int(head_seed) + i for i in range(n)]


def head_keys(model) -> tuple[str, ...]:
    """The parameters drawn from the seed (empty: the head is not random)."""
    return tuple(getattr(model, "gallery_head_keys", ()))


@torch.inference_mode()
def encoder_output(model, input_ids, attention_mask) -> torch.Tensor:
    """The encoder's last hidden states (N, T, H): everything before the head."""
    return family.encoder(model)(input_ids=input_ids, attention_mask=attention_mask)[0]


@torch.inference_mode()
def head_logits(model, hidden: torch.Tensor) -> torch.Tensor:
    """The classification head of ``model`` on encoder output ``hidden`` (eval mode)."""
    return family.head_logits(model, hidden)


def _copy(model) -> torch.nn.Module:
    if id(model) not in _COPIES:
        _COPIES[id(model)] = copy.deepcopy(model).eval()
    return _COPIES[id(model)]


@torch.inference_mode(False)
def seeded_logits(model, hidden: torch.Tensor, seeds) -> torch.Tensor:
    """Logits (seeds, N, labels) of the head drawn with each seed on ``hidden``."""
    keys = head_keys(model)
    if not keys:
        raise ValueError("this model's head was not drawn from a seed")
    other = _copy(model)
    out = []
    for seed in seeds:
        seeded_head(other, keys, int(seed))
        out.append(head_logits(other, hidden))
    return torch.stack(out)


def p_positive(model, sentence, head_seed: int, n: int = config.HEAD_SEEDS) -> list[float]:
    """p(last label) of ``sentence`` under each of ``n`` seeded heads."""
    hidden = encoder_output(model, sentence.input_ids, sentence.attention_mask)
    logits = seeded_logits(model, hidden, seeds_of(head_seed, n))[:, 0]
    return torch.softmax(logits.double(), -1)[:, -1].tolist()
