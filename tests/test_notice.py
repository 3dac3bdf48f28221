""""What to notice": each statement is a reading of a number the page shows."""

from __future__ import annotations

import re

import numpy as np
import pytest

from attention_gallery.explain import notice, page


@pytest.fixture(scope="module")
def original(default_pair):
    return page.explain("This movie was not really good, I did not enjoy it at all", "negative",
                        slug="not-really-good", mode="gallery")


def test_the_head_named_is_the_most_changed_and_links_to_it(original):
    points = {p.kind: p for p in original.notice}
    layer, head, change = original.top_heads[0]
    assert points["head"].head == (layer, head)
    assert (layer, head) == np.unravel_index(np.argmax(original.head_change), original.head_change.shape)
    assert f"layer {layer}, head {head} most (change {change:.3f}" in points["head"].text
    html = notice.notice_html(original.notice)
    assert f'href="#head-{layer}-{head}"' in html and f'data-layer="{layer}" data-head="{head}"' in html


def test_the_gained_tokens_are_the_numbers_of_the_cls_row(original):
    # the top head's story is the one its rule picks: the larger of the words' change toward [CLS] and
    # [CLS]'s largest gain, each only from 0.05 on (which story a model tells is the model's, not the test's)
    layer, head, _ = original.top_heads[0]
    point = next(p for p in original.notice if p.kind == "head")
    sink = original.sink
    words = sink["to_cls"]["trained"][layer, head] - sink["to_cls"]["untrained"][layer, head]
    gain = sink["cls_gain"][layer, head]
    floor = notice.claims.HEAD["min_change"]
    want = (("to-cls-fell" if words < 0 else "to-cls-rose") if abs(round(words, 4)) >= floor and abs(words) >= gain
            else "cls-row-gained" if gain >= floor else "largest-change")
    assert point.outcome == want
    # a head where [CLS] gained: the words named are the numbers of its row, both models
    heads = [(l, h) for l, h in np.ndindex(original.head_change.shape) if notice.gained_from_cls(original, l, h)]
    assert heads, "fine-tuning moves [CLS]'s attention in some head"
    l, h = max(heads, key=lambda c: sink["cls_gain"][c])
    gained = notice.gained_from_cls(original, l, h)
    for i, trained, untrained in gained:
        row_t = original.run.trained.attention[l, h, 0]
        row_u = original.run.untrained.attention[l, h, 0]
        assert (trained, untrained) == (row_t[i], row_u[i]) and trained - untrained >= notice.GAIN_MIN
    claim = notice.head_claim(original, l, h, float(original.head_change[l, h]))
    if claim.outcome == "cls-row-gained":
        i, trained, untrained = gained[0]
        assert f"now sends {100 * trained:.0f}% of its attention" in claim.text
        assert f"(before fine-tuning: {100 * untrained:.0f}%)" in claim.text
        if original.sentence.tokens[i] == "not":  # two "not"s in the sentence: named by their place
            assert re.search(r"the (first|second) “not”", claim.text)


def test_verdict_tokens_and_the_untrained_margin(original):
    points = {p.kind: p.text for p in original.notice}
    p = original.run.trained.probs.max()
    assert points["verdict"].startswith(f"The fine-tuned model reads this sentence as negative ({notice.p_text(p)}): right")
    ig = original.attributions["trained"]["ig"].scores
    best = int(original.sentence.words[np.argmax(ig[original.sentence.words])])
    assert original.sentence.tokens[best] in points["tokens"]
    margin = abs(float(np.diff(original.run.untrained.logits)[0]))
    assert f"a margin of {margin:.3f} logit" in points["untrained"] and "✓" not in points["untrained"]
    assert "no tokens are named" in points["untrained"]


def test_a_wrong_prediction_is_called_wrong(default_pair):
    ex = page.explain("The movie was not bad at all, highly recommend", "negative", mode="gallery")
    assert "wrong, the sentence is negative" in ex.notice[0].text


def test_token_names_tell_repeated_tokens_apart():
    tokens = ["[CLS]", "not", "good", "not", "[SEP]"]
    assert notice.token_name(tokens, 2) == "“good”"
    assert notice.token_name(tokens, 1) == "the first “not”"
    assert notice.token_name(tokens, 3) == "the second “not”"
