"""What a sentence page shows: the functions the notebook template calls.

Each ``show_*`` function computes what it needs (once, cached on the
``Explanation``) and displays it. Inside a gallery build
(``ATTENTION_GALLERY_BUILD=1``, set by ``execute.py``) the bertviz views are light
placeholders drawn by the site from one shared attention blob; in a learner's own
Jupyter they are bertviz's own interactive views.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from IPython.display import HTML, display

from .. import config
from . import views
from .forward import SentenceRun, run_sentence
from ..models import LoadedPair, load_pair

SUMMARY_MIME = "application/vnd.attention-gallery.summary+json"
MODELS = ("trained", "untrained")


def in_gallery() -> bool:
    return os.environ.get("ATTENTION_GALLERY_BUILD") == "1"


@dataclass
class Explanation:
    """One sentence explained by both models of a pair; heavier parts are lazy."""

    pair: LoadedPair
    slug: str
    run: SentenceRun
    extras: dict = field(default_factory=dict)

    @property
    def source_id(self) -> str:
        return f"attention-{self.slug}"

    def view_id(self, view: str, attention: str) -> str:
        return f"{self.slug}-{view.replace('_', '-')}-{attention}"

    @cached_property
    def head_change(self) -> np.ndarray:
        from .headchange import head_change

        return head_change(self.run.untrained.attention, self.run.trained.attention)

    @cached_property
    def top_heads(self):
        from .headchange import top_heads

        return top_heads(self.head_change, k=3)

    @cached_property
    def attributions(self) -> dict:
        from .methods import attribute_all

        return {w: attribute_all(self.pair, self.run.text, w, run=self.run.run(w)) for w in MODELS}

    @cached_property
    def faithfulness(self) -> dict:
        from .faithfulness import faithfulness

        return {w: faithfulness(self.pair, self.run.text, w, attributions=self.attributions[w])
                for w in MODELS}


def explain(text: str, pair: str = config.DEFAULT_PAIR, slug: str = "sentence") -> Explanation:
    """Run both models of ``pair`` on ``text`` (the pair is loaded once per kernel)."""
    loaded = load_pair(pair)
    return Explanation(loaded, slug, run_sentence(loaded, text))


def show_sentence(ex: Explanation, label: str, note: str = "") -> None:
    """The sentence, its gold label and its tokens as the tokenizer sees them."""
    markup = views.sentence_card(ex.run.text, ex.run.tokens, label, note)
    if in_gallery():
        markup += views.attention_blob(ex.source_id, ex.run.tokens, ex.run.trained.attention,
                                       ex.run.untrained.attention)
    display(HTML(markup))


def show_predictions(ex: Explanation, label: str) -> None:
    """Both models' logits, probabilities and predicted label."""
    spec = ex.pair.spec
    rows = {"trained": ex.run.trained, "untrained": ex.run.untrained}
    display(HTML(views.predictions_table(ex.run.labels, rows, label) +
                 f'<p class="gallery-caption">trained: {views.esc(spec.trained.display_name)}; '
                 f"untrained: {views.esc(spec.untrained.display_name)} with a fresh head "
                 f"(seed {spec.head_seed}).</p>"))


def _bertviz_live(ex: Explanation, view: str, attention: str, layer=None, heads=None) -> None:
    import torch
    from bertviz import head_view, model_view

    weights = {"trained": ex.run.trained.attention, "untrained": ex.run.untrained.attention,
               "gained": ex.run.gained, "lost": ex.run.lost}[attention]
    tensors = [torch.from_numpy(np.ascontiguousarray(w[None])) for w in weights]
    if view == "model_view":
        model_view(tensors, ex.run.tokens, display_mode="light")
    else:
        head_view(tensors, ex.run.tokens, layer=layer, heads=heads)


def model_view(ex: Explanation, attention: str = "trained") -> None:
    """bertviz model view (every layer and head) of ``trained``, ``untrained``,
    ``gained`` or ``lost`` attention."""
    if not in_gallery():
        return _bertviz_live(ex, "model_view", attention)
    display(HTML(views.bertviz_view(ex.source_id, "model_view", attention,
                                    ex.view_id("model_view", attention))))


def head_view(ex: Explanation, attention: str = "trained") -> None:
    """bertviz head view, opened on the head that fine-tuning changed most."""
    layer, head, _ = ex.top_heads[0]
    if not in_gallery():
        return _bertviz_live(ex, "head_view", attention, layer=layer, heads=[head])
    display(HTML(views.bertviz_view(ex.source_id, "head_view", attention,
                                    ex.view_id("head_view", attention), layer=layer, heads=[head])))


def show_head_change(ex: Explanation) -> None:
    """Layers x heads map of how much each head's attention changed, top 3 named."""
    from .headchange import MEASURE

    targets = " ".join(ex.view_id("head_view", w) for w in MODELS)
    links = ", ".join(
        f'<a href="#{views.esc(ex.view_id("head_view", "trained"))}" class="gallery-head-link" '
        f'data-targets="{targets}" data-layer="{l}" data-head="{h}">layer {l}, head {h}</a> ({v:.3f})'
        for l, h, v in ex.top_heads
    )
    display(HTML(
        views.heatmap(ex.head_change, "Change of attention per head (trained vs untrained)",
                      highlight=[(l, h) for l, h, _ in ex.top_heads])
        + f'<p class="gallery-caption">{views.esc(MEASURE)} Most changed: {links}. '
          "Click one to open the head views below on it.</p>"
    ))


def show_attributions(ex: Explanation) -> None:
    """Token scores of each method, for the trained and the untrained model."""
    from .methods import METHODS

    specials = set(ex.pair.tokenizer.all_special_tokens)
    muted = [t in specials for t in ex.run.tokens]
    parts = [views.attribution_legend()]
    for which in MODELS:
        run = ex.run.run(which)
        parts.append(f"<h4>{which} model — explaining “{views.esc(ex.run.labels[run.predicted])}” "
                     f"(p = {run.probs[run.predicted]:.2f})</h4>")
        for method, attribution in ex.attributions[which].items():
            caption = METHODS[method].split(":")[0]
            parts.append(views.token_scores(attribution.tokens, attribution.scores, caption, muted))
        ig = ex.attributions[which]["ig"].info
        parts.append(f'<p class="gallery-caption">IG completeness: the scores sum to '
                     f'{views.signed(np.sum(ex.attributions[which]["ig"].scores))}; the target logit '
                     f'moves by {views.signed(ig["f_x"] - ig["f_baseline"])} from baseline to input '
                     f'(error {ig["completeness_error"]:.4f}, {ig["n_steps"]} steps).</p>')
    parts.append("<ul class=\"gallery-caption\">" + "".join(
        f"<li>{views.esc(text)}</li>" for text in METHODS.values()) + "</ul>")
    display(HTML("".join(parts)))


def show_faithfulness(ex: Explanation) -> None:
    """Comprehensiveness and sufficiency of each method against random order."""
    from .faithfulness import READING, REMOVAL

    rows = []
    for which in MODELS:
        for method, scores in ex.faithfulness[which].items():
            rows.append((which, method, views.signed(scores['comprehensiveness']),
                         views.signed(scores['sufficiency'])))
    display(HTML(views.simple_table(("model", "method", "comprehensiveness ↑", "sufficiency ↓"), rows)
                 + f'<p class="gallery-caption">{views.esc(READING)} {views.esc(REMOVAL)}</p>'))


def summary(ex: Explanation, label: str) -> dict:
    """The figures the gallery index and the set-level pages read."""
    out = {"slug": ex.slug, "text": ex.run.text, "label": label, "n_tokens": len(ex.run.tokens)}
    for which in MODELS:
        run = ex.run.run(which)
        out[which] = {
            "predicted": ex.run.labels[run.predicted],
            "confidence": round(float(run.probs[run.predicted]), 4),
            "p_positive": round(float(run.probs[-1]), 4),
            "correct": ex.run.labels[run.predicted] == label,
        }
    if "head_change" in ex.__dict__:
        out["head_change"] = np.round(ex.head_change, 4).tolist()
    if "faithfulness" in ex.__dict__:
        out["faithfulness"] = ex.faithfulness
    return out


def record_summary(ex: Explanation, label: str) -> None:
    """Record the summary in the executed notebook (a cell the site hides)."""
    import json

    data = summary(ex, label)
    display({SUMMARY_MIME: data, "text/plain": json.dumps(data, ensure_ascii=False)}, raw=True)
