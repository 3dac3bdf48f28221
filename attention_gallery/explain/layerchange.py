"""Direct vs inherited change of attention per layer.

Fine-tuning changes a layer's attention in two ways: through the layer's own
weights (here: its LoRA adapter, merged) and through the hidden states it
receives from the layers below, which changed too. Three measurements per layer
L, each the mean over heads of the head change (:mod:`.headchange`) against the
untrained model:

* **total** - the fine-tuned model (every layer's adapter applied);
* **direct** - only layer L's own adapter applied (every other layer as before
  fine-tuning);
* **inherited** - only the adapters of the layers below L applied (0 for layer 0).

Each is measured by running a hybrid model, never derived by subtraction; the
parts need not add up to the total (the effects interact). The hybrid is the
untrained model with some of its encoder layers temporarily swapped for the
fine-tuned model's (restored afterwards): no copy, 2 x layers - 1 extra forward
passes of the sentence. The head does not matter: only attention is compared.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from ..family import encoder_layers
from .call import forward
from .encode import EncodedSentence
from .headchange import head_change

MEANING = (
    "Total: the change of the layer's attention in the fine-tuned model. Direct: the "
    "change when only this layer's own adapter is applied. Inherited: the change when "
    "only the adapters of the layers below it are applied, so this layer's weights are "
    "untouched and only its input changed. Each is measured separately (they need not "
    "add up)."
)


@contextlib.contextmanager
def swapped(untrained, trained, layers) -> object:
    """``untrained`` with its encoder layers ``layers`` replaced by ``trained``'s."""
    mine, theirs = encoder_layers(untrained), encoder_layers(trained)
    saved = {i: mine[i] for i in layers}
    try:
        for i in layers:
            mine[i] = theirs[i]
        yield untrained
    finally:
        for i, layer in saved.items():
            mine[i] = layer


@torch.inference_mode()
def _attention(model, sentence: EncodedSentence) -> np.ndarray:
    _, att = forward(model, sentence.input_ids, sentence.attention_mask, attentions=True)
    return torch.stack([a[0] for a in att]).double().numpy()


def layer_change(pair, sentence: EncodedSentence, untrained_att: np.ndarray,
                 trained_att: np.ndarray) -> dict[str, list[float]]:
    """{'total', 'direct', 'inherited'}: one mean head change per layer."""
    total = head_change(untrained_att, trained_att).mean(axis=1)
    n = len(total)
    direct, inherited = np.zeros(n), np.zeros(n)
    for layer in range(n):
        with swapped(pair.untrained, pair.trained, [layer]) as hybrid:
            direct[layer] = head_change(untrained_att, _attention(hybrid, sentence))[layer].mean()
        if layer:
            with swapped(pair.untrained, pair.trained, range(layer)) as hybrid:
                inherited[layer] = head_change(untrained_att, _attention(hybrid, sentence))[layer].mean()
    return {k: [round(float(x), 4) for x in v]
            for k, v in (("total", total), ("direct", direct), ("inherited", inherited))}
