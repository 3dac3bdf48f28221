"""Golden files for the site's JavaScript, written by the Python side.

What must exist in both languages is tested against files Python writes:

* ``tests/golden/live.json``: the live page's numbers for a few sentences. For each,
  the real default pair's outputs (both models' attention, float32; the probabilities
  of every variant leave-one-out and the deletion test remove tokens from) and what
  ``attention_gallery.explain`` computes from them: quantised levels, head change and
  its top heads, attention rollout, raw attention, norm-based attention (from the
  value vectors' norms: the views' levels, the head change on it, the norms
  method's scores), leave-one-out, the deletion test's
  figures (unrounded) with its random baseline (exact, or from the seeded orders it
  used, which the file holds) and tau-LOO. ``tests/js/live.test.js`` feeds the same
  outputs to lib/maths.js and lib/deletion.js (no ONNX in Node) and compares every
  score: within 1e-5, levels exactly. ``tests/test_js.py`` checks the Python side
  still writes them.
* ``tests/golden/blob.json``: one attention blob as ``views.attention_blob`` writes it
  and the levels it holds (lib/blob.js must read them back exactly).
* ``tests/golden/markup.json``: what ``explain/views.py`` writes for a few inputs
  (view placeholders, tables, the head-change map, token scores, the legend);
  lib/markup.js must write the same strings.
* ``tests/golden/notice.json``: "What to notice" as ``explain/notice.py`` says it, for
  the live golden sentences (from live.json's numbers) and for cases reaching each
  outcome of its rules; lib/notice.js must say the same.

    .venv/bin/python scripts/js_golden.py            # rewrite all three
    .venv/bin/python scripts/js_golden.py --check    # compare, write nothing (exit 1 on a difference)
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
PAIR = "minilm-sst2"
# short enough that the file stays small; the second has more than 10 words, so one
# size of its random baseline has more than 256 subsets and is sampled
SENTENCES = [
    "The movie was not bad at all",
    "Dull and slow, yet the cast often made me smile",
]
TOLERANCE = 1e-5  # the float32 tolerance, for floats compared across languages
DRAWS = 20  # random orders where the baseline is sampled (the build draws 200: the same code, a smaller file)


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def _known(run) -> dict[str, list[float]]:
    """Every variant the model ran (ids joined by commas) -> its class probabilities."""
    out = {}
    for key, (probs, _) in run.removals._known.items():
        ids = np.frombuffer(key, dtype=np.int64)
        out[",".join(str(int(i)) for i in ids)] = _floats(probs)
    return dict(sorted(out.items()))


def live_case(pair, text: str) -> dict:
    from attention_gallery.explain import faithfulness as F
    from attention_gallery.explain import views
    from attention_gallery.explain.forward import run_sentence
    from attention_gallery.explain.headchange import head_change, top_heads
    from attention_gallery.explain.methods import REGISTRY, cls_attention, rollout

    run = run_sentence(pair, text)
    sentence = run.sentence
    special = sentence.special
    words = sentence.words
    residual = REGISTRY["rollout"].residual
    out = {
        "text": text, "tokens": list(sentence.tokens), "ids": [int(i) for i in sentence.input_ids[0]],
        "special": [bool(s) for s in special], "words": [int(i) for i in words],
        "labels": list(run.labels), "layers": int(run.trained.attention.shape[0]),
        "heads": int(run.trained.attention.shape[1]), "rollout_residual": residual,
    }
    change = head_change(run.untrained.attention, run.trained.attention)
    out["head_change"] = [_floats(row) for row in change]
    out["top_heads"] = [[l, h, v] for l, h, v in top_heads(change, 3)]
    shown = {w: views.row_normalised(run.run(w).norm_attention) for w in ("trained", "untrained")}
    out["head_change_norms"] = [_floats(row) for row in head_change(shown["untrained"], shown["trained"])]
    attributions = {}
    for which in ("trained", "untrained"):
        r = run.run(which)
        loo = REGISTRY["loo"].attribute(sentence, r)
        out[which] = {
            "attention_f32": _b64(r.attention.astype(np.float32)),
            "levels": _b64(views.levels(r.attention)),
            "probs": _floats(r.probs), "logits": _floats(r.logits), "predicted": r.predicted,
            "rollout": _floats(rollout(r.attention, residual)),
            "attention": _floats(cls_attention(r.attention)),
            "loo": _floats(loo.scores),
            # norm-based attention: the value vectors' norms the graph gives (norms_<l>), the
            # levels of the views' norms blob, the norms method's token scores
            "value_norms_f32": _b64(r.value_norms.astype(np.float32)),
            "norm_levels": _b64(views.levels(shown[which])),
            "norms": _floats(REGISTRY["norms"].attribute(sentence, r).scores),
        }
        if which == "trained":
            attributions = {name: REGISTRY[name].attribute(sentence, r) for name in ("rollout", "attention")}
            attributions["loo"] = loo
    # the deletion test of the fine-tuned model, unrounded (faithfulness.deletion_test rounds to 4 decimals)
    r = run.trained
    orders = {name: F.rank_tokens(a.scores, special) for name, a in attributions.items()}
    table = F._rankings(r, orders, F.KS, None)
    for name, a in attributions.items():
        table[name]["tau_loo"] = F.tau_loo(a.scores, attributions["loo"].scores, special)
    rnd = F.random_expectation(r, F.KS, DRAWS, 0, None)
    table["random"] = {**rnd.figures, "tau_loo": 0.0}
    out["deletion"] = {
        "ks": list(F.KS), "bins": list(F.BINS), "exact_limit": F.EXACT_LIMIT, "draws": DRAWS,
        "target": r.predicted, "p0": float(r.probs[r.predicted]),
        "figures": {name: {k: (_floats(v) if isinstance(v, list) else float(v)) for k, v in f.items()}
                    for name, f in table.items()},
        "random_mode": rnd.mode, "random_se": {k: float(v) for k, v in rnd.se.items()},
        "orders": ([[int(i) for i in o] for o in F.random_rankings(r, DRAWS, 0)]
                   if rnd.mode != "exact" else []),
    }
    out["variants"] = {"trained": _known(run.trained), "untrained": _known(run.untrained)}
    return out


def live_golden(pair) -> dict:
    from attention_gallery import config

    return {
        "about": ("The live page's numbers, written by scripts/js_golden.py from attention_gallery.explain on the "
                  f"{PAIR} pair: tests/js/live.test.js feeds the same model outputs (attention float32 as base64 "
                  "little-endian, every variant's probabilities) to lib/maths.js and lib/deletion.js and compares "
                  f"every score within {TOLERANCE}, levels exactly."),
        "pair": PAIR, "scale": config.ATTENTION_LEVELS, "tolerance": TOLERANCE,
        "cases": [live_case(pair, text) for text in SENTENCES],
    }


def blob_golden() -> dict:
    """One attention blob as views.attention_blob writes it, from seeded numbers."""
    from attention_gallery.explain import views

    rng = np.random.default_rng(7)
    tokens = ["[CLS]", "a", "café", "</script>", "&", "[SEP]"]
    layers, heads, n = 2, 3, len(tokens)
    def attention():
        a = rng.random((layers, heads, n, n)) ** 3
        return a / a.sum(-1, keepdims=True)
    trained, untrained = attention(), attention()
    trained[0, 0, 0, :3] = [0.5 / 255, 1.5 / 255, 2.5 / 255]  # halves: levels round them to even
    element = views.attention_blob("attention-golden", tokens, trained, untrained)
    match = re.fullmatch(r'<script type="application/json" class="gallery-attention-data" id="([^"]+)">(.*)</script>',
                         element, re.DOTALL)
    return {
        "about": ("An attention blob as attention_gallery.explain.views.attention_blob writes it (the element and its "
                  "JSON text) and the levels it holds, trained then untrained (base64): lib/blob.js must read them "
                  "back exactly (tests/js/blob.test.js), and so must the Python side (tests/test_js.py)."),
        "element": element, "id": match.group(1), "text": json.loads(json.dumps(match.group(2))),
        "tokens": tokens, "layers": layers, "heads": heads, "scale": views.SCALE,
        "levels": _b64(np.concatenate([views.levels(trained).ravel(), views.levels(untrained).ravel()])),
        "trained": _floats(trained), "untrained": _floats(untrained),
        # the fine-tuned model at two training steps: the sidecar script views.steps_script writes, and the
        # levels of each step's attention (its blob's trained half; the untrained half is zeros)
        "steps": {"steps": [0, 25], "script": views.steps_script("attention-golden", views.steps_payload(
                      tokens, [0, 25], [untrained, trained])),
                  "levels": {"0": _b64(views.levels(untrained).ravel()), "25": _b64(views.levels(trained).ravel())}},
    }


def download_golden() -> dict:
    """bertviz's params of a download's view and the same packed (build/download.py):
    build/download_params.js must unpack them to the same numbers."""
    from attention_gallery.build import download

    rng = np.random.default_rng(11)
    attn = np.round(rng.random((2, 3, 4, 4)) ** 3, 3)
    attn[0, 0, 0] = [0.0, 1.0, 0.001, 0.999]
    params = {"attention": [{"name": None, "attn": attn.tolist(), "left_text": ["[CLS]", "a", "café", "[SEP]"],
                             "right_text": ["[CLS]", "a", "café", "[SEP]"]}],
              "default_filter": "0", "root_div_id": "bertviz-head-view-trained-0", "layer": 1, "heads": [2]}
    return {"about": ("A download's bertviz params (thousandths) and the same packed by "
                      "attention_gallery.build.download.compact_params: build/download_params.js must give back "
                      "exactly the params (tests/js/download.test.js), and Python must still pack them so "
                      "(tests/test_js.py)."),
            "params": params, "packed": download.compact_params(params)}


def markup_golden() -> dict:
    """What views.py writes for a few inputs, and the inputs (as lib/markup.js takes them)."""
    from attention_gallery import rules
    from attention_gallery.explain import views

    class Run:
        def __init__(self, logits):
            self.logits = np.asarray(logits, dtype=np.float64)
            e = np.exp(self.logits - self.logits.max())
            self.probs = e / e.sum()
            self.predicted = int(self.logits.argmax())

    cases = []
    titles = views.VIEW_TITLES
    for args in (("attention-x", "model_view", "trained", "x-model-view-trained", None, None),
                 ("attention-x", "head_view", "gained", "x-head-view-gained", 2, [4]),
                 ('attention-"q"', "head_view", "lost", "x<y>", 0, [1, 3])):
        cases.append({"fn": "view", "args": [titles, *args],
                      "html": views.bertviz_view(args[0], args[1], args[2], args[3], args[4], args[5])})
    tokens = ["[CLS]", "not", "<b>bad</b>", "&", "it's", "[SEP]"]
    cases.append({"fn": "sentenceCard", "args": ['It\'s "not" <b>bad</b> & fine', tokens, "positive", "A note."],
                  "html": views.sentence_card('It\'s "not" <b>bad</b> & fine', tokens, "positive", "A note.")})
    cases.append({"fn": "sentenceCard", "args": ["No note", tokens, "negative", ""],
                  "html": views.sentence_card("No note", tokens, "negative", "")})
    runs = {"trained": Run([-1.25, 2.0625]), "untrained": Run([0.01, -0.0001])}
    rows = [[views.model_name(w), w, {"logits": _floats(r.logits), "probs": _floats(r.probs), "predicted": r.predicted}]
            for w, r in runs.items()]
    for gold in ("positive", "negative"):
        cases.append({"fn": "predictionsTable", "args": [["negative", "positive"], rows, gold],
                      "html": views.predictions_table(["negative", "positive"], runs, gold)})
    rng = np.random.default_rng(3)
    change = rng.random((3, 4)) * 0.4
    change[1, 2] = 0.0
    cases.append({"fn": "heatmap", "args": [[_floats(r) for r in change], "Change <per> head", [[0, 1], [2, 3]], "head"],
                  "html": views.heatmap(change, "Change <per> head", highlight=[(0, 1), (2, 3)],
                                        href=lambda l, h: f"#head-{l}-{h}")})
    cases.append({"fn": "heatmap", "args": [[_floats(r) for r in change], "No links", [], None],
                  "html": views.heatmap(change, "No links")})
    cases.append({"fn": "measured", "args": ['<p class="x">on weights</p>', "<p>on norms</p>"],
                  "html": views.measured('<p class="x">on weights</p>', "<p>on norms</p>")})
    muted = [True, False, False, False, False, True]
    for signed_scores, scores in ((True, [0.0, 0.31, -0.125, 0.0, 1e-4, 0.0]), (False, [0.5, 0.2, 0.05, 0.0, 0.25, 0.01])):
        full = views.shared_scale([scores], np.asarray(muted))
        cases.append({"fn": "tokenScores", "args": [["[CLS]", "Ġnot", "▁bad", "x</w>", "<&>", "[SEP]"], scores,
                                                   "Method <x>", muted, full, signed_scores],
                      "html": views.token_scores(["[CLS]", "Ġnot", "▁bad", "x</w>", "<&>", "[SEP]"], scores, "Method <x>",
                                                 np.asarray(muted), full, signed_scores)})
    scale = views.colour_scale([[0.0, 0.3, 0.1, 0.0]], [True, False, False, True])
    item = views.scale_item("Attention <rollout>", scale, "of [CLS]'s attention", False)
    share = views.pct(views.full_share())
    cases.append({"fn": "legend", "args": [["negative", "positive"], share, "IG, leave-one-out", [item]],
                  "html": views.attribution_legend(("negative", "positive"),
                                                   {"Attention <rollout>": (scale, "of [CLS]'s attention", False)},
                                                   signed_titles=("IG", "leave-one-out"))})
    cases.append({"fn": "legend", "args": [["neg", "pos"], share, "IG, leave-one-out", []],
                  "html": views.attribution_legend(("neg", "pos"), signed_titles=("IG", "leave-one-out"))})
    cases.append({"fn": "simpleTable", "args": [["a", "<b>"], [["1", "<2>"], ["x & y", "it's"]], "a <table>", False],
                  "html": views.simple_table(["a", "<b>"], [["1", "<2>"], ["x & y", "it's"]], "a <table>")})
    cases.append({"fn": "simpleTable", "args": [["m"], [["<em>raw</em>"]], "raw cells", True],
                  "html": views.simple_table(["m"], [["<em>raw</em>"]], "raw cells", raw=True)})
    cases.append({"fn": "signed", "args": [[0.0, -0.0004, 0.0004, 1.23456, -2.5, 0.9999]],
                  "html": [views.signed(v) for v in (0.0, -0.0004, 0.0004, 1.23456, -2.5, 0.9999)]})
    return {"about": ("What attention_gallery/explain/views.py writes for these inputs: lib/markup.js "
                      "(tests/js/markup.test.js) must write the same strings. heatmap's fourth argument 'head' "
                      "stands for href(l, h) = '#head-l-h'."),
            "full_share": rules.section("colour")["full_share"], "cases": cases}


def _point(c) -> dict:
    return {"kind": c.kind, "rule": c.rule, "outcome": c.outcome, "text": c.text,
            **({"head": list(c.head)} if c.head is not None else {})}


LIVE_METHOD = ("loo", "Leave-one-out", "Leave-one-out")  # the live page's ranking (it has no gradients): key, lead, title


def notice_sentence(case: dict) -> dict:
    """What to notice for one live golden sentence, by notice.py's functions on the live
    page's numbers (as live.js calls lib/notice.js): no gold label; the head rule on the
    most changed head; leave-one-out's top tokens and its deletion verdict (the live
    page has no IG); norms against weights; the untrained margin."""
    from attention_gallery import claims
    from attention_gallery.explain import notice
    from attention_gallery.explain.headchange import sink_facts

    L, H, n = case["layers"], case["heads"], len(case["tokens"])
    att = {w: np.frombuffer(base64.b64decode(case[w]["attention_f32"]), dtype="<f4").reshape(L, H, n, n)
           for w in ("trained", "untrained")}
    labels, t, u = case["labels"], case["trained"], case["untrained"]
    words = np.asarray(case["words"], np.int64)
    sink = sink_facts(att["trained"], att["untrained"], words)
    layer, head, change = case["top_heads"][0]
    d = case["deletion"]
    key, lead, title = LIVE_METHOD
    p0 = round(d["p0"], 4)
    points = [
        notice.verdict_claim(labels[t["predicted"]], t["probs"][t["predicted"]], None),
        notice.head_numbers_claim(case["tokens"], layer, head, change, L * H,
                                  notice.head_numbers(sink, att["trained"], att["untrained"], layer, head)),
        notice.tokens_claim(lead, title, case["tokens"], words, t[key], labels, d["target"], d["figures"][key],
                            d["figures"]["random"], d["random_se"], p0),
        claims.norms_claim([round(x, 4) for x in t["attention"]], [round(x, 4) for x in t["norms"]], case["special"]),
        notice.untrained_claim(labels[-1], u["probs"][-1], abs(u["logits"][0] - u["logits"][-1])),
    ]
    return {"points": [_point(c) for c in points], "html": notice.notice_html(points)}


def notice_golden(cases: list[dict]) -> dict:
    """What to notice: for the live golden sentences (live.json's numbers in), and for
    cases that reach each outcome of the head, faithfulness, norms and untrained rules."""
    from attention_gallery import claims
    from attention_gallery.explain import notice

    rules_used = {"faithfulness": claims.FAITH, "head": claims.HEAD, "norms": claims.NORMS,
                  "tokens": claims.RULES["tokens"], "untrained": claims.RULES["untrained"]}
    tokens = ["[CLS]", "not", "bad", "at", "all", "not", "[SEP]"]
    head_cases = []
    for name, numbers in (
            ("to-cls-fell", {"to_cls_trained": 0.12, "to_cls_untrained": 0.6, "cls_gain": 0.1, "cls_gain_token": 2,
                             "cls_gain_trained": 0.3, "cls_gain_untrained": 0.2, "largest": [1, 0, 0.1, 0.7]}),
            ("to-cls-rose", {"to_cls_trained": 0.625, "to_cls_untrained": 0.3, "cls_gain": 0.0, "cls_gain_token": 1,
                             "cls_gain_trained": 0.1, "cls_gain_untrained": 0.1, "largest": [2, 0, 0.7, 0.3]}),
            ("cls-row-gained", {"to_cls_trained": 0.2, "to_cls_untrained": 0.21, "cls_gain": 0.4, "cls_gain_token": 5,
                                "cls_gain_trained": 0.455, "cls_gain_untrained": 0.055, "largest": [0, 5, 0.455, 0.055]}),
            ("largest-change", {"to_cls_trained": 0.2, "to_cls_untrained": 0.21, "cls_gain": 0.01, "cls_gain_token": 3,
                                "cls_gain_trained": 0.1, "cls_gain_untrained": 0.09, "largest": [5, 1, 0.045, 0.015]})):
        c = notice.head_numbers_claim(tokens, 3, 9, 0.41249, 72, numbers)
        assert c.outcome == name, (name, c.outcome)
        head_cases.append({"tokens": tokens, "at": [3, 9], "change": 0.41249, "n_heads": 72, "numbers": numbers,
                           **_point(c)})
    faith_cases = []
    golden_claims = json.loads((GOLDEN / "claims.json").read_text("utf-8"))["cases"]
    for c in golden_claims:  # the faithfulness rule's own cases (claims.json), now in words
        for top in ([], ["\u201cnot\u201d", "\u201cbad\u201d"]):
            got = claims.faithfulness_claim("IG", c["method"], c["random"], c["se"], c["p0"], "positive", "negative", top)
            faith_cases.append({"title": "IG", "method": c["method"], "random": c["random"], "se": c["se"], "p0": c["p0"],
                                "label": "positive", "other": "negative", "top": top, **_point(got)})
    special = [True, False, False, True]
    norms_cases = [{"weights": w, "norms": nn, "special": special, **_point(claims.norms_claim(w, nn, special))}
                   for w, nn in (([0.5, 0.1, 0.1, 0.3], [0.2, 0.4, 0.3, 0.1]), ([0.1, 0.4, 0.4, 0.1], [0.4, 0.1, 0.1, 0.4]),
                                 ([0.3, 0.2, 0.2, 0.3], [0.31, 0.2, 0.19, 0.3]))]
    c0 = golden_claims[0]  # a method with no word above 0 toward the class: the lead says why, by method
    tokens_cases = [{"name": name, "title": name, "tokens": tokens, "words": [1, 2, 3, 4, 5], "scores": scores,
                     "labels": ["negative", "positive"], "target": 1, "method": c0["method"], "random": c0["random"],
                     "se": c0["se"], "p0": c0["p0"],
                     **_point(notice.tokens_claim(name, name, tokens, np.asarray([1, 2, 3, 4, 5]), scores,
                                                  ["negative", "positive"], 1, c0["method"], c0["random"], c0["se"],
                                                  c0["p0"]))}
                    for name in ("Integrated Gradients", "Leave-one-out")
                    for scores in ([0, -0.2, -0.1, 0, -0.3, -0.05, 0], [0, -0.2, 0.4, 0, 0.1, -0.05, 0])]
    untrained_cases = [{"last": "positive", "p_last": p, "margin": m, **_point(notice.untrained_claim("positive", p, m))}
                       for p, m in ((0.5012, 0.0048), (0.71, 0.8954))]
    verdict_cases = [{"predicted": pr, "p": p, "gold": g, **_point(notice.verdict_claim(pr, p, g))}
                     for pr, p, g in (("positive", 0.87312, "positive"), ("negative", 0.9971, "positive"),
                                      ("positive", 0.5049, None))]
    return {
        "about": ("What to notice, as attention_gallery/explain/notice.py and claims.py say it: lib/notice.js "
                  "(tests/js/notice.test.js) must say the same from the same numbers. sentences: for each live golden "
                  "sentence (tests/golden/live.json, same order), the points the live page states from its numbers "
                  f"(ranking: {LIVE_METHOD[1]}), then the list's HTML; the other lists reach each outcome of a rule."),
        "rules": rules_used, "untrained_name": notice.views.model_name("untrained"),
        "sentences": [notice_sentence(c) for c in cases],
        "head": head_cases, "faithfulness": faith_cases, "norms": norms_cases, "tokens": tokens_cases,
        "untrained": untrained_cases,
        "verdict": verdict_cases,
    }


def write(path: Path, data: dict, check: bool, compact: bool = False) -> bool:
    text = json.dumps(data, ensure_ascii=False, **({"separators": (",", ":")} if compact else {"indent": 1})) + "\n"
    if check:
        same = path.is_file() and json.loads(path.read_text("utf-8")) == json.loads(text)
        print(f"{path.relative_to(ROOT)}: {'same' if same else 'DIFFERS'}")
        return same
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({len(text) // 1024} KB)")
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    ap.add_argument("--skip-live", action="store_true", help="only the files that need no model")
    args = ap.parse_args(argv)
    ok = write(GOLDEN / "blob.json", blob_golden(), args.check)
    ok &= write(GOLDEN / "markup.json", markup_golden(), args.check)
    ok &= write(GOLDEN / "download.json", download_golden(), args.check)
    if not args.skip_live:
        from attention_gallery.models import load_pair

        live = live_golden(load_pair(PAIR))
        ok &= write(GOLDEN / "live.json", live, args.check, compact=True)
        ok &= write(GOLDEN / "notice.json", notice_golden(live["cases"]), args.check)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
