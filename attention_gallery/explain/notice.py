"""What to notice on a sentence page: the lesson of the numbers, said in words.

:func:`notice` turns an explanation's numbers into a few plain statements, each
one a reading of a number the page shows (no claim the numbers do not support):

* whether the fine-tuned model is right, and how sure;
* the head fine-tuning changed most (0-based "layer L, head H", as in the views),
  and what it attends to now that the pretrained encoder did not: the tokens
  that gained most attention from [CLS], the position the classifier reads;
* the fine-tuned model's top tokens by Integrated Gradients (toward its
  prediction), and whether removing them hurts more than removing random ones;
* that the untrained head's margin is too small to explain (no token list).

The statements are data (:class:`Point`): the notebook shows them as HTML and
the record keeps them, so the site's set pages can quote them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import views

GAIN_MIN = 0.05  # a gain of attention smaller than this is not called out
TOP_TOKENS = 3


@dataclass(frozen=True)
class Point:
    """One thing to notice: its kind, a sentence of plain text, and the head it
    points at (``(layer, head)``) where it is about one."""

    kind: str
    text: str
    head: tuple[int, int] | None = None


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


def _percent(p: float) -> str:
    return f"{100 * p:.0f}%"


def p_text(p: float) -> str:
    """'p = 0.87'; never 'p = 1.00' for a probability below 1."""
    return "p > 0.99" if 0.995 <= p < 1 else f"p = {p:.2f}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def verdict(ex) -> Point:
    run, labels = ex.run.trained, ex.run.labels
    predicted = labels[run.predicted]
    p = float(run.probs[run.predicted])
    right = predicted == ex.label
    return Point("verdict", (
        f"The fine-tuned model reads this sentence as {predicted} ({p_text(p)}): "
        + (f"right, the sentence is {ex.label}." if right else
           f"wrong, the sentence is {ex.label}. Look below for what it attends to instead.")))


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


def top_head(ex) -> Point:
    layer, head, change = ex.top_heads[0]
    tokens = ex.sentence.tokens
    gained = gained_from_cls(ex, layer, head)
    where = f"layer {layer}, head {head}"
    text = (f"Fine-tuning changed {where} most (change {change:.3f}, the largest of "
            f"{ex.head_change.size} heads).")
    if gained:
        (i, t, u), rest = gained[0], gained[1:]
        moves = [f"{_percent(t)} of its attention to {token_name(tokens, i)} (before fine-tuning: {_percent(u)})"]
        moves += [f"{_percent(t)} to {token_name(tokens, i)} ({_percent(u)})" for i, t, u in rest]
        text += f" In that head, [CLS] (the position the classifier reads) now sends {_join(moves)}."
    else:  # [CLS] hardly moved: name the largest change anywhere in the head
        trained = ex.run.trained.attention[layer, head]
        untrained = ex.run.untrained.attention[layer, head]
        q, k = np.unravel_index(int(np.argmax(np.abs(trained - untrained))), trained.shape)
        text += (f" Its attention from [CLS] (the position the classifier reads) moved by less than "
                 f"{_percent(GAIN_MIN)} toward any word; the largest change is from "
                 f"{token_name(tokens, int(q))} to {token_name(tokens, int(k))}: {_percent(trained[q, k])} "
                 f"of its attention now, {_percent(untrained[q, k])} before fine-tuning.")
    return Point("head", text, (int(layer), int(head)))


def top_tokens(ex) -> Point:
    ig = ex.attributions["trained"]["ig"]
    scores = np.asarray(ig.scores, float)
    words = ex.sentence.words
    order = words[np.lexsort((words, -scores[words]))]
    best = [int(i) for i in order[:TOP_TOKENS] if scores[i] > 0]
    predicted = ex.run.labels[ig.target]
    if not best:
        return Point("tokens", f"No token pushes the fine-tuned model toward {predicted} by "
                               f"Integrated Gradients: its prediction comes from the baseline.")
    text = (f"Integrated Gradients ranks {_join([token_name(ex.sentence.tokens, i) for i in best])} "
            f"highest for {predicted}.")
    table = ex.deletion["trained"][0]
    ig_c, rnd_c = table["ig"]["comprehensiveness"], table["random"]["comprehensiveness"]
    if ig_c > rnd_c:
        text += (f" Removing IG's top 1 to 3 tokens lowers p({predicted}) by {ig_c:.2f} on average, "
                 f"against {rnd_c:.2f} for random tokens: here the ranking is faithful.")
    else:
        text += (f" But removing them lowers p({predicted}) by {ig_c:.2f} on average, no more than "
                 f"random tokens ({rnd_c:.2f}): here the ranking is not faithful.")
    return Point("tokens", text)


def untrained(ex) -> Point:
    run = ex.run.untrained
    margin = abs(float(run.logits[0]) - float(run.logits[-1]))
    return Point("untrained", (
        f"The {views.model_name('untrained')} gives p({ex.run.labels[-1]}) = {run.probs[-1]:.3f}, "
        f"a margin of {margin:.3f} logit between its two classes: chance, too small to explain, "
        f"so no tokens are named for it."))


def notice(ex) -> list[Point]:
    """The points of a sentence page's "What to notice", in reading order."""
    return [verdict(ex), top_head(ex), top_tokens(ex), untrained(ex)]


def notice_html(points: list[Point]) -> str:
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
        items.append(f'<li data-notice="{p.kind}">{text}</li>')
    return f'<ul class="gallery-notice">{"".join(items)}</ul>'
