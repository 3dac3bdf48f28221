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
    # the top head of 3 sentences: the count opens the overview filtered to them
    assert '<td><a href="../?head=5-4&amp;sort=change">3</a></td>' in row
    assert 'href="../not-really-good/#head-5-4"' in row
    # every head has a row, with at most 5 sentences, largest change first; the map's cells lead there
    ids = re.findall(r'<tr id="head-(\d+)-(\d+)">', heads)
    assert len(ids) == len(recs[0].head_change) * len(recs[0].head_change[0]) and len(set(ids)) == len(ids)
    values = [float(v) for v in re.findall(r"</a> \((\d\.\d+)\)", row)]
    assert 0 < len(values) <= teaching.HEAD_EXAMPLES and values == sorted(values, reverse=True)
    assert 'href="#head-5-4"' in heads.split('<tr id="head-')[0]
    never = re.search(r'<tr id="head-0-0">(.*?)</tr>', heads).group(1)
    assert "<td>0</td>" in never or "?head=0-0" in never


def test_rank_reads_scores_toward_the_explained_class():
    import numpy as np

    words = [1, 2, 3, 4]  # [CLS] it was not good [SEP]
    scores = np.array([0.0, 0.1, -0.2, 4.8, 0.3, 0.0])  # IG explains its target: highest first
    assert teaching._rank(scores, words, 3) == 1 and teaching._rank(scores, words, 2) == 4


def _findings(verdicts):
    """Findings as the manifest holds them: a heads card and an entropy card."""
    cards = [{"id": "heads", "claim": "Few heads matter: most can be masked alone without a loss.",
              "verdict": verdicts[0], "value": 0.05, "ci95": None, "runs_sd": 0.01, "unit": "share of heads that matter",
              "top_heads": [{"layer": 4, "head": 7, "accuracy_drop": 0.021, "ci95": [0.01, 0.033],
                             "logodds_drop": 0.4, "change": 0.12}],
              "spearman": {"rho": 0.31, "ci95": [0.1, 0.5]}},
             {"id": "entropy", "claim": "Fine-tuning makes attention sharper.", "verdict": verdicts[1], "value": -0.01,
              "ci95": [-0.02, -0.005], "runs_sd": 0.002, "unit": "nats",
              "layers": {"trained - untrained": [{"layer": 0, "mean": -0.05, "ci95": [-0.06, -0.04]},
                                                 {"layer": 1, "mean": 0.01, "ci95": [-0.01, 0.02]}]}}]
    return {"set": {"name": "SST-2 dev", "n": 872}, "cards": cards}


def test_the_lesson_makes_students_predict_then_shows_the_answer_and_ends_with_exercises_and_a_summary():
    from html.parser import HTMLParser

    recs, entries = _records()
    entries = [{**e, "group": "plain"} if e["slug"] == "loose" else e for e in entries]
    lesson = teaching.lesson_page(recs, entries, [], site_manifest(recs, entries).catalog,
                                  _findings(["holds", "partly"]))
    steps = re.findall(r"^## \d+\. (.+)$", lesson, re.MULTILINE)
    assert steps[0] == "Plain"  # the plain case first

    class Questions(HTMLParser):
        def __init__(self):
            super().__init__()
            self.blocks = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if "gallery-predict" in (a.get("class") or "").split():
                self.blocks.append({"answer": a["data-answer"], "choices": [], "details": False})
            elif tag == "input" and a.get("type") == "radio" and self.blocks:
                self.blocks[-1]["choices"].append(a["value"])
            elif tag == "details" and self.blocks and not self.blocks[-1]["details"]:
                self.blocks[-1]["details"] = "open" not in a  # the answer starts closed

    q = Questions()
    q.feed(lesson)
    assert len(q.blocks) == len(steps) - 1  # a question per step (the failures' step has none)
    for b in q.blocks:
        assert b["answer"] in b["choices"] and len(b["choices"]) >= 2 and b["details"], b
    # the plain step asks for the class; its answer is the record's
    loose = next(r for r in recs if r.slug == "loose")
    assert q.blocks[0]["answer"] == loose.trained.predicted and q.blocks[0]["choices"] == loose.labels
    # the second asks which token IG scores highest: the record's top word
    first = next(r for r in recs if r.slug == "not-really-good")
    scores = first.scores["ig"].scores
    assert q.blocks[1]["answer"] == str(max(first.words, key=lambda i: (scores[i], -i)))
    # exercises, each with its answer read off the findings and the records
    exercises = re.findall(r'<li class="gallery-exercise">.*?</li>', lesson, re.DOTALL)
    assert len(exercises) >= 4
    assert "layer 4, head 7 alone lowers accuracy most: 2.1 points (95% interval 1.0 to 3.3)" in lesson
    assert "sharper (lower entropy) in layer 0, broader in no layer" in lesson
    assert "not a good film" in exercises[0]  # the record the model gets wrong
    # the summary sorts the cards by their verdicts
    summary = lesson.split("## What we learned")[1]
    held, rest = summary.split("What stays uncertain")
    assert "Few heads matter" in held and "sharper" in rest and "partly holds here" in rest
    # no findings: the summary says so instead
    bare = teaching.lesson_page(recs, entries, [], site_manifest(recs, entries).catalog, None)
    assert "No findings were measured for this build" in bare
    # every step has its picture: a head step's inside its answer (it would give the answer away),
    # the others' outside, on the head the step's claim is about
    bodies = re.split(r"^## \d+\. .+$", lesson, flags=re.MULTILINE)[1:len(steps)]
    for n, body in enumerate(bodies, 1):
        pictures = re.findall(r'<div class="gallery-lesson-views" data-slug="([^"]+)" data-layer="(\d+)" '
                              r'data-head="(\d+)"></div>', body)
        assert len(pictures) == 1, (n, body)
        answer = body.split("<details", 1)[1].split("</details>", 1)[0]
        hidden = "gallery-lesson-views" in answer
        assert hidden == (n % 3 == 0), n  # class, token, head, in turn
    head_step = bodies[2]
    slug, layer, head = re.search(r'data-slug="([^"]+)" data-layer="(\d+)" data-head="(\d+)"', head_step).groups()
    shown = next(r for r in recs if r.slug == slug)
    assert [int(layer), int(head)] == list(shown.top_heads[0][:2])
    assert re.search(r'data-answer="(\d+-\d+)"', head_step).group(1) == f"{layer}-{head}"


def test_what_differs_names_a_shared_word_only_where_its_place_moves_by_three():
    """A contrast page's token sentences: the word only one sentence has, with its place
    among that sentence's words by IG's weight and its direction; a shared word only
    where its place moves by RANK_MOVE or more (so "the" and "," stay unnamed)."""
    def rec(slug, words, ig):
        tokens = ["[CLS]", *words, "[SEP]"]
        scores = [0.0, *ig, 0.0]
        return record.parse(record_data(slug=slug, title=slug, text=" ".join(words), tokens=tokens,
                                        n_tokens=len(tokens),
                                        scores={m: {"target": 1, "scores": scores} for m in REGISTRY}), list(REGISTRY))
    a = rec("good", ["the", "film", ",", "is", "good", "fun"], [0.01, 0.02, 0.0, 0.03, 0.9, 0.5])
    b = rec("not-good", ["the", "film", ",", "is", "not", "good", "fun"], [0.01, 0.02, 0.0, 0.6, -0.8, 0.05, 0.4])
    said = [c.text for c in teaching.ig_moves(a, b)]
    assert said[0] == "“not”, only in the second sentence, is the 1st of its 7 words by Integrated Gradients' weight: " \
                      "pushes toward negative."
    # "good": 1st of 6, then 4th of 7 (moves 3, the rule's boundary); "is" and "fun" move 1: only "good" is named
    assert any(t.startswith("“good” is the 1st of 6 words") and "the 4th of 7 in the second" in t for t in said)
    assert not any("“is”" in t or "“the”" in t or "“,”" in t for t in said)
    assert len(said) == 2


def test_a_sentence_page_says_its_sentence_and_both_verdicts_at_a_glance():
    recs, _ = _records()
    wrong = next(r for r in recs if not r.trained.correct)
    glance = teaching.at_a_glance(wrong)
    assert "“not a good film”" in glance and "✗ wrong" in glance and "gold <strong" in glance
    from attention_gallery import claims
    margin = abs(wrong.untrained.logits[0] - wrong.untrained.logits[-1])  # the untrained head, by the chance rule
    assert ("≈ chance (margin" in glance) == (margin < claims.RULES["untrained"]["max_margin"])
    assert ("never trained" in glance) == (margin >= claims.RULES["untrained"]["max_margin"])
    layer, head, _ = wrong.top_heads[0]
    assert f'href="#head-{layer}-{head}"' in glance and 'href="#what-to-notice"' in glance
