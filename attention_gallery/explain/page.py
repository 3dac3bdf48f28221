"""What a sentence page shows: the functions the notebook template calls.

:func:`explain` encodes the sentence once and runs both models once; each
``show_*`` function computes what it needs (once, cached on the
:class:`Explanation`) and displays it; :func:`record` computes whatever no
earlier cell did and writes the sentence's
:class:`~attention_gallery.record.SentenceRecord`, the only thing the build
reads, so the record is complete whatever cells the template has.

``mode`` (a template parameter) says where the page is shown: ``"jupyter"``
draws bertviz's own interactive views, ``"gallery"`` (what the build passes)
light placeholders that the site draws from one shared attention blob.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from IPython.core.formatters import format_display_data
from IPython.display import HTML, display

from .. import claims, config
from ..models import LoadedPair, load_checkpoints, load_pair
from ..record import MIME, SCHEMA_VERSION, SentenceRecord, toward_last_label
from . import methods, views
from .encode import EncodedSentence, encode
from .faithfulness import FIGURES, RANDOM_TITLE, READING, deletion_test
from .forward import SentenceRun, checkpoint_run, run_sentence
from .headchange import MEASURE, head_change, sink_facts, top_heads
from .layerchange import layer_change
from .notice import head_anchor, notice, notice_html
from .removal import REMOVAL
from .seeds import p_positive, seeds_of

MODELS = ("trained", "untrained")
MODES = ("jupyter", "gallery")


@dataclass(eq=False)
class Explanation:
    """One sentence explained by both models of a pair; heavier parts are lazy."""

    pair: LoadedPair
    sentence: EncodedSentence
    run: SentenceRun
    slug: str
    title: str
    label: str
    note: str
    mode: str

    @property
    def source_id(self) -> str:
        return views.source_id(self.slug)

    def view_id(self, view: str, attention: str) -> str:
        return f"{self.slug}-{view.replace('_', '-')}-{attention}"

    @cached_property
    def head_change(self) -> np.ndarray:
        return head_change(self.run.untrained.attention, self.run.trained.attention)

    @cached_property
    def head_change_norms(self) -> np.ndarray:
        """:attr:`head_change` on norm-based attention, each row scaled to sum to 1 (as
        the views draw it)."""
        return head_change(views.row_normalised(self.run.untrained.norm_attention),
                           views.row_normalised(self.run.trained.norm_attention))

    @cached_property
    def sink(self) -> dict:
        """Each head's attention to and from [CLS], both models (:func:`.headchange.sink_facts`)."""
        return sink_facts(self.run.trained.attention, self.run.untrained.attention, self.sentence.words)

    @cached_property
    def layer_change(self) -> dict:
        """Mean head change per layer: total, direct (own adapter), inherited."""
        return layer_change(self.pair, self.sentence, self.run.untrained.attention,
                            self.run.trained.attention)

    @cached_property
    def top_heads(self) -> list[tuple[int, int, float]]:
        return top_heads(self.head_change, k=3)

    @cached_property
    def checkpoints(self) -> dict | None:
        """The trained adapter's run on this sentence step by step
        (:func:`.forward.checkpoint_run`), None for a pair without checkpoints."""
        ck = load_checkpoints(self.pair.spec)
        return None if ck is None else checkpoint_run(ck, self.sentence)

    @cached_property
    def timeline(self) -> dict | None:
        """The record's timeline: p(last label) and the top head's change per step."""
        run = self.checkpoints
        if run is None:
            return None
        layer, head, _ = self.top_heads[0]
        untrained = self.run.untrained.attention
        return {"steps": run["steps"], "p_positive": [round(p, 4) for p in run["p_positive"]],
                "top_head_change": [round(float(head_change(untrained, a)[layer, head]), 4)
                                    for a in run["attention"]]}

    @cached_property
    def attributions(self) -> dict:
        """{model: {method name: Attribution}} for every registered method."""
        return {w: methods.attribute_all(self.sentence, self.run.run(w)) for w in MODELS}

    @cached_property
    def seed_p_positive(self) -> list[float]:
        """p(positive) of the untrained head drawn with each of config.HEAD_SEEDS seeds."""
        return p_positive(self.pair.untrained, self.sentence, self.pair.spec.head_seed)

    @property
    def seed_seeds(self) -> list[int]:
        return seeds_of(self.pair.spec.head_seed)

    @cached_property
    def notice(self) -> list:
        """What to notice on the page (:func:`.notice.notice`)."""
        return notice(self)

    @cached_property
    def deletion(self) -> dict:
        """{"trained": (table, RandomBaseline)}: the deletion test of the fine-tuned
        model only. The untrained head's probabilities stay within about 1% of 0.5
        whatever is removed, so its figures would measure noise; they were also half
        of the test's cost (the random baseline's hundreds of forward passes)."""

        return {"trained": deletion_test(self.run.trained, self.attributions["trained"])}

    @cached_property
    def faithfulness(self) -> dict:
        """The record's faithfulness: {"trained": {method or 'random': figures}} and
        ``random_baseline``: {"trained": {'mode', 'se'}}."""
        table, rnd = self.deletion["trained"]
        return {"trained": table,
                "random_baseline": {"trained": {"mode": rnd.mode,
                                                "se": {k: round(v, 4) for k, v in rnd.se.items()}}}}


def explain(text: str, label: str, *, note: str = "", pair: str = config.DEFAULT_PAIR,
            slug: str = "sentence", title: str = "Sentence", mode: str = "jupyter") -> Explanation:
    """Encode ``text`` once and run both models of ``pair`` on it (the pair is
    loaded once per kernel)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    loaded = load_pair(pair)
    sentence = encode(loaded.tokenizer, text)
    return Explanation(pair=loaded, sentence=sentence, run=run_sentence(loaded, sentence),
                       slug=slug, title=title, label=label, note=note, mode=mode)


def show_sentence(ex: Explanation) -> None:
    """The sentence, its gold label and its tokens as the tokenizer sees them."""
    markup = views.sentence_card(ex.sentence.text, ex.sentence.tokens, ex.label, ex.note)
    if ex.mode != "gallery":
        return display(HTML(markup))
    payload = views.attention_payload(ex.sentence.tokens, ex.run.trained.attention, ex.run.untrained.attention)
    norms = views.norms_payload(ex.sentence.tokens, ex.run.trained.norm_attention, ex.run.untrained.norm_attention)
    ck = ex.checkpoints
    steps = None if ck is None else views.steps_payload(ex.sentence.tokens, ck["steps"], ck["attention"])
    _display_html(markup + views.blob_element(ex.source_id, payload, norms, steps),
                  {views.ATTENTION_MIME: {"id": ex.source_id, "blob": payload, "norms": norms,
                                          **({"steps": steps} if steps else {})}})


def _display_html(markup: str, data: dict) -> None:
    """``markup`` displayed as ``HTML(markup)`` displays it (what the page renders), with
    ``data`` beside it: what the build reads of the output (:mod:`.views`)."""
    bundle, _ = format_display_data(HTML(markup))  # HTML has no metadata
    display({**bundle, **data}, raw=True)


def show_notice(ex: Explanation) -> None:
    """"What to notice": the page's lesson in plain sentences, from its numbers."""

    display(HTML(notice_html(ex.notice)))


def show_predictions(ex: Explanation) -> None:
    """Both models' logits, probabilities and predicted label; the untrained head
    shown as chance, with its margin and the fraction of seeded heads saying positive."""
    spec = ex.pair.spec
    rows = {"trained": ex.run.trained, "untrained": ex.run.untrained}
    seeds = ex.seed_p_positive
    positive = sum(p > 0.5 for p in seeds)
    display(HTML(views.predictions_table(ex.run.labels, rows, ex.label) +
                 f'<p class="gallery-caption">fine-tuned: {views.esc(spec.trained.display_name)}; '
                 f"{views.esc(config.UNTRAINED_NAME)}: {views.esc(spec.untrained.display_name)} "
                 f"with a head drawn at random (seed {spec.head_seed}). "
                 "Its verdict is chance, not a judgement: the margin between its two logits is "
                 f"{abs(float(np.diff(ex.run.untrained.logits[:2])[0])):.4f}. Drawn again with "
                 f"{len(seeds)} seeds (the encoder unchanged), the head predicts "
                 f"{views.esc(ex.run.labels[-1])} with {positive} of {len(seeds)} seeds "
                 f"(p({views.esc(ex.run.labels[-1])}) from {min(seeds):.3f} to {max(seeds):.3f}).</p>"))


def _bertviz_live(ex: Explanation, view: str, attention: str, layer=None, heads=None) -> None:
    # bertviz only where the notebook runs in Jupyter mode (bertviz's own views); the
    # build's kernels never import it
    from bertviz import head_view, model_view

    weights = {"trained": ex.run.trained.attention, "untrained": ex.run.untrained.attention,
               "gained": ex.run.gained, "lost": ex.run.lost}[attention]
    tensors = [torch.from_numpy(np.ascontiguousarray(w[None])) for w in weights]
    if view == "model_view":
        model_view(tensors, ex.sentence.tokens, display_mode="light")
    else:
        head_view(tensors, ex.sentence.tokens, layer=layer, heads=heads)


def model_view(ex: Explanation, *attentions: str) -> None:
    """bertviz model view (every layer and head) of ``trained``, ``untrained``,
    ``gained`` or ``lost`` attention; two of them are shown side by side."""
    attentions = attentions or ("trained",)
    if ex.mode == "jupyter":
        for attention in attentions:
            _bertviz_live(ex, "model_view", attention)
        return
    markup = [views.bertviz_view(ex.source_id, "model_view", a, ex.view_id("model_view", a)) for a in attentions]
    _display_html(views.side_by_side(markup) if len(markup) > 1 else markup[0],
                  {views.VIEW_MIME: views.view_data("model_view", attentions)})


def head_view(ex: Explanation, attention: str = "trained") -> None:
    """bertviz head view, opened on the head that fine-tuning changed most."""
    layer, head, _ = ex.top_heads[0]
    if ex.mode == "jupyter":
        return _bertviz_live(ex, "head_view", attention, layer=layer, heads=[head])
    _display_html(views.bertviz_view(ex.source_id, "head_view", attention,
                                     ex.view_id("head_view", attention), layer=layer, heads=[head]),
                  {views.VIEW_MIME: views.view_data("head_view", [attention], layer, [head])})


def compare(ex: Explanation) -> None:
    """Side by side: the head view of one layer for the fine-tuned model, the
    pretrained encoder, and the attention gained and lost, opened on the head
    fine-tuning changed most (in Jupyter: bertviz's head views, one for each of
    :data:`views.COMPARE_ATTENTIONS`)."""
    layer, head, _ = ex.top_heads[0]
    if ex.mode == "jupyter":
        for attention in views.COMPARE_ATTENTIONS:
            _bertviz_live(ex, "head_view", attention, layer=layer, heads=[head])
        return
    _display_html(views.compare_block(ex.source_id, layer, head),
                  {views.VIEW_MIME: views.view_data("head_view", views.COMPARE_ATTENTIONS, layer, [head])})


def show_head_change(ex: Explanation) -> None:
    """Layers x heads map of how much each head's attention changed, top 3 named;
    the same map computed on norm-based attention beside it (the page's weights /
    norms switch shows one at a time, lib/views.js)."""
    targets = " ".join(ex.view_id("head_view", w) for w in MODELS)

    def one(change, measure: str, what: str) -> str:
        top = top_heads(change, k=3)
        links = ", ".join(
            f'<a href="#{head_anchor(l, h)}" class="gallery-head-link" '
            f'data-targets="{targets}" data-layer="{l}" data-head="{h}">layer {l}, head {h}</a> ({v:.3f})'
            for l, h, v in top)
        return (f'<div class="gm-{measure}">'
                + views.heatmap(change, f"Change of {what} per head (trained vs untrained)",
                                highlight=[(l, h) for l, h, _ in top], href=lambda l, h: "#" + head_anchor(l, h))
                + f'<p class="gallery-caption">{views.esc(MEASURE)} Most changed: {links}. '
                  "Click one, or a cell of the map, to compare the two models on that head.</p></div>")

    display(HTML(views.measured(one(ex.head_change, "weights", "attention"),
                                one(ex.head_change_norms, "norms", "norm-based attention"))))


def attribution_scales(ex: Explanation) -> dict:
    """{method name: :class:`views.Scale`}: one colour scale per method over both
    models (a token's share of the larger model's total |score|)."""
    n = len(ex.run.labels)
    return {name: views.colour_scale([toward_last_label(a.scores, a.target, n)
                                      for a in (ex.attributions[w][name] for w in MODELS)],
                                     ex.sentence.special) for name in methods.REGISTRY}


def show_attributions(ex: Explanation) -> None:
    """Token scores of each registered method, for both models, one colour scale
    per method shared by the two rows; signed methods coloured by class."""
    n = len(ex.run.labels)
    scales = attribution_scales(ex)
    parts = [views.attribution_legend(ex.run.labels, {
        m.title: (scales[name], m.unit, m.signed) for name, m in methods.REGISTRY.items()})]
    for which in MODELS:
        run = ex.run.run(which)
        parts.append(f"<h3>{views.esc(views.model_name(which))} — explaining "
                     f"“{views.esc(ex.run.labels[run.predicted])}” "
                     f"(p = {run.probs[run.predicted]:.2f})</h3>")
        captions = []
        for name, method in methods.REGISTRY.items():
            attribution = ex.attributions[which][name]
            scores = (toward_last_label(attribution.scores, attribution.target, n) if method.signed
                      else attribution.scores)
            parts.append(views.token_scores(attribution.tokens, scores, method.title,
                                            ex.sentence.special, vmax=scales[name].full,
                                            signed_scores=method.signed))
            captions.append(method.caption(attribution))
        parts += [f'<p class="gallery-caption">{views.esc(c)}</p>' for c in captions if c]
    parts.append(f'<p class="gallery-caption">{views.esc(ig_baseline_note(ex))}</p>')
    parts.append("<ul class=\"gallery-caption\">" + "".join(
        f"<li>{views.esc(f'{m.title}: {m.description}')}</li>" for m in methods.REGISTRY.values()) + "</ul>")
    display(HTML("".join(parts)))


def show_faithfulness(ex: Explanation) -> None:
    """ERASER's deletion test of each method (top-k and AOPC) against the random
    ranking's expectation, and each method's agreement with leave-one-out."""

    titles = {**{n: m.title for n, m in methods.REGISTRY.items()}, "random": RANDOM_TITLE}
    rows = []
    table, rnd = ex.deletion["trained"]
    target = ex.run.trained.predicted
    p0 = round(float(ex.run.trained.probs[target]), 4)  # as the record keeps it
    labels = ex.run.labels
    verdicts = []
    recorded_se = ex.faithfulness["random_baseline"]["trained"]["se"]  # as the record keeps it
    for method, scores in table.items():
        cells = [views.esc(views.signed(scores[f])) for f in FIGURES]
        if method == "random" and rnd.mode != "exact":  # ± only where a figure was estimated from draws
            cells = [f"{c} ± {rnd.se[f]:.3f}" if rnd.se[f] > 0 else c for c, f in zip(cells, FIGURES)]
        tau = views.signed(scores["tau_loo"], 2) if methods.ranked_against_reference(method) else "—"
        verdict = "—"
        if method != "random":
            claim = claims.faithfulness_claim(titles[method], scores, table["random"], recorded_se, p0,
                                              labels[target], labels[1 - target] if len(labels) == 2 else "another class")
            verdicts.append(claim)
            verdict = claim.html("span", views.esc(claims.VERDICT_LABELS[claim.outcome]),
                                 f' title="{views.esc(claim.text)}"')
        rows.append((views.esc(titles.get(method, method)), *cells, tau, verdict))
    note = ("The random baseline is exact (every subset enumerated)." if rnd.mode == "exact" else
            f"The random baseline is estimated from {rnd.mode.split(':')[1]} random orders "
            f"where a size has too many subsets to enumerate (± one standard error; a figure without ± is exact).")
    untrained = ex.run.untrained
    loo = float(np.max(np.abs(ex.attributions["untrained"][methods.reference().name].scores)))
    skipped = (f"Only the fine-tuned model is tested: the {views.model_name('untrained')} gives "
               f"p(positive) {untrained.probs[-1]:.3f} here, and removing any one word moves its "
               f"probability by at most {loo:.4f} (leave-one-out above), so its figures would "
               f"measure noise.")
    # a soft hyphen: the longest word may break, so the table fits a 1,280 px page
    header = ("method (fine-tuned model)", "compre\u00adhensiveness ↑ (top 1-3)", "sufficiency ↓ (top 1-3)",
              "AOPC compre\u00adhensiveness ↑", "AOPC sufficiency ↓", "tau-LOO", "verdict")
    said = "".join(c.html("li") for c in verdicts)
    display(HTML(views.simple_table(header, rows, "deletion test of each explanation", raw=True)
                 + f'<ul class="gallery-verdicts">{said}</ul>'
                 + f'<p class="gallery-caption">{views.esc(READING)} {views.esc(REMOVAL)} '
                   f'{views.esc(note)} {views.esc(skipped)}</p>'))


def _outcome(ex: Explanation, which: str) -> dict:
    run = ex.run.run(which)
    predicted = ex.run.labels[run.predicted]
    return {
        "predicted": predicted,
        "confidence": round(float(run.probs[run.predicted]), 4),
        "p_positive": round(float(run.probs[-1]), 4),
        "probs": [round(float(p), 4) for p in run.probs],
        "logits": [round(float(x), 4) for x in run.logits],
        "correct": predicted == ex.label,
    }


def _ig_check(ex: Explanation, which: str) -> dict:
    info = ex.attributions[which]["ig"].info
    return {"steps": int(info["n_steps"]), "completeness_error": round(info["completeness_error"], 6),
            "relative_error": round(info["relative_error"], 6),
            "logit_change": round(info["logit_change"], 4),
            "baseline_p_positive": round(info["baseline_p_last"], 4)}


def ig_baseline_note(ex: Explanation) -> str:
    """What IG's baseline already predicts, and what that means for reading it."""
    positive = ex.run.labels[-1]
    parts = []
    for which in MODELS:
        info = ex.attributions[which]["ig"].info
        parts.append(f"to the {views.model_name(which)} it reads as "
                     f"{claims.pct(info['baseline_p_last'])} {positive}")
    trained = ex.attributions["trained"]["ig"].info["baseline_p_last"]
    leaning = positive if trained >= 0.5 else ex.run.labels[0]
    return (f"IG's baseline is this sentence with every word replaced by [PAD], an empty "
            f"sentence; it is not neutral: {'; '.join(parts)}. IG scores explain only the move "
            f"from that baseline to the sentence. The fine-tuned model's baseline already leans "
            f"{leaning}, so for a {leaning} prediction the scores explain a small last step and "
            f"look weak, while for the other class they must explain the whole swing away from "
            f"{leaning} and look strong: compare scores within a row, not between predictions "
            f"of different classes.")


def build_record(ex: Explanation) -> SentenceRecord:
    """The sentence's record, complete: computes whatever was not computed yet."""
    return SentenceRecord(
        schema_version=SCHEMA_VERSION,
        slug=ex.slug,
        title=ex.title,
        text=ex.sentence.text,
        label=ex.label,
        note=ex.note,
        pair=ex.pair.spec.slug,
        labels=list(ex.run.labels),
        tokens=ex.sentence.tokens,
        n_tokens=len(ex.sentence),
        special_tokens=[bool(x) for x in ex.sentence.special],
        trained=_outcome(ex, "trained"),
        untrained=_outcome(ex, "untrained"),
        methods=list(methods.REGISTRY),
        head_change=np.round(ex.head_change, 4).tolist(),
        top_heads=[(l, h, round(v, 4)) for l, h, v in ex.top_heads],
        faithfulness=ex.faithfulness,
        ig={w: _ig_check(ex, w) for w in MODELS},
        layer_change=ex.layer_change,
        scores={name: {"target": int(a.target), "scores": a.recorded()}
                for name, a in ex.attributions["trained"].items()},
        notice=[{"kind": p.kind, "text": p.text, "head": list(p.head) if p.head else None,
                 "rule": p.rule, "outcome": p.outcome, "numbers": p.numbers} for p in ex.notice],
        sink={"to_cls_trained": np.round(ex.sink["to_cls"]["trained"], 4).tolist(),
              "to_cls_untrained": np.round(ex.sink["to_cls"]["untrained"], 4).tolist(),
              "cls_gain": np.round(ex.sink["cls_gain"], 4).tolist(),
              "cls_gain_token": ex.sink["cls_gain_token"].astype(int).tolist()},
        untrained_seeds={"seeds": ex.seed_seeds,
                         "p_positive": [round(float(p), 4) for p in ex.seed_p_positive],
                         "positive_fraction": round(sum(p > 0.5 for p in ex.seed_p_positive)
                                                    / len(ex.seed_p_positive), 4)},
        timeline=ex.timeline,
    )


def record(ex: Explanation) -> None:
    """Write the record into the executed notebook (a cell the site hides)."""
    data = build_record(ex).model_dump(mode="json")
    display({MIME: data, "text/plain": json.dumps(data, ensure_ascii=False)}, raw=True)
