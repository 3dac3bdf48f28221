"""The findings' claim cards, from the stage's per-sentence numbers: pure numpy.

A card is a published claim re-tested on this model: the claim and its source, what
was measured, the value on the set with its 95% bootstrap interval over sentences
(and on the gallery's own sentences), the spread over fine-tuning runs, the rule
(``rules.json``, ``claims.findings``) and the verdict it gives. Verdicts are
:class:`~attention_gallery.claims.Claim` outcomes, so a page shows which rule
decided each one.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from scipy.stats import rankdata

from .. import claims, rules
from ..intervals import bootstrap, resample_counts
from .measures import KINDS

RULES = rules.section("claims")["findings"]
LEVEL = RULES["interval"]
KIND_NAMES = {"cls": "[CLS]", "sep": "[SEP]", "punct": "punctuation"}
MODELS = ("trained", "untrained")


def _layers_where(lo, hi, side: str) -> list[int]:
    return [int(l) for l in np.flatnonzero(lo > 0 if side == "above" else hi < 0)]


def layer_verdict(lo, hi, side: str) -> str:
    """``holds`` where every layer's interval lies on ``side`` of 0 ("above" or
    "below"), ``partly`` where some do, ``not`` where none does."""
    k = len(_layers_where(np.asarray(lo), np.asarray(hi), side))
    return "holds" if k == len(lo) else "partly" if k else "not"


def in_layers(layers: list[int]) -> str:
    """'in layers 1, 2 and 4', 'in layer 3', 'in no layer'."""
    if not layers:
        return "in no layer"
    return f"in layer {layers[0]}" if len(layers) == 1 else f"in layers {claims.join([str(l) for l in layers])}"


def both_ways(first: str, first_layers: list[int], second: str, second_layers: list[int], neither: str) -> str:
    """'<first> in layers 1 and 2 and <second> in layer 4', leaving out a side that no
    layer shows; ``neither`` where no layer shows either."""
    said = [f"{what} {in_layers(layers)}" for what, layers in ((first, first_layers), (second, second_layers))
            if layers]
    return " and ".join(said) if said else neither


def _rows(mean, lo, hi) -> list[dict]:
    return [{"layer": l, "mean": round(float(m), 4), "ci95": [round(float(a), 4), round(float(b), 4)]}
            for l, (m, a, b) in enumerate(zip(mean, lo, hi))]


def _overall(values) -> dict:
    """The mean over layers of a (sentences, layers) array, with its interval."""
    m, lo, hi = bootstrap(np.asarray(values, dtype=np.float64).mean(axis=1))
    return {"mean": round(float(m), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}


def _card(id_: str, source: str, claim: str, measured: str, outcome: str, text: str, value: dict,
          gallery: dict | None, rows: dict, unit: str) -> dict:
    verdict = claims.Claim("finding", f"findings.{id_}", outcome, text)
    return {"id": id_, "claim": claim, "source": source, "measured": measured, "unit": unit,
            "value": value["mean"], "ci95": value["ci95"], "gallery": gallery,
            "runs_sd": None,  # set by with_runs (or the card itself) where other runs were measured
            "rule": RULES[id_], "verdict": outcome, "verdict_words": RULES["verdicts"][outcome],
            "text": verdict.text, "layers": rows}


def _special(m: dict, which: str, model: str) -> np.ndarray:
    """(sentences, layers) share of attention to [CLS], [SEP] and punctuation together."""
    return sum(np.asarray(m[which][model][k], dtype=np.float64) for k in KINDS)


def depth_card(m: dict, g: dict | None) -> dict | None:
    """Kovaleva et al. (2019), §4.5; Hao et al. (2020), §4: fine-tuning changes the last
    layers' attention most."""
    if "layer_change" not in m:
        return None
    total = np.asarray(m["layer_change"]["total"], dtype=np.float64)
    last = min(2, total.shape[1] - 1)

    def gap(values):  # the last two layers' mean change less the others'
        v = np.asarray(values, dtype=np.float64)
        return v[:, -last:].mean(axis=1) - v[:, :-last].mean(axis=1)

    g_mean, g_lo, g_hi = bootstrap(gap(total))
    outcome = "holds" if g_lo > 0 else "not"
    per_layer = bootstrap(total)
    top = int(np.argmax(per_layer[0]))
    split = m.get("layer_split", {"rows": []})
    if not split["rows"]:
        return None
    direct, inherited = (bootstrap(np.asarray(split[p], dtype=np.float64)) for p in ("direct", "inherited"))
    mostly = ["direct" if d > i else "inherited" for d, i in zip(direct[0][-last:], inherited[0][-last:])]
    layers = total.shape[1]
    text = (f"The last {last} layers' attention changed {claims.signed(float(g_mean), 3)} more than the other "
            f"layers' (mean head change; 95% interval {claims.signed(float(g_lo), 3)} to {claims.signed(float(g_hi), 3)})"
            + ("" if outcome == "holds" else ", which is not more")
            + f"; the largest change is in layer {top} ({per_layer[0][top]:.3f}), and in layers "
            f"{claims.join([str(layers - last + k) for k in range(last)])} it is mostly "
            f"{'the layer’s own adapter' if set(mostly) == {'direct'} else 'inherited from the layers below' if set(mostly) == {'inherited'} else 'direct in one and inherited in the other'}"
            f" (direct against inherited change, on {len(split['rows'])} sentences"
            + ("" if len(split["rows"]) == total.shape[0] else ", a fixed seeded sample") + ").")
    gv = None
    if g and "layer_change" in g and len(g["layer_change"]["total"]) > 1:  # the same measure: the gap
        gm, glo, ghi = bootstrap(gap(g["layer_change"]["total"]))
        gv = {"mean": round(float(gm), 4), "ci95": [round(float(glo), 4), round(float(ghi), 4)]}
    card = _card("depth", "kovaleva-2019", "Fine-tuning changes the last layers' attention most.",
                 "per layer, the mean over heads of the head change (Jensen-Shannon distance between the two models' "
                 "attention rows, averaged over the sentence's tokens), in the fine-tuned model (total), with only "
                 "the layer's own adapter (direct) and with only the layers below it fine-tuned (inherited); "
                 f"direct and inherited on {len(split['rows'])} of the {total.shape[0]} sentences",
                 outcome, text, {"mean": round(float(g_mean), 4), "ci95": [round(float(g_lo), 4), round(float(g_hi), 4)]},
                 gv, {"total": _rows(*per_layer), "direct": _rows(*direct), "inherited": _rows(*inherited)},
                 "head change, last two layers less the others")
    card["also"] = "hao-2020"
    return card


def sinks_card(m: dict, g: dict | None) -> dict:
    """Clark et al. (2019), §3: much attention goes to [CLS], [SEP] and punctuation."""
    share = {model: _special(m, "sinks", model) for model in MODELS}
    positions = sum(np.asarray(m["positions"][k], dtype=np.float64) for k in KINDS)[:, None]
    excess = bootstrap(share["trained"] - positions)
    outcome = layer_verdict(excess[1], excess[2], "above")
    moved = bootstrap(share["trained"] - share["untrained"])
    off, onto = _layers_where(moved[1], moved[2], "below"), _layers_where(moved[1], moved[2], "above")
    by_kind = {k: bootstrap(np.asarray(m["sinks"]["trained"][k]))[0] for k in KINDS}
    top = max(KINDS, key=lambda k: by_kind[k].max())
    layer = int(by_kind[top].argmax())
    k, layers = len(_layers_where(excess[1], excess[2], "above")), len(excess[0])
    text = (f"In the fine-tuned model [CLS], [SEP] and punctuation receive more attention than their share of "
            f"positions in {f'all {layers}' if k == layers else f'{k} of {layers}'} layers "
            f"(most: {KIND_NAMES[top]}, {claims.pct(by_kind[top][layer])} of layer {layer}'s attention). "
            "Fine-tuning "
            + both_ways("moved attention off them", off, "onto them", onto, "moved no layer's attention off or onto them")
            + " (95% intervals of the difference excluding 0).")
    value = _overall(share["trained"])
    return _card("sinks", "clark-2019", "Much of the attention goes to [CLS], [SEP] and punctuation.",
                 "per layer, the share of attention mass each kind of token receives, averaged over heads and "
                 "query positions (special tokens included as queries), then over sentences; compared with the "
                 "share of positions those tokens hold, and between the two models",
                 outcome, text, value, _overall(_special(g, "sinks", "trained")) if g else None,
                 {"trained": _rows(*bootstrap(share["trained"])), "untrained": _rows(*bootstrap(share["untrained"])),
                  "trained - untrained": _rows(*moved), "trained - positions": _rows(*excess)},
                 "share of attention")


def sinks_norm_card(m: dict, g: dict | None) -> dict:
    """Kobayashi et al. (2020), §4: attention weights overstate [CLS], [SEP] and punctuation."""
    weights, norms = _special(m, "sinks", "trained"), _special(m, "sinks_norm", "trained")
    gap = bootstrap(weights - norms)
    outcome = layer_verdict(gap[1], gap[2], "above")
    over = _layers_where(gap[1], gap[2], "above")
    under = _layers_where(gap[1], gap[2], "below")
    text = ("Under norm-based attention [CLS], [SEP] and punctuation receive "
            + both_ways("less than under attention weights", over, "more", under, "as much as under attention weights in every layer")
            + " (fine-tuned model; 95% intervals "
            f"of the difference excluding 0); over all layers {claims.pct(float(weights.mean()))} by weights, "
            f"{claims.pct(float(norms.mean()))} by norms.")
    value = _overall(weights - norms)
    return _card("sinks_norm", "kobayashi-2020", "Attention weights overstate [CLS], [SEP] and punctuation: "
                 "the vectors they move are small.",
                 "per layer, the share of attention [CLS], [SEP] and punctuation receive under attention weights "
                 "less their share under norm-based attention (‖αf(x)‖, each row scaled to sum to 1), fine-tuned model",
                 outcome, text, value,
                 _overall(_special(g, "sinks", "trained") - _special(g, "sinks_norm", "trained")) if g else None,
                 {"weights": _rows(*bootstrap(weights)), "norms": _rows(*bootstrap(norms)),
                  "weights - norms": _rows(*gap)}, "share of attention")


def entropy_card(m: dict, g: dict | None) -> dict:
    """Clark et al. (2019), §3.3 measured how broad each head's attention is (entropy):
    does fine-tuning make this model's attention sharper, and where?"""
    t, u = (np.asarray(m["entropy"][model], dtype=np.float64) for model in MODELS)
    diff = bootstrap(t - u)
    outcome = layer_verdict(diff[1], diff[2], "below")
    sharper, broader = _layers_where(diff[1], diff[2], "below"), _layers_where(diff[1], diff[2], "above")
    text = ("Fine-tuning made attention "
            + both_ways("sharper (lower entropy)", sharper, "broader", broader, "neither sharper nor broader in any layer")
            + " (95% intervals of the difference excluding 0); over all layers "
            f"{claims.signed(float((t - u).mean()), 3)} nats.")
    gv = None
    if g:
        gt, gu = (np.asarray(g["entropy"][model], dtype=np.float64) for model in MODELS)
        gv = _overall(gt - gu)
    return _card("entropy", "clark-2019", "Fine-tuning makes attention sharper.",
                 "per layer, the mean entropy in nats of each attention row (over heads and query positions, then "
                 "sentences), fine-tuned model less untrained model",
                 outcome, text, _overall(t - u), gv,
                 {"trained": _rows(*bootstrap(t)), "untrained": _rows(*bootstrap(u)),
                  "trained - untrained": _rows(*diff)}, "nats")


def probe_card(m: dict, g: dict | None) -> dict | None:
    """The control: what a linear probe on the frozen encoder (no attention changed)
    gets, against the fine-tuned model."""
    if not m["probes"]:
        return None
    gold = np.asarray(m["gold"])
    n = len(gold)
    acc = {name: int((np.asarray(p) == gold).sum()) for name, p in m["probes"].items()}
    best = max(acc, key=acc.get)
    tuned = int((np.asarray(m["predicted"]["trained"]) == gold).sum())
    p_lo, p_hi = claims.wilson(acc[best], n, LEVEL)
    t_lo, t_hi = claims.wilson(tuned, n, LEVEL)
    outcome = "holds" if p_hi >= t_lo else "partly" if p_lo > 0.5 else "not"
    share = (acc[best] / n - 0.5) / max(tuned / n - 0.5, 1e-9)
    text = (f"A linear probe on the frozen encoder's {'mean token state' if best == 'mean' else 'pooler output'} "
            f"gets {claims.pct(acc[best] / n)} right (95% interval {claims.pct(p_lo)}–{claims.pct(p_hi)}), the "
            f"fine-tuned model {claims.pct(tuned / n)} ({claims.pct(t_lo)}–{claims.pct(t_hi)}): "
            f"a model that changes no attention reaches {claims.pct(max(share, 0.0))} of the fine-tuned model's "
            "accuracy above chance.")
    gv = None
    if g and g["probes"]:
        gg = np.asarray(g["gold"])
        gv = {"mean": round(float((np.asarray(g["probes"][best]) == gg).mean()), 4), "ci95": None}
    card = _card("probe", "", "Most of the task needs no change of attention.",
                 "accuracy on the set of linear probes fitted on the frozen untrained encoder's features (the "
                 "training file, scripts/train_default.py --probes) against the fine-tuned model's; Wilson intervals",
                 outcome, text, {"mean": round(acc[best] / n, 4), "ci95": [round(p_lo, 4), round(p_hi, 4)]}, gv,
                 {}, "accuracy")
    card["accuracy"] = {"fine-tuned": round(tuned / n, 4), **{f"probe ({k})": round(v / n, 4) for k, v in acc.items()}}
    card["best_probe"] = best
    return card


def spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rank correlation of ``a`` and ``b`` along the last axis."""
    ra, rb = rankdata(np.atleast_2d(a), axis=-1), rankdata(np.atleast_2d(b), axis=-1)  # ties: average rank
    ra -= ra.mean(axis=-1, keepdims=True)
    rb -= rb.mean(axis=-1, keepdims=True)
    den = np.sqrt((ra ** 2).sum(-1) * (rb ** 2).sum(-1))
    return np.where(den > 0, (ra * rb).sum(-1) / np.where(den > 0, den, 1), 0.0)


def _accuracy_drop(base_correct, correct) -> np.ndarray:
    """(sentences, layers, heads): 1 where masking the head made a right answer wrong,
    -1 where it made a wrong one right."""
    return np.asarray(base_correct, dtype=np.float64)[:, None, None] - np.asarray(correct, dtype=np.float64)


def _mattering(drop) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per head: the accuracy drop when it is masked (mean, low, high over sentences)
    and whether its interval lies above 0."""
    mean, lo, hi = bootstrap(drop)
    return mean, lo, hi, lo > 0


def _share_interval(drop) -> tuple[float, float]:
    """The 95% interval of the share of heads that matter over the bootstrap's resamples
    of the sentences, each head judged again on each resample. Inside a resample a
    head's interval is the normal approximation (mean less 1.96 standard errors above
    0), since a percentile bootstrap inside each of the 2000 resamples would take 2000
    more each. A share of heads that pass a test moves with the sentences drawn (a head
    near the line passes in some resamples, not in others), so this is how stable the
    count is, wider than an interval of a mean."""
    x = np.asarray(drop, dtype=np.float64)
    n = x.shape[0]
    x = x.reshape(n, -1)
    counts = resample_counts(n, RULES["resamples"], RULES["seed"])
    mean = counts @ x / n
    se = np.sqrt(np.maximum(counts @ (x * x) / n - mean ** 2, 0.0) / max(n - 1, 1))
    z = NormalDist().inv_cdf(1 - (1 - LEVEL) / 2)
    share = ((mean - z * se) > 1e-12).mean(axis=1)
    lo, hi = np.quantile(share, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return float(lo), float(hi)


def heads_card(m: dict, g: dict | None) -> dict | None:
    """Michel et al. (2019), §3.2: masking one head at a time, few heads matter; and is
    a head's importance related to how much fine-tuning changed it?"""
    a = m.get("ablation")
    if not a or not a["correct"]:
        return None
    drop = _accuracy_drop(a["base_correct"], a["correct"])
    acc_mean, acc_lo, acc_hi, matters = _mattering(drop)
    lo_drop = np.asarray(a["base_logodds"], dtype=np.float64)[:, None, None] - np.asarray(a["logodds"], dtype=np.float64)
    lo_mean = lo_drop.mean(axis=0)
    change = np.asarray(m["head_change"], dtype=np.float64)
    heads = matters.size
    share = float(matters.sum()) / heads
    s_lo, s_hi = _share_interval(drop)
    chance = heads * (1 - LEVEL) / 2  # heads that would pass by chance alone, each tested one-sided at this level
    few, half = RULES["heads_share"]
    outcome = "holds" if share <= few else "partly" if share <= half else "not"
    # rank correlation of importance (log-odds drop) with change, both per head, over resamples of the sentences
    n = change.shape[0]
    counts = resample_counts(n, RULES["resamples"], RULES["seed"])
    imp = (counts @ lo_drop.reshape(n, -1)) / n
    chg = (counts @ change.reshape(n, -1)) / n
    rho = float(spearman(lo_mean.ravel(), change.mean(axis=0).ravel())[0])
    r_lo, r_hi = np.quantile(spearman(imp, chg), [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    order = sorted(np.ndindex(acc_mean.shape), key=lambda c: (-acc_mean[c], c))
    top = order[0]
    related = ("related" if r_lo > 0 else "inversely related" if r_hi < 0 else "not related, as far as the interval tells")
    text = (f"Masked one at a time, {int(matters.sum())} of the {heads} heads ({claims.pct(share)}) lower the fine-tuned "
            f"model's accuracy by an amount whose 95% interval lies above 0 (were no head to matter, about "
            f"{chance:.1f} would pass by chance; on resamples of the sentences {claims.pct(s_lo)} to "
            f"{claims.pct(s_hi)} of the heads pass); "
            f"the largest drop is layer {top[0]}, head "
            f"{top[1]}'s ({100 * acc_mean[top]:.1f} points, 95% interval {100 * acc_lo[top]:.1f} to "
            f"{100 * acc_hi[top]:.1f}). A head's importance (drop of the gold class's log-odds) and its change are "
            f"{related}: Spearman {rho:+.2f} (95% interval {r_lo:+.2f} to {r_hi:+.2f}).")
    runs_sd, per_run = None, {}
    sample = None
    for seed, r in sorted((m.get("ablation_runs") or {}).items()):
        rows = r["rows"]
        sample = rows
        per_run[seed] = float(_mattering(_accuracy_drop(r["base_correct"], r["correct"]))[3].mean())
    if per_run:  # run 0 on the same sample, so the runs are compared on the same sentences
        per_run = {"0": float(_mattering(drop[sample])[3].mean()), **per_run}
        runs_sd = round(float(np.std(list(per_run.values()), ddof=1)), 4)
    gv = None
    if g and g.get("ablation") and g["ablation"]["correct"]:
        g_drop = _accuracy_drop(g["ablation"]["base_correct"], g["ablation"]["correct"])
        gv = {"mean": round(float(_mattering(g_drop)[3].mean()), 4),
              "ci95": [round(v, 4) for v in _share_interval(g_drop)]}
    card = _card("heads", "michel-2019", "Few heads matter: most can be masked alone without a loss.",
                 "each of the fine-tuned model's heads masked alone (its slice of the attention output zeroed before "
                 "the output projection), on every sentence of the set: the drop of accuracy and of the gold class's "
                 "log-odds; a head matters where the 95% interval of its accuracy drop lies above 0; the share's "
                 "interval judges every head again on each resample of the sentences (there by the normal "
                 "approximation), so it says how stable the count is"
                 + (f"; the other runs on a fixed seeded sample of {len(sample)} sentences" if sample else ""),
                 outcome, text, {"mean": round(share, 4), "ci95": [round(s_lo, 4), round(s_hi, 4)]}, gv, {},
                 "share of heads that matter")
    card["also"] = "kovaleva-2019"
    card["runs_sd"] = runs_sd
    card["runs"] = {k: round(v, 4) for k, v in per_run.items()}
    card["spearman"] = {"rho": round(rho, 4), "ci95": [round(float(r_lo), 4), round(float(r_hi), 4)]}
    card["head_ablation"] = {"accuracy_drop": np.round(acc_mean, 4).tolist(), "logodds_drop": np.round(lo_mean, 4).tolist()}
    card["top_heads"] = [{"layer": int(l), "head": int(h), "accuracy_drop": round(float(acc_mean[l, h]), 4),
                          "ci95": [round(float(acc_lo[l, h]), 4), round(float(acc_hi[l, h]), 4)],
                          "logodds_drop": round(float(lo_mean[l, h]), 4), "change": round(float(change.mean(0)[l, h]), 4)}
                         for l, h in order[:5]]
    return card


AOPC = ("aopc_comprehensiveness", "aopc_sufficiency", "aopc_comprehensiveness_logodds", "aopc_sufficiency_logodds")


def _ci(values) -> dict:
    mean, lo, hi = bootstrap(np.asarray(values, dtype=np.float64))
    return {"mean": round(float(mean), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}


def methods_card(m: dict, g: dict | None, labels) -> dict | None:
    """Abnar & Zuidema (2020), §4; Jain & Wallace (2019); DeYoung et al. (2020): do the
    explanation methods agree with each other and with the model (deletion tests)?"""
    mt = m.get("methods")
    if not mt or not mt["rows"]:
        return None
    keep = [i for i, w in enumerate(mt["words"]) if w >= 3]  # tau is left out for sentences under 3 words
    if len(keep) < 2:
        return None
    pairs = list(mt["tau"][0])
    names = list(dict.fromkeys(n for key in pairs for n in key.split("|")))
    tau = {key: _ci([mt["tau"][i][key] for i in keep]) for key in pairs}
    matrix = [[1.0 if a == b else tau.get(f"{a}|{b}", tau.get(f"{b}|{a}"))["mean"] for b in names] for a in names]
    diff = [mt["tau"][i]["rollout|loo"] - mt["tau"][i]["attention|loo"] for i in keep]
    d = _ci(diff)
    outcome = "holds" if d["ci95"][0] > 0 else "not"
    # each method against the random ranking, pooled and by predicted class
    methods = [n for n in mt["figures"][0] if n != "random"]
    against = {}
    for group, rows in [("all", list(range(len(mt["rows"]))))] + [
            (labels[c], [i for i, p in enumerate(mt["predicted"]) if p == c]) for c in sorted(set(mt["predicted"]))]:
        if len(rows) < 2:
            continue
        against[group] = {"n": len(rows), **{name: {f: _ci([mt["figures"][i][name][f] - mt["figures"][i]["random"][f]
                                                            for i in rows]) for f in AOPC} for name in methods}}
    titles = m.get("method_titles") or {}
    beats = [titles.get(name, name) for name in methods if against["all"][name]["aopc_comprehensiveness"]["ci95"][0] > 0]
    text = (f"Attention rollout agrees with leave-one-out {claims.signed(d['mean'], 3)} more than raw attention does "
            f"(Kendall's tau; 95% interval {claims.signed(d['ci95'][0], 3)} to {claims.signed(d['ci95'][1], 3)}, "
            f"{len(keep)} sentences of 3 words or more)" + ("" if outcome == "holds" else ", which is not more")
            + f". Removing a method's top tokens lowers p more than removing random ones (AOPC comprehensiveness, "
            f"interval of the gap above 0) for {claims.join(beats) if beats else 'no method'}.")
    card = _card("methods", "abnar-zuidema-2020", "Attention rollout tracks token importance better than raw attention.",
                 "every registered method on a fixed seeded sample of the set: Kendall's tau-b between each two "
                 "methods' token scores (sentences of 3 words or more), and each method's ERASER AOPC against the "
                 "random ranking, whose expectation comes from one seeded draw per sentence and k (unbiased for the "
                 "set's mean; the bootstrap carries the extra variance)",
                 outcome, text, d, None, {}, "tau with LOO, rollout less raw attention")
    card["also"] = "deyoung-2020"
    card["method_tau"] = {"methods": names, "titles": [titles.get(n, n) for n in names], "matrix": matrix, "pairs": tau}
    card["against_random"] = against
    card["n"] = len(mt["rows"])
    return card


def typicality(m: dict) -> dict | None:
    """Per head, in how many of the set's sentences fine-tuning lowered the words'
    attention to [CLS] (``fell``, layers x heads) and raised it (``rose``), of ``n``: what a
    sentence page compares its own head with."""
    if not m.get("to_cls_change"):
        return None
    d = np.asarray(m["to_cls_change"], dtype=np.float64)
    return {"n": int(d.shape[0]), "fell": (d < 0).sum(axis=0).astype(int).tolist(),
            "rose": (d > 0).sum(axis=0).astype(int).tolist()}


def means(m: dict) -> dict:
    """``metrics.json``'s measurements in full: per layer, over sentences."""
    def per_layer(values):
        return [round(float(v), 4) for v in np.asarray(values, dtype=np.float64).mean(axis=0)]
    return {"sinks": {model: {k: per_layer(m["sinks"][model][k]) for k in KINDS} for model in MODELS},
            "sinks_norm": {model: {k: per_layer(m["sinks_norm"][model][k]) for k in KINDS} for model in MODELS},
            "entropy": {model: per_layer(m["entropy"][model]) for model in MODELS},
            **({"layer_change": {"total": per_layer(m["layer_change"]["total"]),
                                 **{p: per_layer(m["layer_split"][p]) for p in ("direct", "inherited")}}}
               if m.get("layer_split", {}).get("rows") else {})}


def as_run(m: dict, seed: str) -> dict:
    """``m`` with the fine-tuned model's numbers replaced by run ``seed``'s (the stage's
    ``runs``): what a card measures of the fine-tuned model, for another run."""
    r = m["runs"][seed]
    return {**m, "predicted": {**m["predicted"], "trained": r["predicted"]},
            "sinks": {**m["sinks"], "trained": r["sinks"]},
            "sinks_norm": {**m["sinks_norm"], "trained": r["sinks_norm"]},
            "entropy": {**m["entropy"], "trained": r["entropy"]},
            "layer_change": {**m["layer_change"], "total": r["layer_change"]["total"]},
            **({"methods": {**m["methods"], **r["methods"]}} if r.get("methods", {}).get("figures") else {})}


def _runs_have(m: dict, what: str) -> bool:
    """Whether every other run measured ``what`` (a measurement of the methods' sample)."""
    return bool(m.get("runs")) and all(r.get(what, {}).get("figures") for r in m["runs"].values())


OVER_RUNS = ("depth", "sinks", "sinks_norm", "entropy", "probe")  # cards made again from every run's numbers


def with_runs(card: dict, m: dict, make, value=lambda c: c["value"], what: str = "the value",
              fmt=lambda v: f"{v:.3f}") -> dict:
    """``card`` (run 0's) with every other run's value and verdict (``make(m_of_run)``
    on the same sentences), their standard deviation (``runs_sd``), and the verdict
    over the runs (``RULES["runs"]``): the same verdict in every run stands; where the
    runs disagree, partly."""
    seeds = sorted((m.get("runs") or {}), key=int)
    if not seeds:
        return card
    others = {seed: make(as_run(m, seed)) for seed in seeds}
    values = {"0": value(card), **{s: value(c) for s, c in others.items()}}
    verdicts = {"0": card["verdict"], **{s: c["verdict"] for s, c in others.items()}}
    sd = float(np.std(list(values.values()), ddof=1))
    outcome = card["verdict"] if len(set(verdicts.values())) == 1 else "partly"
    listed = claims.join([f"{fmt(values[s])} (run {s})" for s in values])
    if len(set(verdicts.values())) == 1:
        said = f"the verdict is the same in all {len(values)}."
    else:
        by = {v: [s for s in verdicts if verdicts[s] == v] for v in dict.fromkeys(verdicts.values())}
        said = ("the runs disagree (" + "; ".join(f"{RULES['verdicts'][v]} in run{'s' if len(ss) > 1 else ''} "
                                                  f"{claims.join(ss)}" for v, ss in by.items()) + "), so it partly holds.")
    text = card["text"] + f" Over the {len(values)} fine-tuning runs {what} is {listed} (sd {fmt(sd)}); " + said
    verdict = claims.Claim("finding", f"findings.{card['id']}", outcome, text)
    return {**card, "runs": values, "runs_verdicts": verdicts, "runs_sd": round(sd, 4), "verdict": outcome,
            "rule": f"{card['rule']} {RULES['over_runs']}",
            "verdict_words": RULES["verdicts"][outcome], "text": verdict.text}


SHOWN = 3  # sentences and heads a card links to


def _top_rows(score, k: int = SHOWN) -> list[int]:
    """The rows of the ``k`` highest scores, highest first (ties: the earlier row)."""
    score = np.asarray(score, dtype=np.float64)
    return [int(i) for i in sorted(range(len(score)), key=lambda i: (-score[i], i))[:k]]


def _top_heads(score, k: int = SHOWN, layers=None) -> list[list[int]]:
    score = np.asarray(score, dtype=np.float64)
    cells = [c for c in np.ndindex(score.shape) if layers is None or c[0] in layers]
    return [[int(l), int(h)] for l, h in sorted(cells, key=lambda c: (-score[c], c))[:k]]


def examples(id_: str, m: dict, g: dict | None, card: dict) -> dict:
    """What a card links to: the gallery's sentences that show the finding best (rows of
    the gallery's set, in its order) and the heads (layer, head) that show it on the set
    ``m``, each with the gallery row where that head changed most. The score each card
    ranks by is said in ``by``."""
    by, rows, heads = ("", ""), [], []
    change = np.asarray(m["head_change"], dtype=np.float64) if m.get("head_change") else None
    if id_ == "depth" and change is not None:
        last = min(2, change.shape[1] - 1)
        heads = _top_heads(change.mean(0), layers=set(range(change.shape[1] - last, change.shape[1])))
        by = ("sentences whose last layers changed most beyond the others", "the most-changed heads of the last layers")
        if g:
            t = np.asarray(g["layer_change"]["total"], dtype=np.float64)
            rows = _top_rows(t[:, -last:].mean(1) - t[:, :-last].mean(1))
    elif id_ == "sinks":
        if m.get("to_cls_change"):
            heads = _top_heads(-np.asarray(m["to_cls_change"], dtype=np.float64).mean(0))
        by = ("sentences whose fine-tuned model gives [CLS], [SEP] and punctuation the largest share of attention",
              "the heads where fine-tuning moved the words' attention off [CLS] most")
        if g:
            rows = _top_rows(_special(g, "sinks", "trained").mean(1))
    elif id_ == "sinks_norm":
        by = ("sentences where weights give [CLS], [SEP] and punctuation most more than norms do", "")
        if g:
            rows = _top_rows((_special(g, "sinks", "trained") - _special(g, "sinks_norm", "trained")).mean(1))
    elif id_ == "entropy":
        by = ("sentences whose attention entropy fell most with fine-tuning", "")
        if g:
            rows = _top_rows(-(np.asarray(g["entropy"]["trained"]) - np.asarray(g["entropy"]["untrained"])).mean(1))
    elif id_ == "heads":
        heads = [[t["layer"], t["head"]] for t in card.get("top_heads", [])[:SHOWN]]
        by = ("sentences whose gold class's log-odds fall most when the most important head is masked",
              "the heads whose masking lowers accuracy most")
        if g and g.get("ablation") and heads:
            l, h = heads[0]
            drop = np.asarray(g["ablation"]["base_logodds"]) - np.asarray(g["ablation"]["logodds"])[:, l, h]
            rows = _top_rows(drop)
    elif id_ == "probe":
        by = ("sentences the fine-tuned model gets right and the probe gets wrong", "")
        if g and g.get("probes") and card.get("best_probe") in g["probes"]:
            gold = np.asarray(g["gold"])
            gained = (np.asarray(g["predicted"]["trained"]) == gold) & (np.asarray(g["probes"][card["best_probe"]]) != gold)
            rows = [r for r in _top_rows(gained.astype(float) + 1e-3 * np.asarray(g["tokens"])) if gained[r]]
    where = {}
    if g and g.get("head_change") and heads:
        gc = np.asarray(g["head_change"], dtype=np.float64)
        where = {f"{l}-{h}": _top_rows(gc[:, l, h], 1)[0] for l, h in heads}
    return {"rows_by": by[0], "heads_by": by[1], "rows": rows,
            "heads": [{"layer": l, "head": h, "row": where.get(f"{l}-{h}")} for l, h in heads]}


def findings(set_name: str, m: dict, gallery_name: str | None, g: dict | None, labels) -> dict:
    """The manifest's ``findings``: the set, the cards, the measurements."""
    makers = {"depth": depth_card, "sinks": sinks_card, "sinks_norm": sinks_norm_card, "heads": heads_card,
              "entropy": entropy_card, "methods": lambda m, g: methods_card(m, g, labels), "probe": probe_card}
    cards = []
    for id_, make in makers.items():
        card = make(m, g)
        if card and id_ == "probe":  # the probe is one; the fine-tuned model's accuracy varies over runs
            card = with_runs(card, m, lambda mr: probe_card(mr, None), value=lambda c: c["accuracy"]["fine-tuned"],
                             what="the fine-tuned model's accuracy", fmt=lambda v: f"{100 * v:.1f}%")
        elif card and id_ == "methods" and _runs_have(m, "methods"):
            card = with_runs(card, m, lambda mr: methods_card(mr, None, labels))
        elif card and id_ in OVER_RUNS:
            card = with_runs(card, m, lambda mr, make=make: make(mr, None))
        if card:
            cards.append({**card, "examples": examples(id_, m, g, card)})
    return {"set": {"name": set_name, "n": len(m["gold"]), "tokens_mean": round(float(np.mean(m["tokens"])), 1)},
            "gallery": {"name": gallery_name, "n": len(g["gold"])} if g else None,
            "runs": 1 + len(m.get("runs") or {}), "bootstrap": RULES["bootstrap"], "cards": cards, **means(m),
            "to_cls": typicality(m),
            **({"method_tau": next(c["method_tau"] for c in cards if c["id"] == "methods")}
               if any(c["id"] == "methods" for c in cards) else {}),
            **({"head_ablation": next(c["head_ablation"] for c in cards if c["id"] == "heads")}
               if any(c["id"] == "heads" for c in cards) else {}),
            "seconds": m.get("seconds")}
