"""Every sentence the site writes is one its numbers support.

Unit tests of each rule's boundaries (attention_gallery/claims.py), one golden
file for the Python and the JavaScript faithfulness rule, and an end-to-end test
that wording cannot satisfy: the default set and 40 SST-2 dev sentences nobody
wrote for the gallery are built, and for every page each claim's rule is
re-derived from the record's numbers by code written here, independently of the
claim code, then compared with what the page shows (``data-outcome`` and words).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml

from attention_gallery import claims, rules

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads((ROOT / "tests" / "golden" / "claims.json").read_text("utf-8"))
JS_TEST = ROOT / "tests" / "js" / "claims.test.js"
RULES = rules.section("claims")
DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "sst2" / "dev.tsv"
SAMPLE_SEED, SAMPLE_N = 20261203, 40


# --- the rules' boundaries ----------------------------------------------------------

@pytest.mark.parametrize("case", GOLDEN["cases"], ids=[c["title"] for c in GOLDEN["cases"]])
def test_the_faithfulness_rule_decides_the_golden_cases(case):
    got = claims.faithfulness_outcome(case["method"], case["random"], case["se"], case["p0"])
    assert (got["outcome"], got["scale"]) == (case["outcome"], case["scale"])


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_live_pages_rule_decides_the_same_golden_cases():
    done = subprocess.run(["node", "--test", str(JS_TEST)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"# pass {len(GOLDEN['cases'])}" in done.stdout


def test_every_outcome_has_its_own_wording():
    texts = {}
    for case in GOLDEN["cases"]:
        c = claims.faithfulness_claim("IG", case["method"], case["random"], case["se"], case["p0"],
                                      "positive", "negative", ["“not”"])
        texts.setdefault(c.outcome, c.text)
    words = {"faithful": "is faithful here", "partly-comprehensive": "partly faithful",
             "partly-sufficient": "partly faithful", "not-faithful": "is not faithful",
             "uninformative": "cannot tell"}
    for outcome, text in texts.items():
        assert words[outcome] in text, (outcome, text)
    assert "read as negative" in texts["partly-comprehensive"]  # kept alone, the top tokens flip the class


def test_depth_is_said_to_grow_only_when_every_layer_grows():
    assert claims.depth_claim([0.1, 0.2, 0.3]).outcome == "grows"
    broken = claims.depth_claim([0.1, 0.26, 0.256, 0.4])
    assert broken.outcome == "not-monotone" and "grows with depth" not in broken.text
    assert "layer 2 (0.256) is not above layer 1 (0.260)" in broken.text
    assert claims.depth_claim([0.1, 0.1]).outcome == "not-monotone"  # equal is not growth


def test_a_head_story_needs_a_change_of_at_least_the_threshold():
    floor = RULES["head"]["min_change"]
    largest = ("“a”", "“b”", 0.3, 0.2)
    assert claims.head_story(0.5, 0.5 + floor, 0.0, "x", 0, 0, largest)[0] == "to-cls-fell"
    assert claims.head_story(0.5, 0.5 + floor - 0.001, 0.0, "x", 0, 0, largest)[0] == "largest-change"
    assert claims.head_story(0.5, 0.5, floor, "“x”", 0.3, 0.25, largest)[0] == "cls-row-gained"
    assert claims.head_story(0.6, 0.5, 0.2, "“x”", 0.3, 0.1, largest)[0] == "cls-row-gained"  # the larger story
    assert claims.head_story(0.8, 0.5, 0.2, "“x”", 0.3, 0.1, largest)[0] == "to-cls-rose"


def test_norms_are_said_to_differ_from_weights_only_by_the_rule():
    special = [True, False, False, True]
    floor = RULES["norms"]["min_difference"]
    # weights: half on [CLS] and [SEP]; norms: a tenth
    c = claims.norms_claim([0.25, 0.25, 0.25, 0.25], [0.05, 0.45, 0.45, 0.05], special)
    assert (c.outcome, c.numbers) == ("less-on-specials", {"weights": 0.5, "norms": 0.1})
    assert "50%" in c.text and "10%" in c.text and c.rule == "norms"
    assert claims.norms_claim([1, 1, 1, 1], [3, 1, 1, 3], special).outcome == "more-on-specials"
    # a difference under the rule's floor is no story
    just_under = 0.5 - floor + 0.01
    c = claims.norms_claim([0.25] * 4, [just_under / 2, (1 - just_under) / 2, (1 - just_under) / 2, just_under / 2], special)
    assert c.outcome == "agree" and "same story" in c.text
    assert claims.special_share([0, 0, 0, 0], special) == 0.0  # nothing to share: no division by zero


def test_a_group_statement_counts_its_sentences():
    c = claims.group_sink_claim(3, 9, [0.89, 0.96, 0.87], [0.24, 0.16, 0.26])
    assert c.outcome == "fell-all" and "In all 3 of these sentences" in c.text and "87–96% to 16–26%" in c.text
    some = claims.group_sink_claim(3, 9, [0.89, 0.5], [0.24, 0.48])
    assert some.outcome == "fell-some" and "1 of 2" in some.text
    assert claims.group_sink_claim(3, 9, [0.5], [0.48]).outcome == "unchanged"


def test_a_set_difference_is_a_finding_only_when_its_interval_excludes_zero():
    rows = [{"outcome": "faithful", "scale": "probability", "gap_comprehensiveness": g, "gap_sufficiency": -g}
            for g in (0.1, 0.12, 0.09, 0.11)]
    s = claims.verdict_summary(rows)
    assert s["gap_comprehensiveness"]["low"] > 0 and s["gap_sufficiency"]["high"] < 0
    text = claims.set_verdict_claim("IG", s, "a set").text
    assert "beats random tokens" in text and "does worse than random" in text
    noisy = claims.verdict_summary([{**r, "gap_comprehensiveness": g} for r, g in zip(rows, (0.3, -0.3, 0.2, -0.1))])
    assert "cannot be told from random" in claims.set_verdict_claim("IG", noisy, "a set").text
    lo, hi = claims.wilson(4, 5)
    assert 0.3 < lo < 0.4 and 0.95 < hi < 0.97  # the Wilson interval of 4/5


def test_evenness_is_length_adjusted():
    assert claims.evenness([1, 1, 1, 1]) == pytest.approx(1.0)
    assert claims.evenness([1] * 30) == pytest.approx(1.0)
    assert claims.evenness([1, 0, 0, 0]) == pytest.approx(0.0)


def test_every_citation_resolves_to_a_reference():
    from attention_gallery.web import references

    entries = references.entries()
    for path in [*ROOT.glob("docs/*.md"), *ROOT.glob("attention_gallery/web/*.py"), *ROOT.glob("attention_gallery/build/*.py")]:
        for key in re.findall(r"\{\{\s*cite:([a-z0-9-]+)\s*\}\}|cite\(\"([a-z0-9-]+)\"", path.read_text("utf-8")):
            key = next(k for k in key if k)
            assert key in entries, f"{path.name} cites {key!r}, which references.json lacks"
    with pytest.raises(KeyError):
        references.citation("nobody-1999")


# --- the end-to-end test: claims re-derived from the records ------------------------

def dev_sample(path: Path, n: int, seed: int) -> list[dict]:
    """A seeded sample of SST-2 dev, stratified by label and by length (quartiles)."""
    rows = [line.split("\t") for line in path.read_text("utf-8").splitlines()[1:] if line.strip()]
    rows = [(int(label), text.strip()) for label, text in rows]
    lengths = np.array([len(t.split()) for _, t in rows])
    edges = np.quantile(lengths, [0.25, 0.5, 0.75])
    strata: dict[tuple[int, int], list[int]] = {}
    for i, (label, text) in enumerate(rows):
        strata.setdefault((label, int(np.searchsorted(edges, lengths[i], side="right"))), []).append(i)
    rng = np.random.default_rng(seed)
    per = n // len(strata)
    picked = sorted(int(j) for key in sorted(strata) for j in rng.choice(strata[key], per, replace=False))
    return [{"slug": f"sst2-dev-{i}", "text": rows[i][1], "label": ("negative", "positive")[rows[i][0]],
             "group": "sampled from sst dev"} for i in picked]


def outcome_of(d: dict, r: dict, se: dict, p0: float) -> str:
    """The faithfulness rule, written again from its statement in rules.json."""
    f = RULES["faithfulness"]
    moved = max(abs(p0 - p) for x in (d, r) for p in (*x["removed_p"], *x["kept_p"]))
    log = moved < f["min_move_p"]
    sfx, margin = ("_logodds", f["logodds_margin"]) if log else ("", f["exact_margin"])
    gc = round(d["comprehensiveness" + sfx] - r["comprehensiveness" + sfx], 4)
    gs = round(r["sufficiency" + sfx] - d["sufficiency" + sfx], 4)

    def beats(gap, err):
        return gap > f["se_multiplier"] * err if err > 0 else gap >= margin

    bc, bs = beats(gc, se.get("comprehensiveness" + sfx, 0)), beats(gs, se.get("sufficiency" + sfx, 0))
    if log and abs(gc) < margin and abs(gs) < margin:
        return "uninformative"
    return {(True, True): "faithful", (True, False): "partly-comprehensive",
            (False, True): "partly-sufficient", (False, False): "not-faithful"}[(bc, bs)]


WORDS = {"faithful": "is faithful here", "partly-comprehensive": "partly faithful",
         "partly-sufficient": "partly faithful", "not-faithful": "is not faithful", "uninformative": "cannot tell"}
class _Claims(HTMLParser):
    """Every element with ``data-claim``: its attributes (in any order: the page's
    HTML may be re-serialised) and its visible text, nested markup included."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "area", "col"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self.open = [], []  # open: [depth, record] of claims being read
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.depth += 1
        a = dict(attrs)
        if "data-claim" in a:
            c = {"kind": a["data-claim"], "rule": a.get("data-rule"), "outcome": a.get("data-outcome"),
                 "text": "", "attrs": a}
            self.found.append(c)
            self.open.append([self.depth, c])

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.open and self.open[-1][0] >= self.depth:
            self.open.pop()
        self.depth -= 1

    def handle_data(self, data):
        for _, c in self.open:
            c["text"] += data


def shown(html: str) -> list[dict]:
    """The claims on a page: kind, rule, outcome and the visible text."""
    parser = _Claims()
    parser.feed(html)
    return parser.found


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def head_outcome(rec, layer: int, head: int) -> str:
    t, u = rec.sink.to_cls_trained[layer][head], rec.sink.to_cls_untrained[layer][head]
    gain, floor = rec.sink.cls_gain[layer][head], RULES["head"]["min_change"]
    if abs(t - u) >= floor and abs(t - u) >= gain:
        return "to-cls-fell" if t < u else "to-cls-rose"
    return "cls-row-gained" if gain >= floor else "largest-change"


@pytest.fixture(scope="module")
def claim_site(tmp_path_factory):
    if not DEV.is_file():
        pytest.skip(f"SST-2 dev is not at {DEV} (../shared/data/sst2/dev.tsv beside the checkout)")
    from attention_gallery import config
    from attention_gallery.build import notebook
    from attention_gallery.build.build import build
    from attention_gallery.build.cache import NotebookCache
    from attention_gallery.build.sentences import load_sentences
    from attention_gallery.explain.methods import REGISTRY
    from attention_gallery.pairs import get_pair
    from attention_gallery.records import read_record

    default = yaml.safe_load((ROOT / "sentences" / "gallery.yaml").read_text("utf-8"))["sentences"]
    entries = default + dev_sample(DEV, SAMPLE_N, SAMPLE_SEED)
    root = tmp_path_factory.mktemp("claims")
    path = root / "sentences.yaml"
    path.write_text(yaml.safe_dump({"sentences": entries}, allow_unicode=True, sort_keys=False), "utf-8")
    # the cache's key taken as the build takes it, before it starts (a file of the package
    # edited during the build changes the key of the next one, not of this one)
    cache = NotebookCache(config.CACHE_DIR, get_pair("minilm-sst2"), notebook.read_template(config.TEMPLATE))
    report = build(path, "minilm-sst2", root / "site", config.CACHE_DIR, quiet=True, progress=False)
    records = {s.slug: read_record(cache.get(notebook.parameters(s, "minilm-sst2")), s.slug, REGISTRY)
               for s in load_sentences(path)}
    return Path(report.site_dir), records


@pytest.mark.slow
def test_the_sample_is_seeded_and_stratified():
    if not DEV.is_file():
        pytest.skip(f"SST-2 dev is not at {DEV}")
    a, b = dev_sample(DEV, SAMPLE_N, SAMPLE_SEED), dev_sample(DEV, SAMPLE_N, SAMPLE_SEED)
    assert a == b and len(a) == SAMPLE_N
    assert sum(e["label"] == "positive" for e in a) == SAMPLE_N // 2


@pytest.mark.slow
def test_every_sentence_pages_claims_are_what_its_numbers_allow(claim_site):
    site, records = claim_site
    checked = {"tokens": 0, "verdicts": 0, "head": 0}
    for slug, rec in records.items():
        html = (site / "gallery" / slug / "index.html").read_text("utf-8")
        found = shown(html)
        table = {m: d.model_dump() for m, d in rec.faithfulness.trained.items()}
        se = rec.faithfulness.random_baseline["trained"].se
        p0 = rec.trained.confidence
        by_kind = {}
        for c in found:
            by_kind.setdefault(c["kind"], []).append(c)
        # what to notice: the prediction, the top head, IG's verdict, the untrained head
        (verdict,) = by_kind["verdict"]
        assert verdict["outcome"] == ("right" if rec.trained.correct else "wrong")
        assert (": right, the sentence is" in verdict["text"]) == rec.trained.correct
        (head,) = by_kind["head"]
        layer, h, _ = rec.top_heads[0]
        assert head["outcome"] == head_outcome(rec, layer, h), (slug, head)
        t, u = rec.sink.to_cls_trained[layer][h], rec.sink.to_cls_untrained[layer][h]
        if head["outcome"].startswith("to-cls"):
            verb = "fell" if head["outcome"].endswith("fell") else "rose"
            assert f"{verb} from {pct(u)} to {pct(t)}" in head["text"], (slug, head["text"])
        checked["head"] += 1
        (tokens,) = by_kind["tokens"]
        expect = outcome_of(table["ig"], table["random"], se, p0)
        assert tokens["outcome"] == expect and WORDS[expect] in tokens["text"], (slug, expect, tokens["text"])
        if expect == "partly-comprehensive" and table["ig"]["kept_p"][-1] < 0.5:
            assert "on their own read as" in tokens["text"]
        checked["tokens"] += 1
        # weights and norms on the last layer's [CLS] row, from the two methods' recorded scores
        (norms,) = by_kind["norms"]
        again = claims.norms_claim(rec.scores["attention"].scores, rec.scores["norms"].scores, rec.special)
        assert (norms["outcome"], norms["text"]) == (again.outcome, again.text), slug
        checked["norms"] = checked.get("norms", 0) + 1
        margin = abs(rec.untrained.logits[0] - rec.untrained.logits[-1])
        (untrained,) = by_kind["untrained"]
        assert untrained["outcome"] == ("chance" if margin < RULES["untrained"]["max_margin"] else "leaning")
        # the deletion table's verdict column and the verdicts listed under it: every method
        faith = by_kind["faithfulness"]  # each method twice: its table cell and its sentence below
        outcomes = sorted(c["outcome"] for c in faith)
        expected = sorted([outcome_of(table[m], table["random"], se, p0) for m in rec.methods] * 2)
        assert outcomes == expected, (slug, outcomes, expected)
        for c in faith:
            if c["text"].strip() not in [claims.VERDICT_LABELS[o] for o in claims.FAITH["outcomes"]]:
                assert WORDS[c["outcome"]] in c["text"], (slug, c)
        checked["verdicts"] += len(faith)
    assert checked["tokens"] == checked["norms"] == len(records) >= 70


@pytest.mark.slow
def test_set_pages_and_the_home_page_say_what_the_records_show(claim_site):
    site, records = claim_site
    rs = list(records.values())
    metrics = json.loads((site / "metrics.json").read_text("utf-8"))
    n = len(rs)
    # the home page: accuracy, the [CLS] sink, depth
    home = {c["kind"]: c for c in shown((site / "index.html").read_text("utf-8"))}
    right = sum(r.trained.correct for r in rs)
    assert f"right on {right} of {n}" in home["accuracy"]["text"]
    floor = RULES["head"]["min_change"]
    fell = sum(r.sink.to_cls_trained[l][h] <= r.sink.to_cls_untrained[l][h] - floor
               for r in rs for l, h, _ in [r.top_heads[0]])
    assert f"{fell} of {n}" in home["sink"]["text"] or (fell == n and f"all {n}" in home["sink"]["text"])
    total = metrics["layer_change"]["total"]
    grows = all(b > a for a, b in zip(total, total[1:]))
    assert home["depth"]["outcome"] == ("grows" if grows else "not-monotone")
    assert ("grows with depth" in home["depth"]["text"]) == grows
    # the heads page says the same about depth
    heads = {c["kind"]: c for c in shown((site / "gallery" / "heads" / "index.html").read_text("utf-8"))}
    assert heads["depth"]["outcome"] == home["depth"]["outcome"]
    # and says "mostly inherited" only where the interval of inherited less direct change lies above 0
    # (the bootstrap recomputed here with its own generator: 2000 resamples of the sentences, seed 0)
    last = len(rs[0].layer_change.total) - 1
    d = np.array([r.layer_change.inherited[last] - r.layer_change.direct[last] for r in rs])
    idx = np.random.default_rng(RULES["findings"]["seed"]).integers(0, n, size=(RULES["findings"]["resamples"], n))
    lo, hi = np.quantile(d[idx].mean(axis=1), [0.025, 0.975])
    expected = "inherited" if lo > 1e-9 else "direct" if hi < -1e-9 else "neither"
    assert heads["inherited"]["outcome"] == home["inherited"]["outcome"] == expected, (lo, hi)
    assert ("inherited from the layers beneath" in heads["inherited"]["text"]) == (expected == "inherited")
    # the faithfulness page: each method's share of verdicts, recomputed from the records
    page = (site / "gallery" / "faithfulness" / "index.html").read_text("utf-8")
    for m in rs[0].methods:
        outcomes = [outcome_of({k: v for k, v in r.faithfulness.trained[m].model_dump().items()},
                               r.faithfulness.trained["random"].model_dump(),
                               r.faithfulness.random_baseline["trained"].se, r.trained.confidence) for r in rs]
        for o in RULES["faithfulness"]["outcomes"]:
            share = outcomes.count(o) / n
            assert metrics["verdicts"][m]["pooled"]["shares"][o] == pytest.approx(share, abs=1e-4)
        gaps = [r.faithfulness.trained[m].comprehensiveness - r.faithfulness.trained["random"].comprehensiveness
                for r in rs]
        mean = float(np.mean(gaps))
        half = 1.96 * float(np.std(gaps, ddof=1)) / math.sqrt(n)  # the t interval is a little wider
        g = metrics["verdicts"][m]["pooled"]["gap_comprehensiveness"]
        assert g["mean"] == pytest.approx(mean, abs=2e-4) and g["low"] <= mean - half + 1e-3
        said = [c for c in shown(page) if c["kind"] == "set-faithfulness"]
        assert said
    for c in shown(page):
        if c["kind"] != "set-faithfulness":
            continue
        for side in ("removing its top tokens", "keeping only them"):
            part = c["text"].split(side, 1)[1][:40]
            assert any(w in part for w in ("beats random", "does worse", "cannot be told")), c["text"]


@pytest.mark.slow
def test_every_lesson_step_is_computed_over_its_own_sentences(claim_site):
    site, records = claim_site
    html = (site / "gallery" / "lesson" / "index.html").read_text("utf-8")
    sections = re.split(r"<h2 ", html)[1:]
    checked = 0
    for section in sections:
        facts = re.search(r'<p class="gallery-step-facts">(.*?)</p>', section, re.DOTALL)  # the step's sentences
        slugs = list(dict.fromkeys(re.findall(r'href="\.\./([a-z0-9-]+)/"', facts.group(1) if facts else "")))
        rs = [records[s] for s in slugs if s in records]
        for c in shown(section):
            if c["kind"] != "lesson-sink":
                continue
            m = re.search(r"layer (\d+), head (\d+)", c["text"])
            layer, head = int(m.group(1)), int(m.group(2))
            before = [r.sink.to_cls_untrained[layer][head] for r in rs]
            after = [r.sink.to_cls_trained[layer][head] for r in rs]
            floor = RULES["head"]["min_change"]
            fell = sum(a <= b - floor for b, a in zip(before, after))
            rose = sum(a >= b + floor for b, a in zip(before, after))
            if fell and fell >= rose:
                assert c["outcome"] == ("fell-all" if fell == len(rs) else "fell-some"), (slugs, c)
                assert " fell" in c["text"] and "rose" not in c["text"]
            elif rose:
                assert c["outcome"].startswith("rose")
            else:
                assert c["outcome"] == "unchanged"
            checked += 1
    assert checked >= 5
    # no step makes the claim the readers found false: "sends [CLS]'s attention to the negation word"
    assert "often sends [CLS]" not in html


CITATION = re.compile(r"[A-Z][a-z]+(?: et al\.| & [A-Z][a-z]+),? \(?(?:19|20)\d{2}")


@pytest.mark.slow
def test_every_citation_on_the_site_links_to_its_reference(claim_site):
    from attention_gallery.web import references

    site, _ = claim_site
    entries = references.entries()
    refs = (site / "references" / "index.html").read_text("utf-8")
    assert all(f'id="ref-{key}"' in refs for key in entries)
    cited = 0
    for page in site.rglob("*.html"):
        html = page.read_text("utf-8")
        body = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.DOTALL)
        linked = re.findall(r'<a class="gallery-cite" data-ref="([a-z0-9-]+)" href="([^"]+)">([^<]+)</a>', body)
        for key, href, text in linked:
            assert key in entries and unescape(text) == entries[key]["cite"]
            target = (page.parent / href.split("#")[0]).resolve()
            assert target == (site / "references").resolve(), (page, href)
            cited += 1
        bare = re.sub(r'<a class="gallery-cite"[^>]*>[^<]+</a>', "", body)
        text = unescape(re.sub(r"<[^>]+>", " ", bare))
        if page.parent.name != "references":
            assert not CITATION.findall(text), (page.relative_to(site), CITATION.findall(text)[:3])
    assert cited >= 5
