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


# Each point is made by a pure function of plain numbers (``*_claim``), which the live
# page's lib/notice.js ports one to one (tests/golden/notice.json holds what both must
# say); the functions taking ``ex`` read those numbers off an explanation.

def verdict_claim(predicted: str, p: float, gold: str | None) -> Claim:
    """How the fine-tuned model reads the sentence; right or wrong where there is a
    gold label (the live page has none: it says only what the model predicts)."""
    lead = f"The fine-tuned model reads this sentence as {predicted} ({p_text(p)})"
    numbers = {"predicted": predicted, "p": round(p, 4), "gold": gold}
    if gold is None:
        return Claim("verdict", "prediction", "no-gold", f"{lead}; a typed sentence has no gold label to check it against.",
                     numbers)
    right = predicted == gold
    return Claim("verdict", "prediction", "right" if right else "wrong", (
        f"{lead}: " + (f"right, the sentence is {gold}." if right else
                       f"wrong, the sentence is {gold}. Look below for what it attends to instead.")), numbers)


def verdict(ex) -> Claim:
    run, labels = ex.run.trained, ex.run.labels
    return verdict_claim(labels[run.predicted], float(run.probs[run.predicted]), ex.label)


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


def head_numbers(sink: dict, trained_attention, untrained_attention, layer: int, head: int) -> dict:
    """The numbers the head rule reads for one head: from ``sink`` (as
    ``headchange.sink_facts`` gives it, the record's) and both models' attention
    (layers, heads, n, n), the attention the page draws."""
    trained = np.asarray(trained_attention)[layer, head]
    untrained = np.asarray(untrained_attention)[layer, head]
    q, k = np.unravel_index(int(np.argmax(np.abs(trained - untrained))), trained.shape)
    g = int(sink["cls_gain_token"][layer, head])
    return {"to_cls_trained": round(float(sink["to_cls"]["trained"][layer, head]), 4),
            "to_cls_untrained": round(float(sink["to_cls"]["untrained"][layer, head]), 4),
            "cls_gain": round(float(sink["cls_gain"][layer, head]), 4), "cls_gain_token": g,
            "cls_gain_trained": round(float(trained[0, g]), 4), "cls_gain_untrained": round(float(untrained[0, g]), 4),
            "largest": [int(q), int(k), round(float(trained[q, k]), 4), round(float(untrained[q, k]), 4)]}


def head_claim(ex, layer: int, head: int, change: float) -> Claim:
    n = head_numbers(ex.sink, ex.run.trained.attention, ex.run.untrained.attention, layer, head)
    return head_numbers_claim(ex.sentence.tokens, layer, head, change, ex.head_change.size, n)


def head_numbers_claim(tokens: list[str], layer: int, head: int, change: float, n_heads: int, n: dict) -> Claim:
    """The most changed head and what changed in it, from :func:`head_numbers`'s
    numbers (``n``) and the number of heads ranked."""
    q, k, t, u = n["largest"]
    outcome, story = claims.head_story(
        n["to_cls_trained"], n["to_cls_untrained"], n["cls_gain"], token_name(tokens, n["cls_gain_token"]),
        n["cls_gain_trained"], n["cls_gain_untrained"], (token_name(tokens, q), token_name(tokens, k), t, u))
    text = (f"Fine-tuning changed layer {layer}, head {head} most (change {change:.3f}, the largest of "
            f"{n_heads} heads). {story}")
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
    table = ex.deletion["trained"][0]
    se = ex.faithfulness["random_baseline"]["trained"]["se"]  # as the record keeps it (4 decimals)
    p0 = round(float(ex.run.trained.probs[ig.target]), 4)  # as the record keeps it
    return tokens_claim("Integrated Gradients", "IG", ex.sentence.tokens, ex.sentence.words, ig.scores,
                        ex.run.labels, ig.target, table["ig"], table["random"], se, p0)


# what a method's ranking rests on when no token pushes toward the prediction
BASIS = claims.RULES["tokens"]["no_positive"]  # why no word pushes toward the class, by method ("*": any other)


def tokens_claim(name: str, title: str, tokens: list[str], words, scores, labels, target: int,
                 method: dict, random: dict, se: dict, p0: float) -> Claim:
    """A method's top tokens toward the predicted class ``target`` and the faithfulness
    verdict on its ranking (``method``, ``random``: the deletion test's figures; ``se``:
    random's standard errors; ``p0``: p(target), 4 decimals). ``name`` is the method
    in the lead, ``title`` in the verdict."""
    scores = np.asarray(scores, float)
    ranked = ranked_words(scores, np.asarray(words, np.int64))
    best = [i for i in ranked[:TOP_TOKENS] if scores[i] > 0]
    predicted = labels[target]
    other = labels[0] if target == len(labels) - 1 else labels[-1]
    kept = [token_name(tokens, i) for i in ranked[:TOP_TOKENS]]
    verdict = claims.faithfulness_claim(title, method, random, se, p0, predicted, other, kept)
    if not best:
        basis = BASIS.get(name, BASIS["*"])
        lead = f"No token pushes the fine-tuned model toward {predicted} by {name}: {basis}."
    else:
        lead = f"{name} ranks {_join([token_name(tokens, i) for i in best])} highest for {predicted}."
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
    return untrained_claim(ex.run.labels[-1], float(run.probs[-1]), abs(float(run.logits[0]) - float(run.logits[-1])))


def untrained_claim(last: str, p_last: float, margin: float) -> Claim:
    """Whether the untrained head's margin is chance (``last``: the last label; ``p_last``: its probability)."""
    first = (f"The {views.model_name('untrained')} gives p({last}) = {p_last:.3f}, "
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
