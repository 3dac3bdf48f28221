"""The one model call: every stage that runs a model goes through :func:`forward`
(the runs of :mod:`.forward`, Integrated Gradients under Captum, the removal
variants of :mod:`.removal`), or :func:`hidden_states` where it needs what each
layer receives (norm-based attention's value vectors)."""

from __future__ import annotations

import torch


def forward(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
            attentions: bool = False) -> tuple[torch.Tensor, tuple | None]:
    """``model`` on a batch: logits (N, labels) and, with ``attentions``, its
    attention weights (one (N, heads, T, T) tensor per layer), else None.

    The model only needs ``model(input_ids=..., attention_mask=...)`` returning an
    object with ``.logits`` (and ``.attentions`` with ``output_attentions=True``).
    No gradient mode is set here: the caller chooses.
    """
    kwargs = {"output_attentions": True} if attentions else {}
    out = model(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
    return out.logits, (out.attentions if attentions else None)


def hidden_states(model, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple:
    """The hidden states of ``model`` on a batch: the input of every layer, then the
    last layer's output (layers + 1 tensors of (N, T, hidden))."""
    out = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
    return out.hidden_states
