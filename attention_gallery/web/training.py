"""How training changed attention: the training page, ``metrics.json``'s ``training``
and the line each sentence page gets about its most-changed head across runs.

Made from the pair's ``training.json`` as the build read it (the manifest's
``training``; gathered from the runs by ``scripts/train_default.py --collect``): the
three fine-tuning runs of one recipe (seeds 0, 1, 2), each measured at log-spaced
checkpoints on a fixed set of sentences (the gallery's, at training time) and on
SST-2 dev; and the linear probes' accuracy, as the findings measured it on their set.
Every statement is a claim decided by ``rules.json``'s ``claims.runs``.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np

from .. import claims, rules
from ..explain import views

RUNS = rules.section("claims")["runs"]
TOP = int(RUNS["top"])
EVERY, SOME, NONE = RUNS["outcomes"]
# Okabe and Ito's colour-blind-safe palette, one colour per layer (and per run); every
# line is also labelled at its end, so colour is never the only cue
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9")


def usable(training: dict | None) -> bool:
    """A training record with at least one run measured at its checkpoints."""
    return bool(training and training.get("runs") and training["runs"][0].get("timeline"))


def final_head_change(run: dict) -> np.ndarray:
    """(layers, heads): the run's per-head change at its last checkpoint."""
    return np.asarray(run["timeline"][-1]["head_change"], dtype=np.float64)


def top_set(change: np.ndarray, k: int = TOP) -> set[tuple[int, int]]:
    """The ``k`` most-changed heads (ties: lower layer, then lower head, first)."""
    cells = sorted(np.ndindex(change.shape), key=lambda c: (-change[c], c))
    return {(int(l), int(h)) for l, h in cells[:k]}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def head_stats(training: dict) -> dict:
    """Per-head change over the runs: mean, sd (n - 1; 0 with one run), each run's
    top set, the pairwise Jaccard overlap of the top sets and the heads in every run's."""
    runs = training["runs"]
    change = np.stack([final_head_change(r) for r in runs])
    sd = change.std(axis=0, ddof=1) if len(runs) > 1 else np.zeros(change.shape[1:])
    tops = [top_set(c) for c in change]
    pairs = {f"{runs[i]['seed']}-{runs[j]['seed']}": round(jaccard(tops[i], tops[j]), 4)
             for i, j in combinations(range(len(runs)), 2)}
    every = set.intersection(*tops) if tops else set()
    return {"seeds": [r["seed"] for r in runs], "change": change, "mean": change.mean(axis=0), "sd": sd,
            "tops": tops, "jaccard": pairs, "every": every}


def probe_accuracy(findings: dict | None) -> dict:
    """The probes' accuracy as the findings measured it ({"pooler": x, "mean": y}), on
    the findings' set, with that set's name; {} where no probe was measured."""
    if not findings:
        return {}
    card = next((c for c in findings["cards"] if c["id"] == "probe"), None)
    if not card:
        return {}
    acc = card.get("accuracy", {})
    out = {k: acc[f"probe ({k})"] for k in ("pooler", "mean") if f"probe ({k})" in acc}
    return {**out, "set": findings["set"]["name"], "n": findings["set"]["n"]} if out else {}


def training_metrics(training: dict | None, findings: dict | None = None) -> dict | None:
    """``metrics.json``'s ``training``."""
    if not usable(training):
        return None
    stats = head_stats(training)
    seed0 = training["runs"][0]["timeline"]
    probes = probe_accuracy(findings)
    rnd = lambda a: [[round(float(x), 4) for x in row] for row in a]  # noqa: E731
    return {
        "recipe": training.get("recipe"), "steps": training.get("steps"),
        "runs": [{"seed": r["seed"], "dev_accuracy": r["dev_accuracy"]} for r in training["runs"]],
        "probe_dev_accuracy": probes.get("pooler"), "probe_mean_pooled_dev_accuracy": probes.get("mean"),
        "probe_set": probes.get("set"),
        "timeline": {"steps": [e["step"] for e in seed0], "dev_accuracy": [e["dev_accuracy"] for e in seed0],
                     "layer_change": [e["layer_change"] for e in seed0]},
        "head_change_seed_mean": rnd(stats["mean"]), "head_change_seed_sd": rnd(stats["sd"]),
        "top10_jaccard": stats["jaccard"], "top10_every_run": sorted([list(c) for c in stats["every"]]),
        "fixed_sentences": len(training.get("fixed_sentences", {}).get("texts", [])),
    }


# --- claims -----------------------------------------------------------------------------

def head_in_runs(training: dict, layer: int, head: int) -> claims.Claim:
    """Whether head (layer, head) is among the most-changed heads of every run."""
    stats = head_stats(training)
    inside = [s for s, top in zip(stats["seeds"], stats["tops"]) if (layer, head) in top]
    n = len(stats["seeds"])
    mean, sd = float(stats["mean"][layer, head]), float(stats["sd"][layer, head])
    outcome = EVERY if len(inside) == n else SOME if inside else NONE
    spread = f"mean change {mean:.3f} ± {sd:.3f} (sd) over the {n} runs"
    if outcome == EVERY:
        text = (f"In all {n} fine-tuning runs, layer {layer}, head {head} is among the {TOP} most-changed heads "
                f"({spread}): its change is the recipe's, not one run's.")
    elif outcome == SOME:
        which = ", ".join(str(s) for s in inside)
        text = (f"In {len(inside)} of the {n} fine-tuning runs (seed {which}), layer {layer}, head {head} is among "
                f"the {TOP} most-changed heads ({spread}): how much it changes depends on the run.")
    else:
        text = (f"In none of the {n} fine-tuning runs is layer {layer}, head {head} among the {TOP} most-changed "
                f"heads, measured on the runs' fixed sentences ({spread}): on average other heads change more, so "
                "what this page shows of it is particular to this sentence.")
    return claims.Claim("runs", "runs", outcome, text, {"mean": round(mean, 4), "sd": round(sd, 4),
                                                        "runs_in_top": len(inside), "runs": n}, (layer, head))


# --- charts -----------------------------------------------------------------------------

W, H = 440, 250
LEFT, RIGHT, TOPM, BOTTOM = 46, 56, 14, 40


def _x(step: float, last: float) -> float:
    """Steps on a log scale that keeps 0: log2(1 + step / 25)."""
    return LEFT + (W - LEFT - RIGHT) * math.log2(1 + step / 25) / math.log2(1 + last / 25)


def _y(v: float, lo: float, hi: float) -> float:
    return TOPM + (H - TOPM - BOTTOM) * (1 - (v - lo) / (hi - lo))


def line_chart(label: str, steps: list[int], lines: list[dict], lo: float, hi: float, y_title: str,
               ticks: list[float], fmt=lambda v: f"{v:g}", marks: list[dict] = ()) -> str:
    """An SVG line chart over training steps: ``lines`` ({"name", "values", "colour",
    optional "band": (lower, upper)}), horizontal ``marks`` ({"name", "value"}); text
    in the page's own colour (both palettes), a label at every line's end."""
    last = steps[-1]
    out = [f'<svg class="gallery-chart" viewBox="0 0 {W} {H}" role="img" aria-label="{views.esc(label)}">',
           f"<title>{views.esc(label)}</title>"]
    for t in ticks:
        y = _y(t, lo, hi)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text x="{LEFT - 5}" y="{y + 4:.1f}" text-anchor="end">{views.esc(fmt(t))}</text>')
    for s in steps:
        x = _x(s, last)
        out.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{H - BOTTOM}" y2="{H - BOTTOM + 4}"/>')
    shown = [s for i, s in enumerate(steps) if i in (0, len(steps) - 1) or s in (100, 400, 1600)]
    for s in shown:
        out.append(f'<text x="{_x(s, last):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{s}</text>')
    out.append(f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 6}" text-anchor="middle">training step (log scale)</text>'
               f'<text x="12" y="{(TOPM + H - BOTTOM) / 2:.0f}" text-anchor="middle" '
               f'transform="rotate(-90 12 {(TOPM + H - BOTTOM) / 2:.0f})">{views.esc(y_title)}</text>')
    for m in marks:
        y = _y(m["value"], lo, hi)
        out.append(f'<line class="mark" x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="mark" x="{W - RIGHT - 4}" y="{y - 4:.1f}" text-anchor="end">{views.esc(m["name"])}</text>')
    ends = []
    for line in lines:
        xs = [_x(s, last) for s in steps]
        if line.get("band"):
            lower, upper = line["band"]
            pts = [f"{x:.1f},{_y(v, lo, hi):.1f}" for x, v in zip(xs, upper)] + \
                  [f"{x:.1f},{_y(v, lo, hi):.1f}" for x, v in reversed(list(zip(xs, lower)))]
            out.append(f'<polygon class="band" points="{" ".join(pts)}" style="fill:{line["colour"]}"/>')
        pts = " ".join(f"{x:.1f},{_y(v, lo, hi):.1f}" for x, v in zip(xs, line["values"]))
        out.append(f'<polyline points="{pts}" style="stroke:{line["colour"]}"/>')
        ends.append([_y(line["values"][-1], lo, hi), line])
    ends.sort(key=lambda e: e[0])
    for i in range(1, len(ends)):  # end labels apart (one line of the phone's larger text)
        ends[i][0] = max(ends[i][0], ends[i - 1][0] + 15)
    for y, line in ends:
        out.append(f'<text class="end" x="{W - RIGHT + 4}" y="{y + 4:.1f}" style="fill:{line["colour"]}">'
                   f'{views.esc(line["name"])}</text>')
    out.append("</svg>")
    return f'<figure class="gallery-chart-frame">{"".join(out)}<figcaption>{views.esc(label)}</figcaption></figure>'


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


# --- the page -----------------------------------------------------------------------------

def training_page(training: dict | None, findings: dict | None = None) -> str:
    title = "# How training changed attention\n\n"
    if not usable(training):
        return title + ("This pair's training was not recorded step by step (no `training.json` with runs beside "
                        "its adapter): `make train` trains the default pair and records it.\n")
    runs, stats = training["runs"], head_stats(training)
    steps = [e["step"] for e in runs[0]["timeline"]]
    n_fixed = len(training.get("fixed_sentences", {}).get("texts", []))
    probes = probe_accuracy(findings)
    accs = [r["dev_accuracy"] for r in runs]
    parts = [title, (
        f"The fine-tuned model is one of {len(runs)} runs of one recipe (LoRA rank {training.get('rank')}, "
        f"{training.get('steps')} steps of {training.get('batch_size')} phrases, learning rate {training.get('lr')}), "
        f"seeds {', '.join(str(r['seed']) for r in runs)}: a seed sets the adapter's initialisation and the order of "
        "the data; every run starts from the same untrained model (step 0). Each run was measured at "
        f"{len(steps)} checkpoints spaced about log-wise: accuracy on SST-2 dev, and the change of every head's "
        f"attention against the untrained model on {n_fixed} fixed sentences (the gallery's, "
        "`sentences/gallery.yaml`, at training time). The page shows run 0 as the gallery's model and "
        "the others as its spread.\n")]
    # accuracy against step
    lines = [{"name": f"seed {r['seed']}", "values": [e["dev_accuracy"] for e in r["timeline"]],
              "colour": COLOURS[i % len(COLOURS)]} for i, r in enumerate(runs)]
    marks = [{"name": "chance", "value": 0.5}]
    if probes.get("pooler") is not None:
        marks.append({"name": f"probe (pooler) {_pct(probes['pooler'])}", "value": probes["pooler"]})
    if probes.get("mean") is not None:
        marks.append({"name": f"probe (mean) {_pct(probes['mean'])}", "value": probes["mean"]})
    low = min([0.45] + [v for line in lines for v in line["values"]])
    parts.append("## Accuracy on SST-2 dev, step by step\n\n" + line_chart(
        "Accuracy on SST-2 dev against training step, each run, with the linear probes and chance",
        steps, lines, math.floor(low * 20) / 20, 1.0, "dev accuracy", [0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        fmt=lambda v: f"{100 * v:.0f}%", marks=marks) + "\n")
    finals = " · ".join(f"seed {r['seed']}: **{_pct(r['dev_accuracy'])}**" for r in runs)
    parts.append(f"Final accuracy on SST-2 dev (872 sentences): {finals}; "
                 f"spread over the runs {_pct(min(accs))} to {_pct(max(accs))}"
                 + (f" (sd {100 * float(np.std(accs, ddof=1)):.2f} points)" if len(accs) > 1 else "") + ".\n")
    if probes:
        gain = (min(accs) - 0.5)
        best = max(v for k, v in probes.items() if k in ("pooler", "mean"))
        parts.append(
            f"**The control.** A linear probe (only a new classification head trained, on the frozen pretrained "
            f"encoder, so its attention is exactly the untrained model's) gets {_pct(probes.get('pooler'))} "
            f"on the classifier's own pooling and {_pct(probes.get('mean'))} on mean-pooled tokens "
            f"({views.esc(probes['set'])}, {probes['n']} sentences). With no attention changed, a model reaches "
            f"{100 * (best - 0.5) / gain:.0f}% of the weakest run's gain over chance; the rest comes with "
            "fine-tuning, which changes the feed-forward layers as well as attention (LoRA adapts both), so the "
            "gap is what fine-tuning adds, not what attention change alone adds.\n")
    paired = training.get("paired_test")
    if paired:
        sig = "a real gain at the 5% level" if paired["p_value"] < 0.05 and \
            paired["new_dev_accuracy"] > paired["against_dev_accuracy"] else "not a gain told from chance at the 5% level"
        parts.append(f"Against the earlier default ({_pct(paired['against_dev_accuracy'])}), run 0 "
                     f"({_pct(paired['new_dev_accuracy'])}) is right on {paired['new_right_old_wrong']} dev sentences "
                     f"the earlier model got wrong and wrong on {paired['old_right_new_wrong']} it got right: exact "
                     f"McNemar p = {paired['p_value']:.3g}, {sig}.\n")
    # layer change against step
    layer = np.asarray([[e["layer_change"] for e in r["timeline"]] for r in runs])  # runs, steps, layers
    mean = layer.mean(axis=0)
    lines = [{"name": f"L{l}", "values": mean[:, l].tolist(), "colour": COLOURS[l % len(COLOURS)],
              "band": (layer[:, :, l].min(axis=0).tolist(), layer[:, :, l].max(axis=0).tolist())}
             for l in range(layer.shape[2])]
    tick = next(t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5) if float(layer.max()) <= 4 * t)
    hi = tick * max(1, math.ceil(float(layer.max()) / tick))
    parts.append("## Which layers changed, and when\n\n"
                 f"Per layer, the mean over its heads of the change of attention against the untrained model "
                 f"(Jensen-Shannon distance, mean over the {n_fixed} fixed sentences): the line is the mean over "
                 f"the {len(runs)} runs, the band their range. {{{{cite:hao-2020}}}} tracked BERT's attention across "
                 "fine-tuning checkpoints and found the higher layers' attention diverges most from the pretrained "
                 "model.\n\n" + line_chart(
                     f"Per-layer change of attention against training step, mean over {len(runs)} runs with their range",
                     steps, lines, 0.0, hi, "change (JS distance)",
                     [round(tick * i, 3) for i in range(int(round(hi / tick)) + 1)], fmt=lambda v: f"{v:.2f}") + "\n")
    final = mean[-1]
    order = sorted(range(len(final)), key=lambda l: -final[l])
    parts.append(f"At the end, layer {order[0]} changed most ({final[order[0]]:.3f}) and layer {order[-1]} least "
                 f"({final[order[-1]]:.3f}), as the mean over the runs. "
                 + _when(steps, mean) + " The split of the last layer's change into the part its own adapter made "
                 "(direct) and the part the layers below passed up (inherited) is measured over SST-2 dev on the "
                 "[Findings](findings.md) page.\n")
    parts.append(_table(steps, runs))
    # heads over the runs
    sd = stats["sd"]
    noise = RUNS["noise_sd"]
    told = int((stats["mean"] > noise * sd).sum())
    every = sorted(stats["every"])
    top_mean = top_set(stats["mean"])
    parts.append(
        "## Which heads changed, in every run\n\n"
        f"Each cell: a head's change at the end, mean over the {len(runs)} runs ± their standard deviation. "
        f"Rule: {views.esc(RUNS['rule'])}\n\n"
        + _mean_sd_heatmap(stats["mean"], sd, top_mean) + "\n\n"
        + claims.Claim("runs-agreement", "runs", EVERY if len(every) >= TOP // 2 else SOME if every else NONE,
                       f"{len(every)} of the {TOP} most-changed heads are the same in all {len(runs)} runs"
                       + (f" ({', '.join(f'layer {l} head {h}' for l, h in every)})" if every else "")
                       + "; the overlap of two runs' top ten (Jaccard: shared over either) is "
                       + ", ".join(f"{v:.2f} (seeds {k.replace('-', ' and ')})" for k, v in stats["jaccard"].items())
                       + f". {told} of the {sd.size} heads changed by more than {noise:g} times the runs' spread.",
                       {"every": len(every), "jaccard": stats["jaccard"], "told": told}).html("p") + "\n")
    parts.append("\nRecipe, data hash, the time each run took and the checks of reproducibility and of the float16 "
                 "adapters are in the pair's `training.json` (`attention_gallery/weights/<pair>/`), "
                 "see the [model pair](pair.md) page.\n")
    return "\n".join(parts)


def _when(steps, mean) -> str:
    """By which checkpoint each layer had reached half its final change."""
    final = mean[-1]
    half = []
    for l in range(mean.shape[1]):
        at = next((s for s, v in zip(steps, mean[:, l]) if v >= final[l] / 2), steps[-1])
        half.append(at)
    first, last = min(half), max(half)
    return (f"Every layer had reached half its final change by step {last} "
            f"(the first by step {first}) of {steps[-1]}.")


def _table(steps, runs) -> str:
    """The numbers behind the charts, per checkpoint (run 0's layer change, every run's accuracy)."""
    header = ["step"] + [f"dev, seed {r['seed']}" for r in runs] + \
        [f"L{l} (seed {runs[0]['seed']})" for l in range(len(runs[0]["timeline"][0]["layer_change"]))]
    rows = [[s] + [_pct(r["timeline"][i]["dev_accuracy"]) for r in runs]
            + [f"{v:.3f}" for v in runs[0]["timeline"][i]["layer_change"]] for i, s in enumerate(steps)]
    return ("<details><summary>The numbers behind the charts</summary>\n\n"
            + views.simple_table(header, rows, "accuracy and per-layer change at each checkpoint") + "\n\n</details>\n")


def _mean_sd_heatmap(mean: np.ndarray, sd: np.ndarray, top: set) -> str:
    """Layers x heads, coloured by the mean, each cell "mean ± sd"; the top set outlined;
    the numbers are the cell's text (a colour is never the only cue)."""
    vmax = float(mean.max()) or 1.0
    head = "".join(f"<th>{h}</th>" for h in range(mean.shape[1]))
    rows = []
    for l in range(mean.shape[0]):
        cells = "".join(
            f'<td class="{"gallery-top" if (l, h) in top else ""}" style="--a:{min(1.0, mean[l, h] / vmax) * 0.85:.2f}" '
            f'title="layer {l}, head {h}: {mean[l, h]:.3f} ± {sd[l, h]:.3f}">'
            f'{mean[l, h]:.2f}<small>±{sd[l, h]:.2f}</small></td>'
            for h in range(mean.shape[1]))
        rows.append(f"<tr><th>{l}</th>{cells}</tr>")
    caption = "Per-head change at the end of training: mean over the runs ± standard deviation; outlined: the ten largest means"
    return views.scroll_frame(f'<table class="gallery-heatmap gallery-heatmap-sd" aria-label="{views.esc(caption)}">'
                              f"<caption>{views.esc(caption)}</caption>"
                              f"<thead><tr><th>layer \\ head</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>",
                              caption)


# --- a sentence's timeline ---------------------------------------------------------------

def settled_step(steps: list[int], p: list[float]) -> int:
    """The first checkpoint from which p stays on the side of 0.5 it ends on."""
    side = p[-1] > 0.5
    at = steps[-1]
    for s, v in zip(reversed(steps), reversed(p)):
        if (v > 0.5) != side:
            break
        at = s
    return at


def sentence_timeline(record) -> str:
    """A sentence page's training timeline (the record's ``timeline``): the fine-tuned
    model's p(positive) at each checkpoint and how far its most-changed head had moved."""
    t = getattr(record, "timeline", None)
    if t is None or len(t.steps) < 2:
        return ""
    layer, head, _ = record.top_heads[0]
    positive = record.labels[-1]
    at = settled_step(t.steps, t.p_positive)
    ends = record.labels[-1] if t.p_positive[-1] > 0.5 else record.labels[0]
    label = (f"p({positive}) of the fine-tuned model at each training checkpoint, and the change of "
             f"layer {layer}, head {head} against the untrained model")
    chart = line_chart(label, t.steps, [
        {"name": "p", "values": t.p_positive, "colour": COLOURS[0]},  # the caption names it (a phone's width)
        {"name": f"L{layer} H{head}", "values": t.top_head_change, "colour": COLOURS[4]}],
        0.0, 1.0, "p / change", [0.0, 0.25, 0.5, 0.75, 1.0], fmt=lambda v: f"{v:g}",
        marks=[{"name": "0.5", "value": 0.5}])
    words = (f"At step 0 (the untrained model) p({views.esc(positive)}) is {t.p_positive[0]:.2f}; after "
             f"{t.steps[-1]} steps it is {t.p_positive[-1]:.2f}. The prediction is {views.esc(ends)} from the checkpoint at step "
             f"{at} on. Layer {layer}, head {head} (this sentence's most-changed head) had moved "
             f"{t.top_head_change[-1]:.2f} by the end" + _half(t) + ".")
    return (f'<details class="gallery-timeline"><summary>Training timeline: this sentence, step by step</summary>'
            f"<p>{words}</p>{chart}</details>")


def _half(t) -> str:
    final = t.top_head_change[-1]
    if final <= 0:
        return ""
    at = next(s for s, v in zip(t.steps, t.top_head_change) if v >= final / 2)
    return f", half of it by step {at}"
