"""What to notice on a sentence page: the lesson of the numbers, said in words.

:func:`notice` turns an explanation's numbers into a few claims
(:class:`~attention_gallery.claims.Claim`: a statement, the numbers it cites, the
rule that allows it and the outcome that chose its wording):

* whether the fine-tuned model is right, and how sure (rule ``prediction``);
* the head fine-tuning changed most (0-based "layer L, head H", as in the views)
  and what changed in it, by the head rule: the words' attention to [CLS], or
  [CLS]'s attention to one word, or else the largest single change;
* the fine-tuned model's top tokens by Integrated Gradients (toward its
  prediction) and the faithfulness verdict on that ranking (rule ``faithfulness``);
* whether norm-based attention and the attention weights agree on how much of the
  last layer's [CLS] attention lands on [CLS] and [SEP] (rule ``norms``);
* whether the untrained head's margin is chance (rule ``untrained``).

The record keeps each claim (text, rule, outcome, numbers), so the site's set
pages can quote them and a test can re-derive them.
"""

from __future__ import annotations

import numpy as np

from .. import claims
from ..claims import Claim
from . import views

GAIN_MIN = claims.HEAD["min_change"]  # a change of attention smaller than this is not called out
TOP_TOKENS = 3
UNTRAINED_MAX_MARGIN = claims.RULES["untrained"]["max_margin"]
Point = Claim  # a thing to notice is a claim


def head_anchor(layer: int, head: int) -> str:
    """The page address that opens the side-by-side block on one head."""
    return f"head-{int(layer)}-{int(head)}"


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def _quote(token: str) -> str:
    return f"“{token}”"


def token_name(tokens: list[str], i: int) -> str:
    """A token quoted, with its ordinal when the sentence has it more than once
    ("the second “not”"), so two mentions of one word stay apart."""
    same = [j for j, t in enumerate(tokens) if t == tokens[i]]
    if len(same) == 1:
        return _quote(tokens[i])
    n = same.index(i)
    return f"the {ORDINALS[n] if n < len(ORDINALS) else f'{n + 1}th'} {_quote(tokens[i])}"


def p_text(p: float) -> str:
    """'p = 0.87'; never 'p = 1.00' for a probability below 1."""
    return "p > 0.99" if 0.995 <= p < 1 else f"p = {p:.2f}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def verdict(ex) -> Claim:
    run, labels = ex.run.trained, ex.run.labels
    predicted = labels[run.predicted]
    p = float(run.probs[run.predicted])
    right = predicted == ex.label
    return Claim("verdict", "prediction", "right" if right else "wrong", (
        f"The fine-tuned model reads this sentence as {predicted} ({p_text(p)}): "
        + (f"right, the sentence is {ex.label}." if right else
           f"wrong, the sentence is {ex.label}. Look below for what it attends to instead.")),
        {"predicted": predicted, "p": round(p, 4), "gold": ex.label})


def gained_from_cls(ex, layer: int, head: int, k: int = 2) -> list[tuple[int, float, float]]:
    """The word tokens whose attention from [CLS] grew most in one head, as
    ``(position, trained weight, untrained weight)``, largest gain first, gains of
    at least :data:`GAIN_MIN` only."""
    trained = ex.run.trained.attention[layer, head, 0]
    untrained = ex.run.untrained.attention[layer, head, 0]
    gain = trained - untrained
    words = ex.sentence.words
    order = words[np.lexsort((words, -gain[words]))]
    return [(int(i), float(trained[i]), float(untrained[i])) for i in order[:k] if gain[i] >= GAIN_MIN]


def head_numbers(ex, layer: int, head: int) -> dict:
    """The numbers the head rule reads for one head (all from the record's ``sink``
    and the attention the page draws)."""
    sink = ex.sink
    tokens = ex.sentence.tokens
    trained = ex.run.trained.attention[layer, head]
    untrained = ex.run.untrained.attention[layer, head]
    q, k = np.unravel_index(int(np.argmax(np.abs(trained - untrained))), trained.shape)
    g = int(sink["cls_gain_token"][layer, head])
    return {"to_cls_trained": round(float(sink["to_cls"]["trained"][layer, head]), 4),
            "to_cls_untrained": round(float(sink["to_cls"]["untrained"][layer, head]), 4),
            "cls_gain": round(float(sink["cls_gain"][layer, head]), 4), "cls_gain_token": g,
            "cls_gain_trained": round(float(trained[0, g]), 4), "cls_gain_untrained": round(float(untrained[0, g]), 4),
            "largest": [int(q), int(k), round(float(trained[q, k]), 4), round(float(untrained[q, k]), 4)],
            "tokens": tokens}


def head_claim(ex, layer: int, head: int, change: float) -> Claim:
    n = head_numbers(ex, layer, head)
    tokens = n.pop("tokens")
    q, k, t, u = n["largest"]
    outcome, story = claims.head_story(
        n["to_cls_trained"], n["to_cls_untrained"], n["cls_gain"], token_name(tokens, n["cls_gain_token"]),
        n["cls_gain_trained"], n["cls_gain_untrained"], (token_name(tokens, q), token_name(tokens, k), t, u))
    text = (f"Fine-tuning changed layer {layer}, head {head} most (change {change:.3f}, the largest of "
            f"{ex.head_change.size} heads). {story}")
    return Claim("head", "head", outcome, text, {**n, "change": round(float(change), 4)}, (int(layer), int(head)))


def top_head(ex) -> Claim:
    layer, head, change = ex.top_heads[0]
    return head_claim(ex, layer, head, change)


def ranked_words(scores, words) -> list[int]:
    """Word positions by score, highest first (ties: position), as the deletion test ranks them."""
    scores = np.asarray(scores, float)
    return [int(i) for i in words[np.lexsort((words, -scores[words]))]]


def top_tokens(ex) -> Claim:
    ig = ex.attributions["trained"]["ig"]
    scores = np.asarray(ig.scores, float)
    ranked = ranked_words(scores, ex.sentence.words)
    best = [i for i in ranked[:TOP_TOKENS] if scores[i] > 0]
    labels = ex.run.labels
    predicted = labels[ig.target]
    other = labels[0] if ig.target == len(labels) - 1 else labels[-1]
    tokens = ex.sentence.tokens
    table = ex.deletion["trained"][0]
    p0 = round(float(ex.run.trained.probs[ig.target]), 4)  # as the record keeps it
    kept = [token_name(tokens, i) for i in ranked[:TOP_TOKENS]]
    se = ex.faithfulness["random_baseline"]["trained"]["se"]  # as the record keeps it (4 decimals)
    verdict = claims.faithfulness_claim("IG", table["ig"], table["random"], se, p0, predicted, other, kept)
    if not best:
        lead = (f"No token pushes the fine-tuned model toward {predicted} by Integrated Gradients: "
                f"its prediction comes from the baseline.")
    else:
        lead = f"Integrated Gradients ranks {_join([token_name(tokens, i) for i in best])} highest for {predicted}."
    return Claim("tokens", verdict.rule, verdict.outcome, f"{lead} {verdict.text}",
                 {**verdict.numbers, "top": ranked[:TOP_TOKENS], "positive_top": best})


def norms(ex) -> Claim | None:
    """Weights and norms on the fine-tuned model's last-layer [CLS] row, from the two
    methods' token scores as the record keeps them (4 decimals)."""
    a = ex.attributions["trained"]
    if not {"attention", "norms"} <= a.keys():  # a registry without one of them: nothing to compare
        return None
    return claims.norms_claim(a["attention"].recorded(), a["norms"].recorded(), ex.sentence.special)


def untrained(ex) -> Claim:
    run = ex.run.untrained
    margin = abs(float(run.logits[0]) - float(run.logits[-1]))
    first = (f"The {views.model_name('untrained')} gives p({ex.run.labels[-1]}) = {run.probs[-1]:.3f}, "
             f"a margin of {margin:.3f} logit between its two classes")
    if margin < UNTRAINED_MAX_MARGIN:
        return Claim("untrained", "untrained", "chance",
                     f"{first}: chance, too small to explain, so no tokens are named for it.",
                     {"margin": round(margin, 4)})
    return Claim("untrained", "untrained", "leaning",
                 f"{first}: larger than chance usually gives ({UNTRAINED_MAX_MARGIN} logit), but its head was "
                 "never trained, so the lean is the random head's, not a judgement.",
                 {"margin": round(margin, 4)})


def notice(ex) -> list[Claim]:
    """The points of a sentence page's "What to notice", in reading order."""
    points = [verdict(ex), top_head(ex), top_tokens(ex), norms(ex), untrained(ex)]
    return [p for p in points if p is not None]


def notice_html(points: list[Claim]) -> str:
    """A list of the points; a point about a head links to ``#head-L-H``."""
    items = []
    for p in points:
        text = views.esc(p.text)
        if p.head is not None:
            layer, head = p.head
            name = f"layer {layer}, head {head}"
            link = (f'<a href="#{head_anchor(layer, head)}" class="gallery-head-link" '
                    f'data-layer="{layer}" data-head="{head}">{name}</a>')
            text = text.replace(name, link, 1)
        items.append(p.html("li", text, f' data-notice="{views.esc(p.kind)}"'))
    return f'<ul class="gallery-notice">{"".join(items)}</ul>'
