"""The findings stage (attention_gallery/findings): its measures recomputed by a plain
forward pass, its bootstrap's coverage, its verdicts at their rules' boundaries, its
refusals and its cache."""

from __future__ import annotations

import copy
import unicodedata
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon

from attention_gallery import family
from attention_gallery.findings import cards, measures, stage
from attention_gallery.labelled import LabelledSetError, read_tsv


@dataclass
class _Sentence:
    text: str
    label: str


ROWS = [(1, "a fine , warm film ."), (0, "dull , slow and far too long ..."), (1, "it works !"),
        (0, "not good at all")]


def _tsv(path, rows=ROWS, header="label\tsentence"):
    path.write_text(header + "\n" + "".join(f"{y}\t{t}\n" for y, t in rows), encoding="utf-8")
    return path


def test_the_measures_are_a_plain_forward_pass_by_hand(tiny_pair):
    """Each sentence's shares of attention to [CLS], [SEP] and punctuation, under
    weights and under norms, and its attention entropy, recomputed from the model's
    own attention output by loops (no code of the stage)."""
    labelled = stage.LabelledSet("test", "test", ROWS)
    got = stage.measure(tiny_pair, labelled, progress=False)
    tok = tiny_pair.tokenizer
    for s, (label, text) in enumerate(ROWS):
        enc = tok(text, return_tensors="pt")
        ids = enc["input_ids"][0].tolist()
        tokens = tok.convert_ids_to_tokens(ids)
        punct = [all(unicodedata.category(c).startswith("P") for c in t) and i not in (tok.cls_token_id, tok.sep_token_id)
                 for t, i in zip(tokens, ids)]
        kinds = {"cls": [i == tok.cls_token_id for i in ids], "sep": [i == tok.sep_token_id for i in ids],
                 "punct": punct}
        assert got["gold"][s] == label and got["tokens"][s] == len(ids)
        for which in ("trained", "untrained"):
            model = tiny_pair.model(which)
            with torch.no_grad():
                out = model(**enc, output_attentions=True)
            att = torch.stack(out.attentions)[:, 0].double().numpy()  # (layers, heads, n, n)
            n = len(ids)
            for kind, mask in kinds.items():
                want = [np.mean([sum(att[l, h, q, k] for k in range(n) if mask[k])
                                 for h in range(att.shape[1]) for q in range(n)]) for l in range(att.shape[0])]
                assert np.allclose(got["sinks"][which][kind][s], want, atol=1e-6), (which, kind)
            entropy = [np.mean([-sum(p * np.log(p) for p in att[l, h, q] if p > 0)
                                for h in range(att.shape[1]) for q in range(n)]) for l in range(att.shape[0])]
            assert np.allclose(got["entropy"][which][s], entropy, atol=1e-6)
            assert got["predicted"][which][s] == int(out.logits.argmax())
            # norms: the shares of ||alpha f(x)|| rows scaled to sum to 1 (the kernel's norm_attention)
            from attention_gallery.explain.encode import encode
            from attention_gallery.explain.forward import run_model
            r = run_model(model, encode(tok, text))
            shown = r.norm_attention / r.norm_attention.sum(-1, keepdims=True)
            cls_share = shown[..., np.asarray(kinds["cls"])].sum(-1).mean(axis=(1, 2))
            assert np.allclose(got["sinks_norm"][which]["cls"][s], cls_share, atol=1e-6)
        # per-layer change: total, direct (only the layer's own fine-tuned weights) and inherited
        # (only the layers below fine-tuned), on hybrids made here by copying layers
        def attention_of(model):
            with torch.no_grad():
                return torch.stack(model(**enc, output_attentions=True).attentions)[:, 0].double().numpy()

        def change(a, b):  # mean over heads and queries of the Jensen-Shannon distance (base 2)
            return [np.mean([jensenshannon(a[l, h, q], b[l, h, q], base=2) for h in range(a.shape[1])
                             for q in range(a.shape[2])]) for l in range(a.shape[0])]

        untrained, trained = (attention_of(tiny_pair.model(w)) for w in ("untrained", "trained"))
        assert np.allclose(got["layer_change"]["total"][s], change(untrained, trained), atol=2e-4)
        layers = len(untrained)
        for layer in range(layers):
            for part, swap in (("direct", [layer]), ("inherited", list(range(layer)))):
                hybrid = copy.deepcopy(tiny_pair.model("untrained"))
                for k in swap:
                    family.encoder_layers(hybrid)[k].load_state_dict(family.encoder_layers(tiny_pair.model("trained"))[k].state_dict())
                want = change(untrained, attention_of(hybrid))[layer] if swap else 0.0
                assert got["layer_split"]["rows"][s] == s  # a small set: every sentence split
                assert abs(got["layer_split"][part][s][layer] - want) <= 2e-4, (part, layer)
    assert measures.is_punctuation("...") and measures.is_punctuation(",") and not measures.is_punctuation("##s")
    assert not measures.is_punctuation("[SEP]") and not measures.is_punctuation("")


def test_the_bootstrap_interval_covers_the_true_mean_at_its_rate():
    """200 synthetic sets of 60 skewed values with a known mean: the 95% interval holds
    it in 93-97% of them (fixed seed)."""
    rng = np.random.default_rng(12)
    true = 1.0  # exponential(1)
    hits = 0
    trials = 200
    for t in range(trials):
        x = rng.exponential(true, size=(400,))
        _, lo, hi = cards.bootstrap(x, resamples=1000, seed=t)
        hits += lo <= true <= hi
    assert 0.93 <= hits / trials <= 0.97, hits / trials
    # deterministic: the same numbers, the same seed, the same interval
    x = rng.normal(size=(50, 6))
    assert all(np.array_equal(a, b) for a, b in zip(cards.bootstrap(x), cards.bootstrap(x)))


def test_layer_verdicts_follow_their_rule_at_the_boundaries():
    above = np.array([0.01, 0.2]), np.array([0.3, 0.4])
    assert cards.layer_verdict(*above, "above") == "holds"
    assert cards.layer_verdict(np.array([0.0, 0.2]), np.array([0.3, 0.4]), "above") == "partly"  # 0 is not above 0
    assert cards.layer_verdict(np.array([-0.1, -0.2]), np.array([0.3, 0.0]), "above") == "not"
    assert cards.layer_verdict(np.array([-0.3, -0.4]), np.array([-0.01, 0.0]), "below") == "partly"
    assert cards.in_layers([]) == "in no layer" and cards.in_layers([3]) == "in layer 3"
    assert cards.in_layers([1, 2, 4]) == "in layers 1, 2 and 4"


def _measured(gold, tuned, probe, n_layers=2):
    n = len(gold)
    flat = [[0.1] * n_layers for _ in range(n)]
    kinds = {k: flat for k in measures.KINDS}
    return {"gold": gold, "tokens": [5] * n, "predicted": {"trained": tuned, "untrained": gold},
            "sinks": {"trained": kinds, "untrained": kinds}, "sinks_norm": {"trained": kinds, "untrained": kinds},
            "positions": {k: [0.1] * n for k in measures.KINDS}, "entropy": {"trained": flat, "untrained": flat},
            "probes": {"mean": probe}}


def test_the_probe_card_follows_its_rule():
    gold = [i % 2 for i in range(200)]
    right = list(gold)
    def wrong(k):
        return [1 - g if i < k else g for i, g in enumerate(gold)]
    # the probe as good as the fine-tuned model: intervals overlap
    assert cards.probe_card(_measured(gold, wrong(20), wrong(24)), None)["verdict"] == "holds"
    # above chance but below: intervals apart
    card = cards.probe_card(_measured(gold, right, wrong(60)), None)
    assert card["verdict"] == "partly" and card["accuracy"]["probe (mean)"] == 0.7
    # at chance
    assert cards.probe_card(_measured(gold, right, wrong(100)), None)["verdict"] == "not"
    assert cards.probe_card({**_measured(gold, right, right), "probes": {}}, None) is None


def test_the_split_sample_is_fixed_and_covers_a_small_set():
    assert stage.split_rows(30) == set(range(30))
    sample = stage.split_rows(872)
    assert len(sample) == stage.SPLIT_SAMPLE and sample == stage.split_rows(872) and max(sample) < 872


def test_the_depth_card_follows_its_rule():
    """Holds where the last two layers' change exceeds the others' beyond the interval."""
    gold = [0, 1] * 30
    rng = np.random.default_rng(3)
    def with_change(last):
        base = _measured(gold, gold, gold, n_layers=6)
        total = rng.normal(0.1, 0.01, size=(60, 6))
        total[:, -2:] += last
        split = {"rows": list(range(60)), "direct": (total / 2).tolist(), "inherited": (total / 3).tolist()}
        return {**base, "layer_change": {"total": total.tolist()}, "layer_split": split}
    card = cards.depth_card(with_change(0.05), None)
    assert card["verdict"] == "holds" and card["ci95"][0] > 0 and "mostly the layer’s own adapter" in card["text"]
    assert cards.depth_card(with_change(0.0), None)["verdict"] == "not"  # within the noise: no finding
    assert cards.depth_card(with_change(-0.05), None)["verdict"] == "not"
    assert cards.depth_card(_measured(gold, gold, gold), None) is None  # not measured: no card


def test_flat_attention_is_no_sink_and_no_sharpening():
    """A set whose special tokens get exactly their share of positions: the sinks card
    does not hold; equal entropies: the entropy card does not hold either."""
    gold = [0, 1] * 20
    found = cards.findings("synthetic", _measured(gold, gold, gold), None, None, ["negative", "positive"])
    by_id = {c["id"]: c for c in found["cards"]}
    # 3 kinds x 0.1 = 0.3 of attention on 0.3 of the positions
    assert by_id["sinks"]["verdict"] == "not" and by_id["entropy"]["verdict"] == "not"
    assert by_id["sinks_norm"]["verdict"] == "not"
    assert found["set"] == {"name": "synthetic", "n": 40, "tokens_mean": 5.0} and found["runs"] == 1
    assert all(c["runs_sd"] is None for c in found["cards"])


def test_a_labelled_file_that_is_not_one_is_refused_naming_the_row(tmp_path, tiny_pair):
    assert read_tsv(_tsv(tmp_path / "ok.tsv")) == ROWS
    bad = tmp_path / "bad.tsv"
    bad.write_text("label\tsentence\n1\tfine\n2\tunknown label\n", encoding="utf-8")
    with pytest.raises(LabelledSetError, match=r"bad\.tsv:3: unknown label '2'"):
        read_tsv(bad)
    bad.write_text("label\tsentence\n1\tfine\nno tab here\n", encoding="utf-8")
    with pytest.raises(LabelledSetError, match=r"bad\.tsv:3: expected"):
        read_tsv(bad)
    bad.write_text("label\tsentence\n", encoding="utf-8")
    with pytest.raises(LabelledSetError, match="no labelled rows"):
        read_tsv(bad)
    with pytest.raises(LabelledSetError, match="no such file"):
        read_tsv(tmp_path / "missing.tsv")
    long = _tsv(tmp_path / "long.tsv", [(1, "fine"), (0, " ".join(["word"] * 200))])
    with pytest.raises(LabelledSetError, match=r"long\.tsv: row 2: sentence has \d+ tokens"):
        stage.measure(tiny_pair, stage.LabelledSet("long", str(long), read_tsv(long)), progress=False)


def test_the_stage_is_cached_by_content_and_says_when_the_dev_set_is_missing(tmp_path, tiny_pair, monkeypatch,
                                                                            capsys):
    dev = _tsv(tmp_path / "dev.tsv")
    gallery = [_Sentence("a good film", "positive"), _Sentence("a bad film", "negative")]
    first = stage.findings(tiny_pair.spec, gallery, tmp_path / "cache", set_path=dev, limit=None, progress=False)
    assert first["set"]["n"] == len(ROWS) and first["gallery"]["n"] == 2
    assert first["set"]["name"] == "dev.tsv"
    monkeypatch.setattr(stage, "measure", lambda *a, **k: pytest.fail("measured again"))
    again = stage.findings(tiny_pair.spec, gallery, tmp_path / "cache", set_path=dev, limit=None, progress=False)
    assert again == first
    # another set is another entry
    with pytest.raises(pytest.fail.Exception):
        stage.findings(tiny_pair.spec, gallery, tmp_path / "cache", set_path=dev, limit=2, progress=False)
    monkeypatch.undo()
    # the gallery's sentences are cached one by one: a changed sentence is the one measured again
    real, asked = stage.measure, []
    monkeypatch.setattr(stage, "measure", lambda pair, labelled, progress=True, **kw: asked.append(labelled.rows)
                        or real(pair, labelled, progress, **kw))
    edited = [gallery[0], _Sentence("a bad film indeed", "negative")]
    changed = stage.findings(tiny_pair.spec, edited, tmp_path / "cache", set_path=dev, limit=None, progress=False)
    assert asked == [[(0, "a bad film indeed")]] and changed["set"] == first["set"]
    monkeypatch.undo()
    capsys.readouterr()
    alone = stage.findings(tiny_pair.spec, gallery, tmp_path / "cache", set_path=tmp_path / "none.tsv",
                           progress=False)
    said = capsys.readouterr().err.strip().splitlines()
    assert len(said) == 1 and "none.tsv" in said[0] and "gallery's sentences only" in said[0]
    assert alone["set"]["name"] == "the gallery's sentences" and alone["gallery"] is None


def test_a_gallery_of_the_set_itself_is_measured_once(tmp_path, tiny_pair, monkeypatch):
    """The dev-set gallery's sentences are the set: the stage measures the set once and
    gives the gallery its numbers (a second measurement, one sentence at a time, took
    over an hour on 872 sentences), and the page says the gallery is the set."""
    from attention_gallery.web import pages

    dev = _tsv(tmp_path / "dev.tsv")
    labels = list(tiny_pair.spec.labels)
    gallery = [_Sentence(t, labels[y]) for y, t in ROWS]
    real, asked = stage.measure, []
    monkeypatch.setattr(stage, "measure", lambda pair, labelled, progress=True, **kw: asked.append(labelled.name)
                        or real(pair, labelled, progress, **kw))
    got = stage.findings(tiny_pair.spec, gallery, tmp_path / "cache", set_path=dev, limit=None, progress=False)
    assert asked == ["dev.tsv"]
    assert got["gallery"] == {"name": "the gallery's sentences", "n": len(ROWS), "same": True}
    page = pages.findings_page(got)
    assert "the gallery's sentences are this set" in page and "; on the gallery's sentences:" not in page
    # one sentence fewer: not the set, so its sentences are measured one by one, as any gallery's (the set is cached)
    asked.clear()
    other = stage.findings(tiny_pair.spec, gallery[:-1], tmp_path / "cache", set_path=dev, limit=None, progress=False)
    assert asked == ["the gallery's sentences"] * 3 and "same" not in other["gallery"]


@pytest.mark.parametrize("content, words", [
    ("label\tsentence\n1\tfine\n7\tbad label\n", ["bad.tsv:3: unknown label '7'"]),
    ("label\tsentence\n1\tfine\n1\t" + " ".join(["word"] * 200) + "\n", ["bad.tsv: row 2: sentence has", "at most 128"]),
    ("label\tsentence\n", ["no labelled rows"]),
])
def test_a_build_refuses_a_findings_set_it_cannot_measure_in_one_line(tmp_path, tiny_registry, content, words):
    """Before anything runs: exit 2, one line naming the file and the row, nothing
    executed, no site made."""
    from test_hostile import TWO, cli, refused_line, write_sentences

    bad = tmp_path / "bad.tsv"
    bad.write_text(content, encoding="utf-8")
    out = cli("--sentences", str(write_sentences(tmp_path / "s.yaml", TWO)), "--pair", "tiny",
              "--out", str(tmp_path / "site"), "--cache", str(tmp_path / "cache"),
              env={"ATTENTION_GALLERY_FINDINGS_SET": str(bad)})
    refused_line(out, "findings' labelled set", str(bad), *words)
    assert not list((tmp_path / "cache").rglob("*.ipynb")) and not (tmp_path / "site" / "index.html").exists()


@pytest.mark.parametrize("which", ["tiny", "default"])
def test_head_ablation_is_a_forward_pass_with_one_head_zeroed_by_hand(which, tiny_pair, default_pair):
    """The stage's batched ablation (hidden states cached per layer, the layers above
    rerun) against a plain forward pass per sentence, unpadded, with the head's slice
    of the attention output zeroed by hand before the output projection."""
    from attention_gallery.findings import ablation

    pair = tiny_pair if which == "tiny" else default_pair
    model, tok = pair.model("trained"), pair.tokenizer
    rows = [(1, "a fine , warm film ."), (0, "dull , slow and far too long , with a plot that goes nowhere"),
            (1, "it works")]
    got = ablation.ablate(model, tok, rows)
    layers, heads = len(family.encoder_layers(model)), family.n_heads(model)
    assert np.asarray(got["logodds"]).shape == (3, layers, heads)
    for layer, head in ((0, 0), (layers - 1, heads - 1), (layers // 2, 1)):
        proj = family.output_projection(model, layer)
        width = proj.in_features // heads
        original = proj.forward

        def masked(x, original=original, head=head, width=width):
            x = x.clone()
            x[..., head * width:(head + 1) * width] = 0
            return original(x)

        proj.forward = masked
        try:
            for i, (gold, text) in enumerate(rows):
                with torch.inference_mode():
                    logits = model(**tok(text, return_tensors="pt")).logits[0].double()
                p = torch.softmax(logits, -1)[gold]
                assert got["logodds"][i][layer][head] == pytest.approx(float(torch.log(p / (1 - p))), abs=2e-4)
                assert got["correct"][i][layer][head] == int(logits.argmax() == gold)
        finally:
            del proj.forward
    for i, (gold, text) in enumerate(rows):  # unmasked
        with torch.inference_mode():
            p = torch.softmax(model(**tok(text, return_tensors="pt")).logits[0].double(), -1)[gold]
        assert got["base_logodds"][i] == pytest.approx(float(torch.log(p / (1 - p))), abs=2e-4)


def _ablated(n, matter, layers=2, heads=4, drop=1.0):
    """n sentences, all right unmasked; masking each head of ``matter`` makes the first
    ``drop`` share of them wrong."""
    correct = np.ones((n, layers, heads), dtype=int)
    for l, h in matter:
        correct[: int(drop * n), l, h] = 0
    return {"ablation": {"base_correct": [1] * n, "correct": correct.tolist(), "base_logodds": [2.0] * n,
                         "logodds": (2.0 - (1 - correct)).tolist()},
            "head_change": np.tile(np.arange(layers * heads, dtype=float).reshape(layers, heads) / 10,
                                   (n, 1, 1)).tolist()}


def test_the_heads_card_follows_its_rule_at_the_boundaries():
    few, half = cards.RULES["heads_share"]
    heads = [(l, h) for l in range(2) for h in range(4)]  # 8 heads: 10% is none, half is 4
    assert cards.heads_card(_ablated(100, []), None)["verdict"] == "holds"
    assert cards.heads_card(_ablated(100, heads[:1]), None)["verdict"] == ("holds" if 1 / 8 <= few else "partly")
    assert cards.heads_card(_ablated(100, heads[:4]), None)["verdict"] == "partly"
    assert cards.heads_card(_ablated(100, heads[:5]), None)["verdict"] == "not"
    # a drop on 1 sentence of 100 is within the noise: it does not make the head matter
    card = cards.heads_card(_ablated(100, heads[:5], drop=0.01), None)
    assert card["verdict"] == "holds" and card["value"] == 0.0
    # importance rises with change in this set: the rank correlation says so
    card = cards.heads_card(_ablated(100, heads[-3:], drop=0.5), None)
    assert card["spearman"]["rho"] > 0 and card["head_ablation"]["accuracy_drop"][1][3] == 0.5
    assert cards.heads_card({"ablation": None}, None) is None


def test_the_share_of_heads_that_matter_has_an_interval_that_widens_near_the_line():
    """Two heads that clearly matter: every resample finds the same two (a narrow
    interval); a head on the line (its drop about two standard errors) passes in some
    resamples and not in others, so the interval of the share widens to include it."""
    heads = [(l, h) for l in range(2) for h in range(4)]
    clear = cards.heads_card(_ablated(200, heads[:2], drop=0.5), None)
    assert clear["value"] == 0.25 and clear["ci95"] == [0.25, 0.25]
    # a third head that drops on 6 sentences of 200: a mean of 0.03, about 2.5 standard errors
    marginal = _ablated(200, heads[:2], drop=0.5)
    correct = np.asarray(marginal["ablation"]["correct"], dtype=float)
    correct[:6, 0, 2] = 0
    marginal["ablation"]["correct"] = correct.tolist()
    card = cards.heads_card(marginal, None)
    lo, hi = card["ci95"]
    assert lo == 0.25 and hi == 0.375 and lo <= card["value"] <= hi
    assert "would pass by chance" in card["text"] and "of the heads pass" in card["text"]


def _methods(n, rollout_gain, words=5):
    names = ["ig", "rollout", "attention", "loo"]
    rng = np.random.default_rng(0)
    figs = {"aopc_comprehensiveness": 0.3, "aopc_sufficiency": 0.1, "aopc_comprehensiveness_logodds": 1.0,
            "aopc_sufficiency_logodds": 0.3}
    tau = []
    for _ in range(n):
        base = float(rng.uniform(-0.2, 0.4))
        t = {f"{a}|{b}": 0.1 for i, a in enumerate(names) for b in names[i + 1:]}
        t["attention|loo"], t["rollout|loo"] = base, base + rollout_gain
        tau.append(t)
    table = {name: dict(figs) for name in names} | {"random": {k: v / 2 for k, v in figs.items()}}
    return {"methods": {"rows": list(range(n)), "predicted": [i % 2 for i in range(n)], "words": [words] * n,
                        "figures": [table] * n, "tau": tau},
            "method_titles": {"ig": "Integrated Gradients", "rollout": "Attention rollout", "attention": "Raw attention",
                              "loo": "Leave-one-out occlusion"}}


def test_the_methods_card_follows_its_rule():
    labels = ["negative", "positive"]
    card = cards.methods_card(_methods(50, 0.05), None, labels)
    assert card["verdict"] == "holds" and card["value"] == pytest.approx(0.05, abs=1e-4)
    assert card["method_tau"]["matrix"][0][0] == 1.0 and len(card["method_tau"]["matrix"]) == 4
    assert cards.methods_card(_methods(50, 0.0), None, labels)["verdict"] == "not"
    assert cards.methods_card(_methods(50, -0.05), None, labels)["verdict"] == "not"
    # the gap to random: every method's AOPC comprehensiveness 0.15 above random, in both predicted classes
    gaps = card["against_random"]
    assert set(gaps) == {"all", "negative", "positive"} and gaps["negative"]["n"] == 25
    assert gaps["all"]["ig"]["aopc_comprehensiveness"]["mean"] == pytest.approx(0.15)
    assert "Integrated Gradients" in card["text"]
    assert cards.methods_card(_methods(50, 0.05, words=2), None, labels) is None  # tau left out under 3 words


def _with_runs(base, run_changes):
    """``base`` (depth-card numbers) with other runs whose layer change is ``run_changes``."""
    runs = {}
    for seed, total in run_changes.items():
        runs[seed] = {"predicted": base["predicted"]["trained"], "sinks": base["sinks"]["trained"],
                      "sinks_norm": base["sinks_norm"]["trained"], "entropy": base["entropy"]["trained"],
                      "layer_change": {"total": total}}
    return {**base, "runs": runs}


def test_a_verdict_stands_over_the_runs_only_where_every_run_gives_it():
    """The runs' rule: each run's model judged by the card's rule on the same sentences;
    run 0's verdict where all agree, partly where one run disagrees; the spread is the
    standard deviation of the runs' values."""
    gold = [0, 1] * 30
    rng = np.random.default_rng(5)

    def change(last):
        total = rng.normal(0.1, 0.01, size=(60, 6))
        total[:, -2:] += last
        return total

    base = _measured(gold, gold, gold, n_layers=6)
    t0 = change(0.05)
    base = {**base, "layer_change": {"total": t0.tolist()},
            "layer_split": {"rows": list(range(60)), "direct": (t0 / 2).tolist(), "inherited": (t0 / 3).tolist()}}
    labels = ["negative", "positive"]
    agree = cards.findings("s", _with_runs(base, {"1": change(0.04).tolist(), "2": change(0.06).tolist()}),
                           None, None, labels)
    depth = next(c for c in agree["cards"] if c["id"] == "depth")
    assert agree["runs"] == 3 and depth["verdict"] == "holds" and set(depth["runs_verdicts"].values()) == {"holds"}
    values = list(depth["runs"].values())
    assert depth["runs_sd"] == pytest.approx(np.std(values, ddof=1), abs=1e-4) and depth["runs_sd"] > 0
    assert "the verdict is the same in all 3" in depth["text"] and "where all three runs give it" in depth["rule"]
    # one run whose last layers did not change more: the runs disagree, so partly
    split = cards.findings("s", _with_runs(base, {"1": change(0.05).tolist(), "2": change(0.0).tolist()}),
                           None, None, labels)
    depth = next(c for c in split["cards"] if c["id"] == "depth")
    assert depth["runs_verdicts"] == {"0": "holds", "1": "holds", "2": "not"} and depth["verdict"] == "partly"
    assert "the runs disagree (holds here in runs 0 and 1; does not hold here in run 2)" in depth["text"]
    # the probe card's spread is the fine-tuned model's accuracy over the runs, not the probe's (one probe)
    probe = next(c for c in split["cards"] if c["id"] == "probe")
    assert probe["runs"] == {"0": 1.0, "1": 1.0, "2": 1.0} and probe["runs_sd"] == 0.0
    # the methods card explains run 0 only: no spread claimed
    assert all(c["runs_sd"] is None for c in split["cards"] if c["id"] == "methods")


def test_the_methods_card_has_a_spread_where_every_run_explained_its_model():
    """Through the stage's cards: each run's methods judged by the card's rule on the
    same sample; the spread is over the runs' values and a verdict stands only where
    every run gives it."""
    labels = ["negative", "positive"]
    gold = [0, 1] * 25
    total = np.full((50, 6), 0.1).tolist()
    base = {**_measured(gold, gold, gold, n_layers=6), **_methods(50, 0.05), "layer_change": {"total": total}}

    def runs(*gains):
        with_runs = _with_runs(base, {str(s): total for s in range(1, len(gains) + 1)})
        for seed, gain in enumerate(gains, start=1):
            with_runs["runs"][str(seed)]["methods"] = {k: _methods(50, gain)["methods"][k]
                                                       for k in ("predicted", "figures", "tau")}
        return with_runs

    def card(m):
        return next(c for c in cards.findings("s", m, None, None, labels)["cards"] if c["id"] == "methods")

    agree = card(runs(0.04, 0.06))
    assert agree["runs"] == {"0": pytest.approx(0.05, abs=1e-4), "1": pytest.approx(0.04, abs=1e-4),
                             "2": pytest.approx(0.06, abs=1e-4)}
    assert agree["verdict"] == "holds" and agree["runs_sd"] == pytest.approx(0.01, abs=1e-4)
    # one run whose rollout does not agree more with leave-one-out: the runs disagree, so partly
    split = card(runs(0.05, 0.0))
    assert split["runs_verdicts"] == {"0": "holds", "1": "holds", "2": "not"} and split["verdict"] == "partly"
    # runs measured without the methods (an older cache): no spread claimed
    assert card(_with_runs(base, {"1": total, "2": total}))["runs_sd"] is None

def test_a_card_links_the_gallery_sentences_and_heads_that_show_it_best():
    """The depth card's examples: the gallery sentences whose last layers changed most
    beyond the others, the most-changed heads of the last layers on the set, each opened
    on the gallery sentence where it changed most; the page links them."""
    from attention_gallery.web.pages import findings_page

    gold = [0, 1] * 10
    rng = np.random.default_rng(1)
    m = _measured(gold, gold, gold, n_layers=6)
    change = rng.uniform(0.0, 0.1, size=(20, 6, 4))
    change[:, 5, 2] += 0.5  # the set's most-changed head of the last layers
    change[:, 4, 1] += 0.3
    change[:, 1, 0] += 0.9  # changed more, but not in the last layers
    total = change.mean(axis=2)
    m = {**m, "head_change": change.tolist(), "layer_change": {"total": total.tolist()},
         "layer_split": {"rows": list(range(20)), "direct": (total / 2).tolist(), "inherited": (total / 3).tolist()}}
    g_change = rng.uniform(0.0, 0.1, size=(4, 6, 4))
    g_change[2, 5, 2] = 0.9  # gallery sentence 2 is where head 5-2 changed most
    g_total = g_change.mean(axis=2)
    g_total[3, 4:] += 1.0  # and sentence 3 the one whose last layers changed most
    g = {**_measured([0, 1, 0, 1], [0, 1, 0, 1], [0, 1, 0, 1], n_layers=6), "head_change": g_change.tolist(),
         "layer_change": {"total": g_total.tolist()}}
    found = cards.findings("s", m, "gallery", g, ["negative", "positive"])
    depth = next(c for c in found["cards"] if c["id"] == "depth")
    ex = depth["examples"]
    assert ex["rows"][0] == 3 and len(ex["rows"]) == cards.SHOWN
    assert [(h["layer"], h["head"]) for h in ex["heads"]][:2] == [(5, 2), (4, 1)]
    assert ex["heads"][0]["row"] == 2
    entries = [{"slug": f"s{i}", "title": f"Sentence {i}"} for i in range(4)]
    page = findings_page(found, entries)
    assert '<a href="../s3/">Sentence 3</a>' in page and '<a href="../s2/#head-5-2">layer 5, head 2</a>' in page


def test_the_stages_cache_key_hashes_exactly_the_code_that_measures(tmp_path, monkeypatch, tiny_spec):
    """``stage.MEASURED_BY`` is the stage and what it imports to measure, by the import
    graph (grimp): not the cards (made from the numbers at every build) nor the
    fingerprints' code. Editing a page's wording or a notebook-only module re-measures
    nothing; editing a measuring module re-measures the set."""
    import shutil

    import grimp

    from attention_gallery import config

    graph = grimp.build_graph("attention_gallery")
    name = "attention_gallery.findings.stage"
    direct = graph.find_modules_directly_imported_by(name) - {"attention_gallery.findings.cards",
                                                              "attention_gallery.fingerprint"}
    measured = {name} | direct | {m for d in direct for m in graph.find_upstream_modules(d)}
    packages = {".".join(m.split(".")[:i]) for m in measured for i in range(1, m.count(".") + 1)}

    def module(rel: str) -> str:
        return ("attention_gallery." + rel.removesuffix(".py").replace("/", ".")).removesuffix(".__init__")

    assert {module(rel) for rel in stage.MEASURED_BY} == measured | packages
    assert len(set(stage.MEASURED_BY)) == len(stage.MEASURED_BY)
    # the key follows the files: a copy of the package, edited
    copy_dir = tmp_path / "pkg"
    shutil.copytree(config.PACKAGE_DIR, copy_dir, ignore=shutil.ignore_patterns("__pycache__", "weights", "probes"))
    monkeypatch.setattr(config, "PACKAGE_DIR", copy_dir)
    before = stage._code_key(tiny_spec)
    for rel in ("explain/notice.py", "web/pages.py", "findings/cards.py", "claims.py", "rules.json"):
        (copy_dir / rel).write_bytes((copy_dir / rel).read_bytes() + b"\n")
    assert stage._code_key(tiny_spec) == before
    (copy_dir / "explain/methods.py").write_bytes((copy_dir / "explain/methods.py").read_bytes() + b"\n")
    assert stage._code_key(tiny_spec) != before
