"""Token colours that do not invent contrast (explain/views.py, lib/colour-scale.js).

A token's colour strength is its share of the method's total |score| over the word
tokens, the total being the larger of the rows sharing the scale, full at
``rules.json``'s ``colour.full_share``. The Python side and the live page's
JavaScript give the same numbers: both reproduce ``tests/golden/colour.json``
(this file checks Python; ``tests/js/colour.test.js`` checks the JavaScript under
``node --test``, run here too where node is installed).

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_colour.py   # rewrite the golden file
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from attention_gallery import rules
from attention_gallery.explain import views

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "colour.json"
JS_TEST = ROOT / "tests" / "js" / "colour.test.js"


def _alphas(html: str) -> list[float]:
    return [float(a) for a in re.findall(r"--a:([0-9.]+)", html)]


def _strengths(rows, muted, scale):
    return [[scale.strength(v) for v, m in zip(r, mm) if not m] for r, mm in zip(rows, muted)]


def test_the_constant_is_in_the_rules_file():
    share = rules.section("colour")["full_share"]
    assert 0 < share <= 1 and views.full_share() == share


def test_a_nearly_uniform_row_is_evenly_pale():
    # attention rollout on a 12-word sentence: [CLS] keeps most, the words share the rest evenly
    words = np.array([0.0210, 0.0228, 0.0219, 0.0205, 0.0224, 0.0215, 0.0212, 0.0226, 0.0208, 0.0221, 0.0217, 0.0213])
    row = np.concatenate([[0.74], words, [0.0]])
    muted = np.array([True] + [False] * len(words) + [True])
    scale = views.colour_scale([row], muted)
    strengths = [scale.strength(v) for v in words]
    assert max(strengths) - min(strengths) < 0.02  # nearly equal
    assert max(strengths) < 0.2  # and pale: each word has about 1/12 of the total
    # the old scale (each method to its own largest |score|) painted them all near full
    assert min(views._alpha(v, words.max()) for v in words) > 0.75
    html = views.token_scores(["[CLS]"] + ["w"] * 12 + ["[SEP]"], row, "Attention rollout", muted,
                              vmax=scale.full, signed_scores=False)
    assert max(_alphas(html)) < 0.2


def test_a_peaked_row_has_one_strong_token():
    row = np.array([0.0, 0.05, 2.4, -0.1, 0.08, 0.0])
    muted = np.array([True, False, False, False, False, True])
    scale = views.colour_scale([row], muted)
    strengths = sorted((scale.strength(v) for v in row[~muted]), reverse=True)
    assert strengths[0] == views.MAX_ALPHA  # 92% of the total: past full_share
    assert strengths[1] < 0.1


def test_one_scale_for_both_rows_keeps_a_row_of_tiny_scores_pale():
    muted = np.array([True, False, False, True])
    trained = np.array([0.0, 3.5, 0.5, 0.0])
    untrained = np.array([0.0, 0.02, -0.01, 0.0])  # the untrained head's tiny scores
    scale = views.colour_scale([trained, untrained], muted)
    assert scale.total == 4.0 and scale.full == views.full_share() * 4.0 and scale.largest == 3.5
    assert scale.strength(0.02) < 0.01  # alone, its own scale would make 0.02 strong
    alone = views.colour_scale([untrained], muted)
    assert alone.strength(0.02) > 0.85 * 0.9
    # two sentences of different lengths: one mask each
    two = views.colour_scale([np.array([0, 1.0, 1.0, 0]), np.array([0, 3.0, 0])],
                             [np.array([1, 0, 0, 1], bool), np.array([1, 0, 1], bool)])
    assert two.total == 3.0 and two.largest == 3.0


def test_the_legend_shows_the_range_in_numbers():
    scale = views.Scale(total=2.46, largest=1.9, share=0.5)
    legend = views.attribution_legend(("negative", "positive"), {"Integrated Gradients": (scale, "logit", True)})
    assert "full colour = 50% of the total |score| (±1.23 logit)" in legend
    assert "the largest token has 77% (±1.9 logit)" in legend
    assert "toward positive" in legend and "[CLS] and [SEP]" in legend
    zero = views.scale_item("Raw attention", views.Scale(0.0, 0.0, 0.5), "weight", False)
    assert "no colour" in zero


def _cases() -> list[dict]:
    """Rows the golden file holds: uniform, peaked, signed, tiny, two sentences, all zero."""
    rng = np.random.default_rng(7)
    uniform = np.concatenate([[0.8], 0.02 + rng.random(10) * 0.002, [0.0]])
    peaked = np.array([0.0, 0.03, 1.7, -0.2, 0.11, 0.04, 0.0])
    signed_a = np.array([0.0, -0.61, 0.35, 0.02, -0.004, 0.0])
    signed_b = np.array([0.0, 0.003, -0.002, 0.001, 0.0005, 0.0])
    mask = lambda n: [True] + [False] * (n - 2) + [True]  # noqa: E731
    return [
        {"title": "Attention rollout", "unit": "of [CLS]'s rolled-out attention", "signed": False,
         "rows": [uniform.tolist(), (uniform[::-1] * 0.9).tolist()], "muted": [mask(12), mask(12)]},
        {"title": "Raw attention", "unit": "weight", "signed": False,
         "rows": [peaked.tolist()], "muted": [mask(7)]},
        {"title": "Integrated Gradients", "unit": "logit", "signed": True,
         "rows": [signed_a.tolist(), signed_b.tolist()], "muted": [mask(6), mask(6)]},
        {"title": "Leave-one-out", "unit": "probability", "signed": True,
         "rows": [[0.0, 0.4, -0.1, 0.0], [0.0, 0.2, 0.3, 0.25, 0.0]], "muted": [mask(4), mask(5)]},
        {"title": "Nothing", "unit": "weight", "signed": False, "rows": [[0.0, 0.0, 0.0]], "muted": [mask(3)]},
    ]


def _python(case: dict, share: float) -> dict:
    rows = [np.asarray(r, float) for r in case["rows"]]
    muted = [np.asarray(m, bool) for m in case["muted"]]
    scale = views.colour_scale(rows, muted)
    assert scale.share == share
    return {"total": scale.total, "largest": scale.largest, "full": scale.full,
            "alphas": [[scale.strength(v) for v in r] for r in rows],
            "item": views.scale_item(case["title"], scale, case["unit"], case["signed"])}


def test_python_gives_the_golden_numbers():
    share = views.full_share()
    cases = [{**c, "share": share, "expected": _python(c, share)} for c in _cases()]
    if os.environ.get("UPDATE_GOLDEN"):
        about = ("Token colours: the numbers explain/views.py and docs/assets/javascripts/lib/colour-scale.js "
                 "must both give (tests/test_colour.py, tests/js/colour.test.js). UPDATE_GOLDEN=1 rewrites it.")
        lines = ",\n  ".join(json.dumps(c, ensure_ascii=False) for c in cases)
        GOLDEN.write_text(f'{{"about": {json.dumps(about)},\n "full_share": {share},\n "cases": [\n  {lines}\n ]}}\n',
                          encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["full_share"] == share, "rules.json changed: UPDATE_GOLDEN=1 rewrites the golden file"
    for case in golden["cases"]:
        got = _python(case, share)
        assert got["item"] == case["expected"]["item"]
        for key in ("total", "largest", "full"):
            assert got[key] == pytest.approx(case["expected"][key], rel=1e-12, abs=1e-15)
        assert got["alphas"] == case["expected"]["alphas"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_live_page_gives_the_golden_numbers():
    done = subprocess.run(["node", "--test", str(JS_TEST)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_live_page_reads_the_same_constant():
    from attention_gallery.live import page

    assert '"colour": {"full_share": views.full_share()}' in Path(page.__file__).read_text(encoding="utf-8")
    source = (ROOT / "docs" / "assets" / "javascripts" / "live.js").read_text(encoding="utf-8")
    # the live page's entry imports the one colour scale (lib/colour-scale.js, held to colour.json)
    assert 'from "./lib/colour-scale.js"' in source
    assert "C.colour.full_share" in source and "scale(MODELS" in source
    assert "deletion test of both models" not in source  # its table tests the fine-tuned model only
