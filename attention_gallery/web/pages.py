"""The gallery's generated pages: index, model pair, set-level figures, metrics.json.

Input: one :class:`~attention_gallery.record.SentenceRecord` per sentence (what
the notebook's record cell wrote). Output: Markdown pages whose sentence-derived parts are raw,
escaped HTML (a sentence is shown as text, never interpreted as Markdown or markup).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import claims, config
from ..catalog import Catalog
from ..explain import views
from ..explain.headchange import top_heads
from ..explain.notice import head_anchor
from ..intervals import bootstrap
from ..manifest import Manifest
from ..pairs import PairSpec, get_pair
from ..record import RANDOM, SentenceRecord
from ..records import read_record_file
from . import overview, teaching
from .references import citation
from .teaching import grouped_tables, heads_to_sentences, sentence_cell, verdict_cell
from .training import training_metrics, training_page


def cite(key: str, prefix: str = "../../") -> str:
    """A citation by its entry in the references table (docs/references.md)."""
    return citation(key, prefix)


def sentence_rows(records: list[SentenceRecord], prefix: str) -> str:
    rows = []
    for r in records:
        rows.append(
            f"<tr>{sentence_cell(r, prefix)}"
            f'<td><span class="gallery-label gallery-{views.esc(r.label)}">{views.esc(r.label)}</span></td>'
            f"{verdict_cell(r, 'trained')}{verdict_cell(r, 'untrained')}</tr>"
        )
    return "".join(rows)


def sentence_table(records: list[SentenceRecord], prefix: str = "../") -> str:
    """A table of sentences; ``prefix`` leads from the page to the gallery folder."""
    body = sentence_rows(records, prefix)
    return views.scroll_frame(
        '<table class="gallery-table gallery-index"><thead><tr>'
        f"<th>sentence (its page)</th><th>gold</th><th>{views.esc(views.model_name('trained'))}</th>"
        f"<th>{views.esc(views.model_name('untrained'))}</th></tr></thead>"
        f"<tbody>{body}</tbody></table>", "sentences")


def untrained_set_figures(records: list[SentenceRecord]) -> dict:
    """The untrained head on the gallery set: its class bias and its seeds."""
    n = len(records)
    negative = sum(r.untrained.p_positive < 0.5 for r in records)
    # accuracy of each seeded head on the set: a head is right where it predicts
    # the gold label (p(last label) > 0.5 means the last label)
    per_seed = []
    if n:
        for j in range(len(records[0].untrained_seeds.p_positive)):
            per_seed.append(float(np.mean([(r.untrained_seeds.p_positive[j] > 0.5) == (r.label == r.positive)
                                           for r in records])))
    return {"n": n, "predicts_negative": negative,
            "seed_accuracy": [round(a, 4) for a in per_seed],
            "accuracy_mean": round(float(np.mean(per_seed)), 4) if per_seed else 0.0,
            "accuracy_sd": round(float(np.std(per_seed, ddof=1)), 4) if len(per_seed) > 1 else 0.0,
            "predicts_negative_fraction": round(negative / n, 4) if n else 0.0,
            "seed_positive_fraction_mean": round(float(np.mean(
                [r.untrained_seeds.positive_fraction for r in records])), 4) if n else 0.0,
            "margin_max": round(max((abs(r.untrained.logits[0] - r.untrained.logits[-1])
                                     for r in records), default=0.0), 4)}


def index_page(pair: PairSpec, records: list[SentenceRecord], entries: list[dict] | None = None) -> str:
    entries = entries if entries is not None else [{"slug": r.slug} for r in records]
    n = len(records)
    right = sum(r.trained.correct for r in records)
    u = untrained_set_figures(records)
    return f"""# Gallery

{n} sentences, each explained by both models of the pair **{pair_text(pair.title)}**:
the fine-tuned model and {config.UNTRAINED_NAME} (the same encoder before
fine-tuning, with a classification head drawn at random).
The fine-tuned model gets **{right} of {n}** right. The head of the other model was
never trained, so its verdicts are chance, not judgements: its two logits differ by at
most {u['margin_max']:.3f}, yet it is not a coin flip either: it predicts negative on
**{u['predicts_negative']} of {n}** sentences, a bias of this one random head (see
[the model pair](pair.md)). On average {claims.pct(u['seed_positive_fraction_mean'])} of
{config.HEAD_SEEDS} heads drawn with other seeds predict positive on a sentence, and
those heads get {claims.pct(u['accuracy_mean'])} of this set right on average (standard deviation
{claims.pct(u['accuracy_sd'])} over seeds): whatever share of the set happens to carry the label
each head leans to.
Each row links to the sentence's page: predictions, bertviz views of both models,
what fine-tuning changed, token attributions and how faithful they are.

{_listing(records, entries)}

Percentages are the fine-tuned model's confidence in its own prediction; ✓ means the
prediction matches the gold label. For the untrained head: its prediction, the margin
between its logits, and the fraction of {config.HEAD_SEEDS} seeded heads predicting positive.
"""


def _listing(records: list[SentenceRecord], entries: list[dict]) -> str:
    """The sentences: a set small enough to read whole, group by group in teaching
    order, then the explorer; a larger one (more than ``config.NAV_SENTENCES_MAX``) in
    the explorer alone, a page of rows at a time."""
    find = ("## Find a sentence\n\nSearch the sentences' words, sort them (by the fine-tuned model's "
            "confidence, by how much their most-changed head changed, by length ...) and filter "
            "them (right or wrong, predicted class, group, most-changed head). The address keeps "
            "what you chose, so a view of the set is a link.\n\n" + overview.explorer(records, entries))
    if len(records) > config.NAV_SENTENCES_MAX:
        return "Start with [the guided lesson](lesson.md), or find a sentence.\n\n" + find
    return ("Start with [the guided lesson](lesson.md), which walks through the groups below in "
            "teaching order, or pick a sentence.\n\n" + grouped_tables(records, entries) + "\n\n" + find)


def _bias(evaluation: dict, records: list[SentenceRecord]) -> str:
    """The untrained head's class bias and seed spread, on SST-2 dev and the gallery set."""
    parts = []
    if "untrained_predicts_negative_fraction" in evaluation:
        parts.append(
            f"On {views.esc(evaluation.get('data', 'SST-2 dev'))} the untrained head (seed "
            f"{evaluation['untrained_head_seeds'][0]}) predicts negative on "
            f"**{evaluation['untrained_predicts_negative_fraction']:.0%}** of the sentences "
            f"(the fine-tuned model on {evaluation['trained_predicts_negative_fraction']:.0%}). "
            f"Drawn with {len(evaluation['untrained_head_seeds'])} seeds, the head's accuracy is "
            f"**{evaluation['untrained_seed_accuracy_mean']:.1%} ± "
            f"{evaluation['untrained_seed_accuracy_sd']:.1%}** (mean ± standard deviation over "
            f"seeds; from {min(evaluation['untrained_seed_accuracy']):.1%} to "
            f"{max(evaluation['untrained_seed_accuracy']):.1%}), and the fraction of sentences it "
            f"calls negative ranges from {min(evaluation['untrained_seed_predicts_negative_fraction']):.0%} "
            f"to {max(evaluation['untrained_seed_predicts_negative_fraction']):.0%}. Each random "
            "head leans to one class or the other; its accuracy is whatever share of the data "
            "that class has, so it is not evidence of any understanding.")
    if records:
        u = untrained_set_figures(records)
        parts.append(
            f"On the {u['n']} gallery sentences it predicts negative on "
            f"**{u['predicts_negative']} of {u['n']}** ({u['predicts_negative_fraction']:.0%}); "
            f"its two logits never differ by more than {u['margin_max']:.3f}, and on average "
            f"{claims.pct(u['seed_positive_fraction_mean'])} of the {config.HEAD_SEEDS} seeded heads "
            "predict positive on a sentence.")
    return "\n\n".join(parts)


_MARKDOWN_SYNTAX = frozenset(string.punctuation) - set("&<>\"'")  # html.escape takes those


def pair_text(value) -> str:
    """A field of a pairs file (or of a model's own configuration) as text in a
    Markdown page: one line, HTML-escaped, and every ASCII punctuation mark written as a
    character reference, so that neither Markdown nor its extensions read it as syntax
    (no link, image, emphasis, code, table cell, heading or attr_list attribute): the
    page shows it as written. A pairs file travels between people like a sentence file."""
    return "".join(f"&#{ord(ch)};" if ch in _MARKDOWN_SYNTAX else views.esc(ch)
                   for ch in " ".join(str(value).split()))


def _code(value) -> str:
    """``value`` inside a Markdown code span, which shows everything as written but a
    backtick (it would end the span)."""
    return " ".join(str(value).split()).replace("`", "'")


def pair_page(pair: PairSpec, evaluation: dict | None, arch: dict, records: list[SentenceRecord] = (),
              training: dict | None = None) -> str:
    """The pair's page, from its own declared facts: the registry entry, the model's
    configuration (``arch``: :func:`~attention_gallery.models.architecture`), the
    recorded evaluation and training, and the gallery's records."""
    if evaluation:
        acc = (f"| model | accuracy on {views.esc(evaluation.get('data', 'SST-2 dev'))} (n = {evaluation['n']}) |\n"
               f"|---|---|\n| fine-tuned | **{evaluation['trained_accuracy']:.2%}** |\n"
               f"| {config.UNTRAINED_SHORT} (seed {pair.head_seed}) | {evaluation['untrained_accuracy']:.2%} |\n\n"
               f"Measured with `{views.esc(evaluation.get('command', ''))}`.\n\n"
               + _bias(evaluation, list(records)))
    else:
        acc = "No accuracy has been recorded for this pair yet: run `python scripts/evaluate.py --pair " \
              f"{pair.slug} --record`."
    t, training = training, ""
    if t:
        runs = t.get("runs") or []
        also = (f" It is run {t.get('seed')} of {len(runs)} runs of the same recipe (seeds "
                f"{', '.join(str(r['seed']) for r in runs)}: dev accuracy "
                f"{', '.join('%.1f%%' % (100 * r['dev_accuracy']) for r in runs)}); "
                "[How training changed attention](training.md) shows them step by step.") if len(runs) > 1 else ""
        training = ("\n## How the trained model was made\n\n"
                    f"`{views.esc(t.get('command', 'python scripts/train_default.py'))}` "
                    f"trains a LoRA adapter (rank {t.get('rank')}, on every linear layer) and a new "
                    f"classification head for {t.get('steps')} steps of {t.get('batch_size')} "
                    f"phrases from SST-2 train ({t.get('rows')} phrases), seed {t.get('seed')}, "
                    f"in {t.get('seconds', 0) / 60:.1f} minutes"
                    + (f" on {views.esc(t['hardware'])}" if t.get("hardware") else "")
                    + f". The adapter ({t.get('adapter_kb', 0):.0f} KB) is merged into the base at "
                    f"load time, so the trained model is an ordinary {pair_text(arch['model_type'])} "
                    f"classifier with changed weights.{also}\n")
    return f"""# Model pair: {pair_text(pair.title)}

{pair_text(pair.description)}

| | model | source |
|---|---|---|
| fine-tuned | {pair_text(pair.trained.display_name)} | {pair_text(pair.trained.hub or 'committed adapter ' + str(pair.trained.adapter or pair.trained.path))} |
| {config.UNTRAINED_SHORT} | {pair_text(pair.untrained.display_name)} + fresh 2-label head (seed {pair.head_seed}) | {pair_text(pair.untrained.hub or pair.untrained.package or pair.untrained.path)} |

Labels: index 0 = {pair_text(pair.labels[0])}, 1 = {pair_text(pair.labels[1])}.
Both models: a `{_code(arch['model_type'])}` encoder of {arch['layers']} layers × {arch['heads']}
heads (hidden size {arch['hidden']}), as its configuration declares.

## Accuracy

{acc}
{training}
## The untrained head

"Untrained" means the pretrained encoder, unchanged, with a classification head that
was never trained. Its weights are drawn from a normal distribution (std {arch['init_std']:g}, the
encoder's own `initializer_range`) with a
fixed seed ({pair.head_seed}), so every machine builds the same untrained model; a
different seed gives different (equally meaningless) predictions, so read its
predictions as chance, with a bias: one random head usually leans to one class (see
the accuracy section). Its *attention* does not depend on the head at all: it is the
pretrained encoder's. The pages call it "{config.UNTRAINED_NAME}".
"""


FIGURES = ("comprehensiveness", "sufficiency", "aopc_comprehensiveness", "aopc_sufficiency", "tau_loo")


def _mean_figures(results) -> dict:
    return {f: round(float(np.mean([getattr(d, f) for d in results])), 4) for f in FIGURES}


def record_outcome(r: SentenceRecord, method: str) -> dict:
    """The faithfulness rule (claims.faithfulness_outcome) on one record's numbers."""
    table = r.faithfulness.trained
    return claims.faithfulness_outcome(table[method].model_dump(), table[RANDOM].model_dump(),
                                       r.faithfulness.random_baseline["trained"].se, r.trained.confidence)


def verdicts(records: list[SentenceRecord], catalog: Catalog) -> dict:
    """Each method's verdicts over the set, pooled and by predicted class."""
    out = {}
    classes = sorted({r.trained.predicted for r in records})
    for m in catalog.titles():
        if m == RANDOM:
            continue
        rows = [(r.trained.predicted, record_outcome(r, m)) for r in records]
        out[m] = {"pooled": claims.verdict_summary([o for _, o in rows]),
                  "by_predicted_class": {c: claims.verdict_summary([o for k, o in rows if k == c]) for c in classes}}
    return out


def sink_figures(records: list[SentenceRecord]) -> dict:
    """The words' attention to [CLS] in each sentence's most changed head, before and
    after fine-tuning, and in how many sentences it fell by the head rule's threshold."""
    before, after = [], []
    for r in records:
        l, h, _ = r.top_heads[0]
        before.append(r.sink.to_cls_untrained[l][h])
        after.append(r.sink.to_cls_trained[l][h])
    fell = sum(a <= b - claims.HEAD["min_change"] for b, a in zip(before, after))
    lo, hi = claims.wilson(fell, len(records))
    return {"n": len(records), "fell": fell, "fell_low": round(lo, 4), "fell_high": round(hi, 4),
            "before_median": round(float(np.median(before)), 4) if before else 0.0,
            "after_median": round(float(np.median(after)), 4) if after else 0.0}


def agreement(records: list[SentenceRecord], catalog: Catalog) -> dict:
    """Each method's tau-LOO over the set: mean and 95% interval."""
    out = {}
    for m in catalog.titles():
        if not catalog.ranked_against_reference(m):
            continue
        mean, lo, hi = claims.mean_interval([r.faithfulness.trained[m].tau_loo for r in records])
        out[m] = {"mean": round(mean, 4), "low": round(lo, 4), "high": round(hi, 4),
                  "values": [r.faithfulness.trained[m].tau_loo for r in records]}
    return out


def aggregate(records: list[SentenceRecord], catalog: Catalog, findings: dict | None = None,
              training: dict | None = None) -> dict:
    """Set-level figures (``metrics.json``): the fine-tuned model's mean deletion-test
    results per method and for random order, pooled and by predicted class; how the
    random baseline was obtained; the untrained head's bias; the mean head change;
    the findings over SST-2 dev (the manifest's, as the build measured them); the
    training runs (the manifest's training.json, :func:`.training.training_metrics`)."""
    faith, random_mode, random_se = {}, "exact", {}
    if records:
        classes = sorted({r.trained.predicted for r in records})
        for m in catalog.titles():
            faith[m] = _mean_figures([r.faithfulness.trained[m] for r in records])
            faith[m]["by_predicted_class"] = {
                c: {**_mean_figures([r.faithfulness.trained[m] for r in records if r.trained.predicted == c]),
                    "n": sum(r.trained.predicted == c for r in records)}
                for c in classes}
        infos = [r.faithfulness.random_baseline["trained"] for r in records]
        # "sampled:D" per sentence; every draw count the set's records used, in order
        # (one in a build: the catalog's; the cache keys records by it)
        draws = sorted({int(i.mode.split(":", 1)[1]) for i in infos if i.mode != "exact"})
        random_mode = "sampled:" + "/".join(map(str, draws)) if draws else "exact"
        # standard error of the set mean: independent draws per sentence
        random_se = {f: round(float(np.sqrt(sum(i.se.get(f, 0.0) ** 2 for i in infos)) / len(infos)), 4)
                     for f in FIGURES if f != "tau_loo"}
        random_se["exact_sentences"] = sum(i.mode == "exact" for i in infos)
    head = np.round(np.mean([r.head_change for r in records], axis=0), 4).tolist() if records else []
    u = untrained_set_figures(records)
    untrained = {"predicts_negative_fraction": u["predicts_negative_fraction"],
                 "head_seeds": len(records[0].untrained_seeds.seeds) if records else 0,
                 "accuracy_mean": u["accuracy_mean"], "accuracy_sd": u["accuracy_sd"],
                 "seed_accuracy": u["seed_accuracy"],
                 "seed_positive_fraction_mean": u["seed_positive_fraction_mean"],
                 "margin_max": u["margin_max"]}
    ig = {"baseline": catalog.methods["ig"].settings["baseline"],
          "baseline_p_positive_median": round(float(np.median([r.ig["trained"].baseline_p_positive
                                                               for r in records])), 4) if records else 0.0,
          "baseline_p_positive_range": [min((r.ig["trained"].baseline_p_positive for r in records), default=0.0),
                                        max((r.ig["trained"].baseline_p_positive for r in records), default=0.0)],
          "completeness_error_max": max((r.ig["trained"].relative_error for r in records), default=0.0),
          "steps_max": max((r.ig[w].steps for r in records for w in ("trained", "untrained")), default=0),
          "untrained_completeness_error_abs_max": max((r.ig["untrained"].completeness_error
                                                       for r in records), default=0.0)}
    layer_change = {part: (np.round(np.mean([getattr(r.layer_change, part) for r in records], axis=0), 4).tolist()
                           if records else []) for part in ("total", "direct", "inherited")}
    return {"faithfulness": faith, "random_baseline": random_mode, "random_baseline_se": random_se,
            "ig": ig, "untrained": untrained, "layer_change": layer_change, "head_change": head,
            "verdicts": verdicts(records, catalog) if records else {}, "sink": sink_figures(records),
            "agreement": agreement(records, catalog) if records else {},
            "right": sum(r.trained.correct for r in records), "n": len(records),
            **({"findings": metrics_findings(findings)} if findings else {}),
            **({"training": t} if (t := training_metrics(training, findings)) else {})}


def metrics_findings(findings: dict) -> dict:
    """``metrics.json``'s ``findings``: the set, each card's claim, source, value,
    interval, runs' spread, rule and verdict, and the measurements in full."""
    keep = ("id", "claim", "source", "value", "ci95", "runs_sd", "runs", "runs_verdicts", "rule", "verdict", "unit")
    return {"set": {"name": findings["set"]["name"], "n": findings["set"]["n"]},
            "cards": [{k: c[k] for k in keep if k in c} for c in findings["cards"]],
            **{k: findings[k] for k in ("sinks", "sinks_norm", "entropy", "layer_change", "head_ablation")
               if k in findings},
            **({"method_tau": {"methods": findings["method_tau"]["methods"],
                               "matrix": findings["method_tau"]["matrix"]}} if findings.get("method_tau") else {})}


def _ci_text(mean: float, lo: float, hi: float, digits: int = 3) -> str:
    return f"{mean:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def inherited_claim(records: list[SentenceRecord]) -> claims.Claim | None:
    """Is the last layer's change mostly inherited from the layers below, or its own
    adapter's? Said only where the 95% bootstrap interval over the sentences of
    inherited less direct change excludes 0 (``claims.inherited``)."""
    usable = [r for r in records if r.layer_change.direct and r.layer_change.inherited]
    if not usable:
        return None
    last = len(usable[0].layer_change.total) - 1
    d = np.array([r.layer_change.inherited[last] - r.layer_change.direct[last] for r in usable])
    mean, lo, hi = bootstrap(d) if len(d) > 1 else (d.mean(), -np.inf, np.inf)  # one sentence: no interval
    direct = float(np.mean([r.layer_change.direct[last] for r in usable]))
    inherited = float(np.mean([r.layer_change.inherited[last] for r in usable]))
    nums = (f"layer {last}: its own adapter alone {direct:.3f}, the adapters below it alone {inherited:.3f}; "
            + (f"the difference {claims.signed(float(mean))}, 95% interval {claims.signed(float(lo))} to "
               f"{claims.signed(float(hi))} over {len(usable)} sentences" if len(d) > 1 else
               "one sentence, so no interval"))
    if lo > 0:
        return claims.Claim("inherited", "inherited", "inherited",
                            f"Most of the last layer's change is inherited from the layers beneath it ({nums}): a large "
                            "change in a late layer does not mean fine-tuning rewrote that layer.")
    if hi < 0:
        return claims.Claim("inherited", "inherited", "direct",
                            f"Most of the last layer's change is its own adapter's ({nums}).")
    return claims.Claim("inherited", "inherited", "neither",
                        f"Neither the last layer's own adapter nor the layers beneath it account for more of its change "
                        f"beyond the noise ({nums}).")


def heads_page(metrics: dict, catalog: Catalog, records: list[SentenceRecord] | None = None) -> str:
    change = np.asarray(metrics["head_change"])
    if change.size == 0:
        return "# Heads fine-tuning changed\n\nNo sentences yet.\n"
    records = records or []
    per_layer = change.sum(axis=1)
    top = top_heads(change, k=3)
    # intervals over the gallery's sentences (the records), where there are at least two
    per_sentence = np.asarray([r.head_change for r in records], dtype=np.float64) if len(records) > 1 else None
    if per_sentence is not None:
        m, lo, hi = bootstrap(per_sentence.mean(axis=2))
        layer_cells = [_ci_text(*v) for v in zip(m, lo, hi)]
        hm, hlo, hhi = bootstrap(per_sentence)
        top_text = ", ".join(f"layer {l} head {h} ({_ci_text(hm[l, h], hlo[l, h], hhi[l, h])})" for l, h, _ in top)
    else:
        layer_cells = [f"{change[l].mean():.3f}" for l in range(len(change))]
        top_text = ", ".join(f"layer {l} head {h} ({v:.3f})" for l, h, v in top)
    layer_rows = "\n".join(f"| {l} | {v:.3f} | {c} |" for l, (v, c) in enumerate(zip(per_layer, layer_cells)))
    lc = metrics.get("layer_change", {})
    parts_ci = {}
    if per_sentence is not None and lc.get("total") and all(r.layer_change.direct for r in records):
        for part in ("total", "direct", "inherited"):
            parts_ci[part] = bootstrap([getattr(r.layer_change, part) for r in records])
    def cell(part, l, v):
        return _ci_text(*(x[l] for x in parts_ci[part])) if part in parts_ci else f"{v:.3f}"
    split_rows = "\n".join(f"| {l} | {cell('total', l, t)} | {cell('direct', l, d)} | {cell('inherited', l, i)} |"
                           for l, (t, d, i) in enumerate(zip(lc.get("total", []), lc.get("direct", []), lc.get("inherited", []))))
    split_text = ""
    if lc.get("total"):
        last = len(lc["total"]) - 1
        depth = claims.depth_claim(lc["total"])
        late = depth.numbers["largest_layer"] >= last - 1
        papers = (f"{cite('kovaleva-2019')} and {cite('hao-2020')} found that fine-tuning BERT changes "
                  "the last layers most" + (": here too, the largest change is in one of the last two layers."
                                            if late else "; here the largest change is not in the last two layers."))
        inherited = inherited_claim(records)
        split_text = (f"{depth.html()} {papers} " + (inherited.html() if inherited else "")
                      + " Those papers, comparing whole models, measured the total only. "
                      "[The findings](findings.md) test the same claim on all of SST-2 dev.")
    interval = ("Intervals: 95% bootstrap over the gallery's sentences (2000 resamples, seed 0)."
                if per_sentence is not None else "")
    return f"""# Heads fine-tuning changed

{catalog.head_change} Here it is averaged over all {metrics['n']} sentences of the gallery: one
cell per head, darker = changed more.

{views.heatmap(change, f"Mean change of attention per head over {metrics['n']} sentences", highlight=[(l, h) for l, h, _ in top], href=lambda l, h: f"#{head_anchor(l, h)}")}

The most changed heads overall: {top_text}. {interval}
Fine-tuning with a LoRA adapter changes every layer a little; the table shows where the
attention patterns moved most. A large change says a head now looks elsewhere, not
that it matters for the decision: compare with the faithfulness page.

| layer | total change (sum over heads) | mean per head (95% interval) |
|---|---|---|
{layer_rows}

## Where each head changed most

Every head (a cell of the map above leads to its row), with the sentences of the set
where it changed most; a link opens the sentence's side-by-side comparison on that
head. The count of sentences whose most changed head it is opens the overview,
filtered to them and sorted by how much their top head changed.

{heads_to_sentences(records or [], prefix="../")}

## Direct or inherited?

A layer's attention can change because its own weights changed (its LoRA adapter) or
because the hidden states it receives from the layers below changed. To tell them apart,
the build runs hybrid models: the untrained model with only layer L's adapter applied
(**direct**), and with only the adapters of the layers below L applied (**inherited**).
{catalog.layer_change} Mean head change per layer over the {metrics['n']} sentences:

| layer | total (95% interval) | direct (own adapter only) | inherited (adapters below only) |
|---|---|---|---|
{split_rows}

{split_text}
"""


def _faith_rows(faith: dict, catalog: Catalog, se: dict | None = None) -> str:
    titles = catalog.titles()
    rows = []
    for m in titles:
        if m not in faith:
            continue
        cells = [views.signed(faith[m][f]) for f in FIGURES[:4]]
        if m == RANDOM and se:  # ± only on a figure estimated from draws (an exact one has none)
            cells = [f"{c} ± {se[f]:.3f}" if se.get(f) else c for c, f in zip(cells, FIGURES[:4])]
        tau = views.signed(faith[m]["tau_loo"], 2) if catalog.ranked_against_reference(m) else "—"
        rows.append(f"| {titles[m]} | " + " | ".join(cells) + f" | {tau} |")
    return "\n".join(rows)


HEADER = ("| method | comprehensiveness ↑ (top 1-3) | sufficiency ↓ (top 1-3) | AOPC comprehensiveness ↑ "
          "| AOPC sufficiency ↓ | tau-LOO |\n|---|---|---|---|---|---|")


def verdict_shares(metrics: dict, catalog: Catalog, predicted: str | None = None) -> str:
    """A table: each method's share of sentences in each verdict, and its mean gap
    to random with the 95% interval, pooled or for one predicted class."""
    titles = catalog.titles()
    head = "".join(f"<th>{views.esc(claims.VERDICT_LABELS[o])}</th>" for o in claims.FAITH["outcomes"])
    rows = []
    for m, v in metrics.get("verdicts", {}).items():
        summary = v["pooled"] if predicted is None else v["by_predicted_class"].get(predicted)
        if summary is None:
            continue
        cells = "".join(f"<td>{claims.pct(summary['shares'][o])}</td>" for o in claims.FAITH["outcomes"])
        gaps = "".join(f"<td>{views.esc(claims.interval_text(g['mean'], g['low'], g['high']))}</td>"
                       for g in (summary["gap_comprehensiveness"], summary["gap_sufficiency"]))
        rows.append(f"<tr><th>{views.esc(titles[m])}</th>{cells}{gaps}</tr>")
    if not rows:
        return ""
    return views.scroll_frame(
        '<table class="gallery-table"><thead><tr><th>method</th>' + head +
        "<th>mean gap to random, comprehensiveness (95% interval)</th>"
        "<th>mean gap to random, sufficiency (95% interval)</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table>", "verdicts" + (f" ({predicted})" if predicted else ""))


def _interval(v: float, ci, unit: str) -> str:
    return f"{v:.3f}" + (f" (95% interval {ci[0]:.3f} to {ci[1]:.3f})" if ci else "")


def _card_table(series: dict) -> str:
    """Per layer, each series' mean over sentences and its 95% interval."""
    if not series:
        return ""
    names = list(series)
    head = "| layer | " + " | ".join(views.esc(n) for n in names) + " |\n|---|" + "---|" * len(names)
    rows = [f"| {row['layer']} | " + " | ".join(
        f"{series[n][i]['mean']:.3f} [{series[n][i]['ci95'][0]:.3f}, {series[n][i]['ci95'][1]:.3f}]" for n in names)
        + " |" for i, row in enumerate(series[names[0]])]
    return head + "\n" + "\n".join(rows) + "\n"


def _methods_tables(card: dict) -> str:
    """The methods card's Kendall tau matrix and each method's AOPC gap to random."""
    mt = card["method_tau"]
    titles = mt["titles"]
    head = "| tau | " + " | ".join(views.esc(t) for t in titles) + " |\n|---|" + "---|" * len(titles) + "\n"
    rows = "\n".join(f"| {views.esc(a)} | " + " | ".join(f"{v:.2f}" for v in row) + " |"
                      for a, row in zip(titles, mt["matrix"]))
    out = (f"\nKendall's tau-b between the methods' token scores, mean over the sample's sentences of 3 words or more "
           f"(1 on the diagonal):\n\n{head}{rows}\n")
    names = dict(zip(mt["methods"], titles))
    for group, figures in card["against_random"].items():
        out += (f"\nGap to the random ranking ({'all' if group == 'all' else 'predicted ' + views.esc(group)}, "
                f"{figures['n']} sentences; comprehensiveness: higher is better, sufficiency: lower is better; "
                "95% intervals):\n\n| method | AOPC comprehensiveness | AOPC sufficiency | in log-odds: comp. | suff. |\n"
                "|---|---|---|---|---|\n")
        out += "\n".join(
            f"| {views.esc(names.get(n, n))} | "
            + " | ".join(f"{v[f]['mean']:+.3f} [{v[f]['ci95'][0]:+.3f}, {v[f]['ci95'][1]:+.3f}]"
                         for f in ("aopc_comprehensiveness", "aopc_sufficiency", "aopc_comprehensiveness_logodds",
                                   "aopc_sufficiency_logodds")) + " |"
            for n, v in figures.items() if n != "n") + "\n"
    return out


def _shows_best(card: dict, entries: list[dict]) -> str:
    """A card's links: the gallery sentences that show it best and its heads, each head
    opened on the gallery sentence where it changed most."""
    ex = card.get("examples") or {}

    def page(row):
        return entries[row] if row is not None and 0 <= row < len(entries) else None

    # sentence pages are notebooks: linked by their address, as the other generated pages link them
    links = [f'<a href="../{views.esc(e["slug"])}/">{views.esc(e["title"])}</a>' for e in map(page, ex.get("rows", [])) if e]
    heads = []
    for h in ex.get("heads", []):
        e = page(h.get("row"))
        name = f"layer {h['layer']}, head {h['head']}"
        heads.append(f'<a href="../{views.esc(e["slug"])}/#{head_anchor(h["layer"], h["head"])}">{name}</a>' if e else name)
    if card["id"] == "methods":
        return "- **Shows it best**: each sentence's deletion tests, on [Faithful explanations](faithfulness.md)\n"
    if not links and not heads:
        return ""
    parts = []
    if links:
        parts.append(f"{views.esc(ex.get('rows_by', 'sentences'))}: {', '.join(links)}")
    if heads:
        parts.append(f"{views.esc(ex.get('heads_by', 'heads'))} (each opened on the gallery sentence where it "
                     f"changed most): {', '.join(heads)}")
    return "- **Shows it best**: " + "; ".join(parts) + "\n"


def findings_page(findings: dict | None, entries: list[dict] | None = None) -> str:
    """The claim cards over SST-2 dev (findings.cards): each a published claim re-tested
    on this model, with its interval, its rule and the verdict the rule gives."""
    title = "# Findings: what fine-tuning changed, measured on a whole data set\n\n"
    if not findings:
        return title + "No findings were measured for this build.\n"
    s, g = findings["set"], findings["gallery"]
    where = f"**{views.esc(s['name'])}** ({s['n']} sentences, {s['tokens_mean']} tokens on average)"
    also = ("; the gallery's sentences are this set, so a card's links go to its pages" if g and g.get("same") else
            f" and, for comparison, on {views.esc(g['name'])} ({g['n']})") if g else \
        (" (SST-2 dev was not found beside the repository: see `../shared/README.md`, or the GLUE release "
         "through `datasets` where the hub is reachable)")
    parts = [title, f"Each card re-tests a published claim on this model pair, measured on {where}{also}. "
             f"Intervals: {views.esc(findings['bootstrap'])}. "
             + (f"The spread over the {findings['runs']} fine-tuning runs: each card is made again from each run's "
                "fine-tuned model on the same sentences (the heads and methods cards on a fixed seeded sample), its value's standard "
                "deviation over the runs is given, and a verdict stands only where every run gives it.\n"
                if findings.get("runs", 1) > 1 else
                "Only one fine-tuning run was measured, so the cards' verdicts hold for that run of the model only.\n")]
    for card in findings["cards"]:
        verdict = claims.Claim("finding", f"findings.{card['id']}", card["verdict"], card["text"])
        source = " and ".join(f"{{{{cite:{key}}}}}" for key in (card["source"], card.get("also")) if key) \
            or "this site's control (no paper)"
        on_gallery = ""
        if card["gallery"] and not g.get("same"):
            on_gallery = f"; on {views.esc(g['name'])}: {_interval(card['gallery']['mean'], card['gallery']['ci95'], card['unit'])}"
        extra = ""
        if card.get("top_heads"):
            extra = ("\n| head | accuracy drop when masked (95% interval) | log-odds drop | head change |\n|---|---|---|---|\n"
                     + "\n".join(f"| layer {t['layer']}, head {t['head']} | {100 * t['accuracy_drop']:.1f} points "
                                  f"({100 * t['ci95'][0]:.1f} to {100 * t['ci95'][1]:.1f}) | {t['logodds_drop']:+.3f} | "
                                  f"{t['change']:.3f} |" for t in card["top_heads"]) + "\n")
            if card.get("runs"):
                extra += ("\nShare of heads that matter, per run (on the sample): "
                          + ", ".join(f"seed {k}: {claims.pct(v)}" for k, v in card["runs"].items()) + ".\n")
        if card.get("method_tau"):
            extra = _methods_tables(card)
        if card.get("accuracy"):
            extra = "\n" + "\n".join(f"| {views.esc(k)} | {claims.pct(v)} |" for k, v in card["accuracy"].items())
            extra = "\n| model | accuracy |\n|---|---|" + extra + "\n"
        parts.append(
            f"## {views.esc(card['claim'])}\n\n"
            f'<p class="gallery-verdict" id="card-{views.esc(card["id"])}" data-card="{views.esc(card["id"])}"><strong>{views.esc(card["verdict_words"]).capitalize()}.</strong> '
            f"{verdict.html()}</p>\n\n"
            f"- **Source**: {source}\n"
            f"- **Measured**: {views.esc(card['measured'])}\n"
            f"- **Value** ({views.esc(card['unit'])}): on {views.esc(s['name'])}: "
            f"{_interval(card['value'], card['ci95'], card['unit'])}{on_gallery}\n"
            "- **Spread over fine-tuning runs**: " + _runs_line(card)
            + f"- **Rule**: {views.esc(card['rule'])}\n"
            + _shows_best(card, entries or []) + "\n"
            + _card_table(card["layers"]) + extra)
    # no time on the page: the same inputs give the same page (the stage prints its time: `make findings`)
    parts.append("\nMeasured by the build, cached by content (a second build measures nothing); "
                 "`make findings` runs the stage alone and prints its time.\n")
    return "\n".join(parts)


def _runs_line(card: dict) -> str:
    """A card's spread over the fine-tuning runs, in one line of its list."""
    if card.get("runs_sd") is None:
        return ("not measured: the methods explain run 0's model only\n" if card["id"] == "methods"
                else "not measured for this card (one run)\n")
    percent = card["id"] in ("probe", "heads")
    show = (lambda v: f"{100 * v:.1f}%") if percent else (lambda v: f"{v:.3f}")
    line = f"sd {show(card['runs_sd'])} over {len(card['runs'])} runs (" + ", ".join(
        f"run {k}: {show(v)}" for k, v in card["runs"].items()) + ")"
    if card.get("runs_verdicts"):
        line += "; verdict by run: " + ", ".join(
            f"run {k}: {claims.RULES['findings']['verdicts'][v]}" for k, v in card["runs_verdicts"].items())
    return line + "\n"


def faithfulness_page(metrics: dict, catalog: Catalog) -> str:
    faith = metrics["faithfulness"]
    titles = catalog.titles()
    se = metrics.get("random_baseline_se", {})
    verdict = "".join(
        f"<li>{claims.set_verdict_claim(titles[m], v['pooled'], 'the gallery sentences').html()}</li>"
        for m, v in metrics.get("verdicts", {}).items())
    verdict = (f'<p>The verdict of each method on each sentence follows one rule: {views.esc(claims.FAITH["rule"])} '
               f'Over the set:</p><ul class="gallery-notice">{verdict}</ul>') if verdict else ""
    if metrics["random_baseline"] == "exact":
        random_note = ("The random order's figures are exact expectations: every subset of each "
                       "size was run.")
    else:
        random_note = (f"The random order's figures are expectations, exact for every size k with at "
                       f"most {catalog.exact_limit} subsets and otherwise estimated from {catalog.draws} seeded random "
                       f"orders ({metrics['random_baseline']}; exact on {se.get('exact_sentences', 0)} "
                       f"of {metrics['n']} sentences); ± is the standard error of the set mean.")
    by_class = []
    some = next(iter(faith.values()), {})
    for c, numbers in some.get("by_predicted_class", {}).items():
        sub = {m: faith[m]["by_predicted_class"][c] for m in faith}
        said = "".join(f"<li>{claims.set_verdict_claim(titles[m], v['by_predicted_class'][c], f'the sentences predicted {c}').html()}</li>"
                       for m, v in metrics.get("verdicts", {}).items() if c in v["by_predicted_class"])
        by_class.append(f"### Sentences the model predicts {views.esc(c)} (n = {numbers['n']})\n\n"
                        f"{HEADER}\n{_faith_rows(sub, catalog)}\n\n<ul class=\"gallery-notice\">{said}</ul>\n\n"
                        + verdict_shares(metrics, catalog, c))
    by_class_text = "\n".join(by_class)
    ig = metrics.get("ig", {})
    ig_steps, ig_err = ig.get("steps_max", 0), ig.get("completeness_error_max", 0.0)
    ig_base, ig_med = views.esc(ig.get("baseline", "")), ig.get("baseline_p_positive_median", 0.0)
    ig_lo, ig_hi = ig.get("baseline_p_positive_range", [0.0, 0.0])
    return f"""# Which explanation is faithful here?

ERASER's deletion tests ({cite('deyoung-2020')}) of the fine-tuned model's prediction,
averaged over the {metrics['n']} sentences of the gallery. {catalog.reading} {catalog.removal}

{HEADER}
{_faith_rows(faith, catalog, se)}

{verdict_shares(metrics, catalog)}

{verdict}

{random_note} Attention weights say where information flows; the deletion
test asks whether the tokens an explanation ranks first actually move the prediction.
The numbers are computed by the build (also in [`metrics.json`](../metrics.json)).

## Can the Integrated Gradients scores be trusted?

IG's scores should add up to the change of the explained logit between the baseline and
the sentence (completeness). The build doubles the integration steps from 32 (up to 512)
until the error is at most 1% of that change (0.001 logit for the untrained head, whose
logit moves by about 0.01). On this set: at most **{ig_steps} steps**, and a largest
error of **{ig_err:.2%}** of the change for the fine-tuned model.

The baseline is {ig_base}. It is not neutral: the fine-tuned model gives it
p(positive) {ig_lo:.2f} to {ig_hi:.2f} (median **{ig_med:.2f}**): an empty sentence
already reads as positive. IG therefore explains the move from "positive already" to the
sentence: for a positive prediction the scores explain a small last step, for a negative
one the whole swing to negative, so negative sentences get larger scores.

## By predicted class

Removing words is not neutral: what is left of a sentence, or an almost empty input,
already leans to one class, so the test can be easier for one predicted class than for
the other. The same figures, split by the class the model predicts:

{by_class_text}
"""


def disagreements_page(records: list[SentenceRecord]) -> str:
    wrong = [r for r in records if not r.trained.correct]
    gap = sorted(records, key=lambda r: -abs(r.trained.p_positive - r.untrained.p_positive))[:8]
    wrong_html = sentence_table(wrong) if wrong else "<p>The trained model gets every sentence right.</p>"
    gap_rows = "".join(
        f'<tr>{sentence_cell(r, "../")}<td>{r.trained.p_positive:.2f}</td>'
        f'<td>{r.untrained.p_positive:.2f}</td>'
        f'<td>{abs(r.trained.p_positive - r.untrained.p_positive):.2f}</td></tr>'
        for r in gap)
    return f"""# Where the models disagree

## Sentences the trained model gets wrong

{wrong_html}

## Where the fine-tuned model and the untrained head disagree most

Ranked by the gap between the two models' probability of *positive*. The untrained
head's probability is always within a hair of 0.5 (chance), so the gap mostly
measures how sure the fine-tuned model is.

<div class="gallery-scroll" tabindex="0" role="region" aria-label="sentences by gap"><table class="gallery-table"><thead><tr><th>sentence (its page)</th><th>fine-tuned p(positive)</th><th>{views.esc(config.UNTRAINED_SHORT)} p(positive)</th><th>gap</th></tr></thead><tbody>{gap_rows}</tbody></table></div>
"""


def load_records(gallery_dir: Path, manifest: Manifest) -> list:
    """The record of each sentence listed in ``manifest``, in its order, each holding
    every method of its catalog."""
    methods = list(manifest.catalog.methods)
    return [read_record_file(gallery_dir / f"{entry['slug']}.ipynb", entry["slug"], methods)
            for entry in manifest.sentences]


@dataclass(frozen=True)
class SiteInputs:
    """What a generated page is made from: the records and the build's manifest
    (no page reads anything else)."""

    pair: PairSpec
    records: list
    entries: list[dict]  # the manifest's sentences: slug, title, group, contrast, in order
    metrics: dict
    evaluation: dict | None  # the pair's weights/<pair>/evaluation.json, when there is one
    contrasts: list[tuple[str, str]]
    catalog: Catalog
    architecture: dict  # the base model's configuration
    findings: dict | None = None  # the manifest's findings over SST-2 dev (findings.cards)
    training: dict | None = None  # the manifest's training (the pair's training.json)


@dataclass(frozen=True)
class SitePage:
    """A page the plugin writes beside the sentences, ``gallery/<name>.md``.

    ``nav``: its title in the navigation (None: reached by links only); ``section``:
    listed inside the gallery's own section (else after it, at the top level);
    ``make``: its Markdown from the build's :class:`SiteInputs` (None: written by
    another module, the live page)."""

    name: str
    nav: str | None
    make: Callable[[SiteInputs], str] | None
    section: bool = False


# Every generated page, in navigation order: adding a page is one entry here (its
# name must be one config.RESERVED_SLUGS holds, so no sentence file has it already).
PAGES: tuple[SitePage, ...] = (
    SitePage("index", "Overview", lambda d: index_page(d.pair, d.records, d.entries), section=True),
    SitePage("lesson", "A guided lesson", lambda d: teaching.lesson_page(d.records, d.entries, d.contrasts, d.catalog, d.findings),
             section=True),
    SitePage("live", "Try your own sentence", None),
    SitePage("pair", "Model pair",
             lambda d: pair_page(d.pair, d.evaluation, d.architecture, d.records, d.training)),
    SitePage("heads", "Heads fine-tuning changed", lambda d: heads_page(d.metrics, d.catalog, d.records)),
    SitePage("faithfulness", "Faithful explanations", lambda d: faithfulness_page(d.metrics, d.catalog)),
    SitePage("disagreements", "Where the models disagree", lambda d: disagreements_page(d.records)),
    SitePage("findings", "Findings", lambda d: findings_page(d.findings, d.entries)),
    SitePage("training", "How training changed attention", lambda d: training_page(d.training, d.findings)),
)


def check_reserved(registered=PAGES) -> None:
    """Refuse a generated page whose name a sentence could have (it would make a
    valid sentence file invalid): every name must be in ``config.RESERVED_SLUGS``."""
    unreserved = [page.name for page in registered if page.name not in config.RESERVED_SLUGS]
    if unreserved:
        raise ValueError(f"generated pages {unreserved} are not in config.RESERVED_SLUGS: a sentence "
                         "file may use those slugs; reserve the names there first")


check_reserved()


def generate(manifest: Manifest, records: list, metrics: dict | None = None) -> dict[str, str]:
    """``{page name: Markdown}`` for every page of :data:`PAGES` that this module
    makes, and one ``contrast/<a>--<b>`` page per contrast pair of the manifest."""
    inputs = SiteInputs(get_pair(manifest.pair), records, manifest.sentences,
                        aggregate(records, manifest.catalog, manifest.findings, manifest.training)
                        if metrics is None else metrics,
                        manifest.evaluation, manifest.contrasts, manifest.catalog, manifest.architecture,
                        manifest.findings, manifest.training)
    generated = {page.name: page.make(inputs) for page in PAGES if page.make is not None}
    by_slug = {r.slug: r for r in records}
    for a, b in inputs.contrasts:
        generated[teaching.contrast_page_name((a, b))] = teaching.contrast_page(by_slug[a], by_slug[b],
                                                                                manifest.catalog)
    return generated


def nav(gallery_dir: str, sentences: list[tuple[str, str]]) -> tuple[list, list]:
    """The navigation the registry gives: (the gallery's section: its pages, then the
    ``sentences`` as (title, path); the pages listed after it)."""
    section = [{page.nav: f"{gallery_dir}/{page.name}.md"} for page in PAGES if page.nav and page.section]
    after = [{page.nav: f"{gallery_dir}/{page.name}.md"} for page in PAGES if page.nav and not page.section]
    return section + [{title: path} for title, path in sentences], after


def metrics_json(metrics: dict) -> str:
    """``metrics.json``: :func:`aggregate`'s figures."""
    return json.dumps(metrics, indent=1, sort_keys=True) + "\n"


PERCENT_UNITS = ("share of attention", "accuracy", "share of heads that matter")


def finding_value(card: dict) -> str:
    """A card's value with its interval and its runs' spread, in words."""
    pct = card.get("unit") in PERCENT_UNITS
    def show(v):
        return f"{100 * v:.1f}%" if pct else claims.signed(v, 3)
    unit = card.get("unit", "value")
    text = (f"{show(card['value'])} nats of entropy, fine-tuned less untrained" if unit == "nats"
            else f"{unit} {show(card['value'])}")
    if card["id"] == "probe" and card.get("runs"):  # the spread is the fine-tuned runs' accuracy, not the probe's
        runs = list(card["runs"].values())
        return (f"the best probe's accuracy {show(card['value'])} (95% interval {show(card['ci95'][0])} to "
                f"{show(card['ci95'][1])}), the fine-tuned runs' " + claims.join([show(v) for v in runs])
                + f" (sd {100 * card['runs_sd']:.1f} points)")
    inner = []
    if card.get("ci95"):
        inner.append(f"95% interval {show(card['ci95'][0])} to {show(card['ci95'][1])}")
    if card.get("runs_sd") is not None:
        sd = card["runs_sd"]
        inner.append(f"sd {f'{100 * sd:.1f} points' if pct else f'{sd:.3f}'} over the fine-tuning runs")
    return text + (f" ({'; '.join(inner)})" if inner else "")


HOME_FINDINGS = ("depth", "sinks", "entropy", "heads", "probe")  # the home page's lesson, in its order


def finding_claims(findings: dict | None) -> dict[str, claims.Claim]:
    """``finding-<card>``: one sentence per card of the findings, its verdict (the card's,
    by its rule), its value, interval and runs' spread; ``finding-<card>`` says that no
    findings were measured where the build has none (a page may cite it all the same)."""
    by_id = {c["id"]: c for c in (findings or {}).get("cards", [])}
    out = {}
    for id_ in HOME_FINDINGS:
        c = by_id.get(id_)
        if c is None:
            out[f"finding-{id_}"] = claims.Claim("finding", "findings.missing", "missing",
                                                 "This card was not measured for this build.")
            continue
        where = f"{findings['set']['name']}, {findings['set']['n']} sentences"
        words = claims.RULES["findings"]["verdicts"][c["verdict"]]
        out[f"finding-{id_}"] = claims.Claim(
            "finding", f"findings.{id_}", c["verdict"],
            f"{c['claim'].rstrip('.')}: {words} on {where}: {finding_value(c)}.", {"card": id_})
    return out


def site_claims(records: list[SentenceRecord], metrics: dict, catalog: Catalog) -> dict[str, claims.Claim]:
    """The statements the site's Markdown pages make about the whole set, by name:
    a page writes ``{{claim:NAME}}`` and the plugin puts the claim there (so no
    figure on those pages is typed by hand)."""
    n, right = metrics["n"], metrics.get("right", 0)
    out = {"accuracy": claims.Claim(
        "accuracy", "count", "all" if right == n else "some",
        f"On the {n} gallery sentences the fine-tuned model is right on {right} of {n}.", {"k": right, "n": n})}
    if not records:
        return out
    s = metrics["sink"]
    out["sink"] = claims.share_claim(
        "sink", s["fell"], s["n"],
        f"the head fine-tuning changed most is one where the words' attention to [CLS] fell by at least "
        f"{claims.points(claims.HEAD['min_change'])} (median over all {s['n']}: from {claims.pct(s['before_median'])} "
        f"to {claims.pct(s['after_median'])})", "gallery sentences")
    agree = metrics.get("agreement", {})
    if "rollout" in agree and "attention" in agree:
        titles = catalog.titles()
        out["rollout-agreement"] = claims.agreement_claim(
            titles["rollout"], titles["attention"], agree["rollout"]["values"], agree["attention"]["values"],
            "the gallery sentences")
    v = metrics.get("verdicts", {})
    if "rollout" in v:
        out["rollout-faithfulness"] = claims.set_verdict_claim(
            catalog.titles()["rollout"], v["rollout"]["pooled"], "the gallery sentences")
    out.update(finding_claims(metrics.get("findings")))
    lc = metrics.get("layer_change", {})
    if lc.get("total"):
        out["depth"] = claims.depth_claim(lc["total"])
        inherited = inherited_claim(records)  # the heads page's, with its interval
        if inherited is not None:
            out["inherited"] = inherited
    return out


PLACEHOLDER = re.compile(r"\{\{\s*(claim|cite|methods)(?::([a-z0-9-]+))?\s*\}\}")
CLAIM = re.compile(r"\{\{\s*claim:")  # a placeholder filled from the records


def fill(markdown: str, found: dict[str, claims.Claim], root: str, catalog: Catalog) -> str:
    """A Markdown page with its placeholders filled: ``{{claim:NAME}}`` (a set
    claim, :func:`site_claims`), ``{{cite:KEY}}`` (a citation; ``root`` leads to
    the site's root) and ``{{methods}}`` (the registered methods, named)."""
    def one(m: re.Match) -> str:
        what, name = m.group(1), m.group(2)
        if what == "cite":
            return cite(name, root)
        if what == "methods":
            titles = [m.title for m in catalog.methods.values()]
            return f"{len(titles)} methods: {claims.join(titles)}"
        if name not in found:
            raise KeyError(f"no claim named {name!r} (pages.site_claims has {sorted(found)})")
        claim = found[name]
        if claim.numbers.get("card"):  # a finding: its card on the findings page
            return claim.html(inner=f'{views.esc(claim.text)} (<a href="{root}{config.GALLERY_DIR.name}/findings/'
                                    f'#card-{claim.numbers["card"]}">the card</a>)')
        return claim.html()
    return PLACEHOLDER.sub(one, markdown)
