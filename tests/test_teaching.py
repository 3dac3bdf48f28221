"""The pages that teach across sentences: grouped overview, contrast pages, lesson."""

from __future__ import annotations

import re

from conftest import record_data, site_manifest

from attention_gallery import record
from attention_gallery.explain.methods import REGISTRY
from attention_gallery.pairs import get_pair
from attention_gallery.web import pages, teaching


def _records():
    rows = [("not-really-good", "the originals", "not-bad-at-all", "negative", True, [5, 4]),
            ("not-bad-at-all", "the originals", "", "positive", True, [5, 5]),
            ("a-good-film", "minimal pairs", "not-a-good-film", "positive", True, [5, 4]),
            ("not-a-good-film", "minimal pairs", "", "negative", False, [5, 4]),
            ("loose", "", "", "positive", True, [1, 1])]
    recs, entries = [], []
    for slug, group, contrast, label, right, (l, h) in rows:
        tokens = ["[CLS]", *slug.split("-"), "[SEP]"]
        n = len(tokens)
        outcome = {"predicted": label if right else ("negative" if label == "positive" else "positive"),
                   "confidence": 0.9, "p_positive": 0.9 if (label == "positive") == right else 0.1,
                   "probs": [0.1, 0.9], "logits": [-1.1, 1.1], "correct": right}
        data = record_data(slug=slug, title=slug.replace("-", " "), text=" ".join(slug.split("-")), label=label,
                           tokens=tokens, n_tokens=n, trained=outcome,
                           top_heads=[[l, h, 0.5], [0, 0, 0.1], [0, 1, 0.05]],
                           head_change=[[0.1] * 12 for _ in range(6)],
                           sink={"to_cls_trained": [[0.2] * 12] * 6, "to_cls_untrained": [[0.8] * 12] * 6,
                                 "cls_gain": [[0.0] * 12] * 6, "cls_gain_token": [[1] * 12] * 6},
                           layer_change={"total": [0.1] * 6, "direct": [0.1] * 6, "inherited": [0.0] * 6},
                           scores={m: {"target": 1, "scores": [0.0] + [0.1 * i for i in range(1, n - 1)] + [0.0]}
                                   for m in REGISTRY},
                           notice=[{"kind": "head", "text": f"Fine-tuning changed layer {l}, head {h} most.",
                                    "head": [l, h], "rule": "head", "outcome": "largest-change", "numbers": {}}])
        recs.append(record.parse(data, list(REGISTRY)))
        entries.append({"slug": slug, "title": slug.replace("-", " "), "group": group, "contrast": contrast})
    return recs, entries


def test_overview_is_grouped_in_order_with_notes_and_an_only_wrong_switch():
    recs, entries = _records()
    page = pages.index_page(get_pair("minilm-sst2"), recs, entries)
    sections = re.findall(r'<section class="gallery-group" id="([^"]+)"', page)
    assert sections == ["group-the-originals", "group-minimal-pairs", "group-other"]
    assert 'id="gallery-only-wrong"' in page and "Show only the 1 sentence the fine-tuned model gets wrong" in page
    assert page.count('class="gallery-row-wrong"') == 1 and page.count('class="gallery-row-right"') == 4


def test_contrast_pages_each_pair_once_under_a_path_no_slug_can_take():
    recs, entries = _records()
    out = pages.generate(site_manifest(recs, entries), recs)
    contrast = sorted(k for k in out if k.startswith("contrast/"))
    assert contrast == ["contrast/a-good-film--not-a-good-film", "contrast/not-really-good--not-bad-at-all"]
    page = out["contrast/a-good-film--not-a-good-film"]
    assert "The second sentence adds “not”." in page  # read off the tokens
    assert "verdict stays positive" in page and "It is wrong on the second sentence (gold: negative)." in page
    assert 'href="../../a-good-film/#head-5-4"' in page and 'href="../../not-a-good-film/"' in page
    links = teaching.sentence_links("not-a-good-film", entries, site_manifest(recs, entries).contrasts,
                                    {r.slug: r.title for r in recs})
    assert 'href="../contrast/a-good-film--not-a-good-film/"' in links and 'href="../#group-minimal-pairs"' in links


def test_lesson_walks_the_groups_in_teaching_order_and_ends_with_the_failures():
    recs, entries = _records()
    lesson = pages.generate(site_manifest(recs, entries), recs)["lesson"]
    steps = re.findall(r"^## \d+\. (.+)$", lesson, re.MULTILINE)
    assert steps == ["The originals", "Minimal pairs", "Where the fine-tuned model fails"]
    # the lesson is gallery/lesson/: its links lead up one folder
    assert 'href="../not-a-good-film/"' in lesson and 'href="../contrast/a-good-film--not-a-good-film/"' in lesson
    assert 'href="not-a-good-film/' not in lesson
    assert "Layer 5, head 4 is the most changed head in 2 of them" in lesson


def test_heads_page_links_each_head_to_its_sentences():
    recs, entries = _records()
    heads = pages.generate(site_manifest(recs, entries), recs)["heads"]
    row = re.search(r'<tr id="head-5-4">(.*?)</tr>', heads).group(1)
    assert "<td>3</td>" in row and 'href="../not-really-good/#head-5-4"' in row


def test_rank_reads_scores_toward_the_explained_class():
    import numpy as np

    words = [1, 2, 3, 4]  # [CLS] it was not good [SEP]
    scores = np.array([0.0, 0.1, -0.2, 4.8, 0.3, 0.0])  # IG explains its target: highest first
    assert teaching._rank(scores, words, 3) == 1 and teaching._rank(scores, words, 2) == 4
