"""What the guided lesson asks of a student: predict-then-reveal questions on its
steps, exercises with their answers, and the closing summary.

Every answer is read off a record (what a notebook computed) or the findings (the
manifest's cards); a question's choices come from the same record, so the answer is
one of them. Without JavaScript an answer is a plain ``<details>``; with it, it opens
only after a choice (lib/predict.js).
"""

from __future__ import annotations

import numpy as np

from .. import claims
from ..explain import views
from ..explain.notice import head_anchor, p_text
from ..record import SentenceRecord

KINDS = ("class", "token", "head")  # what a step asks the student to predict, in turn
SUFFICIENT_LOSS = 0.05  # a kept token "loses" p where p falls by more than this


def _link(r: SentenceRecord, anchor: str = "", text: str | None = None, prefix: str = "../") -> str:
    return f'<a href="{prefix}{views.esc(r.slug)}/{anchor}">{views.esc(text or r.title)}</a>'


def predict_block(name: str, question: str, choices: list[tuple[str, str]], answer: str, answer_html: str,
                  reveal: str = "") -> str:
    """A question with radio ``choices`` ((value, label) pairs), the value of the
    right one (``answer``) and what the answer says (``answer_html``, then ``reveal``:
    a picture that would give the answer away), hidden in a ``<details>`` until opened."""
    inputs = "".join(
        f'<label class="gallery-predict-choice"><input type="radio" name="predict-{views.esc(name)}" '
        f'value="{views.esc(v)}"> {views.esc(label)}</label>' for v, label in choices)
    return (f'<div class="gallery-predict" data-predict="{views.esc(name)}" data-answer="{views.esc(answer)}">'
            f'<fieldset><legend><strong>Predict first.</strong> {views.esc(question)}</legend>{inputs}</fieldset>'
            f'<details class="gallery-predict-answer"><summary>Show the answer</summary>'
            f"<p>{answer_html}</p>{reveal}</details></div>")


def class_question(name: str, r: SentenceRecord) -> str:
    t, u = r.trained, r.untrained
    margin = claims.margin(u.logits)
    untrained = (f"at chance, by the site's rule (margin {margin:.3f} logit)" if claims.at_chance(u.logits)
                 else f"leaning to {views.esc(u.predicted)} (margin {margin:.3f} logit), though its head was never trained")
    answer = (f"The fine-tuned model predicts <strong>{views.esc(t.predicted)}</strong> ({p_text(t.confidence)}); "
              f"the gold label is {views.esc(r.label)}, so it is {'right' if t.correct else 'wrong'}. The untrained "
              f"model's p({views.esc(r.labels[-1])}) is {u.p_positive:.2f}: {untrained}. "
              f"Open {_link(r)} to see why.")
    return predict_block(name, f"Which class will the fine-tuned model predict for “{r.text}”?",
                         [(l, l) for l in r.labels], t.predicted, answer)


def _word_choices(r: SentenceRecord, scores: np.ndarray) -> tuple[int, list[int]]:
    """The top word and two others (the lowest-ranked and the middle one), in the
    sentence's order."""
    words = sorted(r.words, key=lambda i: (-scores[i], i))
    picks = list(dict.fromkeys([words[0], words[-1], words[len(words) // 2]]))
    return words[0], sorted(picks)


def token_question(name: str, r: SentenceRecord) -> str | None:
    if "ig" not in r.scores or len(r.words) < 3:
        return None
    scores = np.asarray(r.scores["ig"].scores, dtype=np.float64)
    top, picks = _word_choices(r, scores)
    target = r.labels[r.scores["ig"].target]
    rank = sorted(r.words, key=lambda i: (-scores[i], i))
    answer = (f"Integrated Gradients ranks “{views.esc(r.tokens[top])}” first for {views.esc(target)} (score "
              f"{scores[top]:+.3f}); of the other choices, " + "; ".join(
                  f"“{views.esc(r.tokens[i])}” is {rank.index(i) + 1} of {len(rank)} ({scores[i]:+.3f})"
                  for i in picks if i != top)
              + f". Whether removing it moves the prediction is the deletion test's question, on {_link(r)}.")
    return predict_block(name, f"In “{r.text}”, which token will Integrated Gradients score highest for "
                               f"{target}?", [(str(i), f"“{r.tokens[i]}” (token {i})") for i in picks], str(top), answer)


def head_question(name: str, r: SentenceRecord, reveal: str = "") -> str:
    change = np.asarray(r.head_change, dtype=np.float64)
    layer, head, value = r.top_heads[0]
    low = min(np.ndindex(change.shape), key=lambda c: (change[c], c))
    first = max(((0, h) for h in range(change.shape[1])), key=lambda c: (change[c], -c[1]))
    picks = list(dict.fromkeys([(layer, head), tuple(low), first]))
    picks = sorted(picks)
    answer = (f"Layer {layer}, head {head} changed most (head change {value:.3f}); "
              + "; ".join(f"layer {l}, head {h}: {change[l, h]:.3f}" for l, h in picks if (l, h) != (layer, head))
              + f". {_link(r, '#' + head_anchor(layer, head), 'Open it side by side')}.")
    return predict_block(name, f"In “{r.text}”, which of these heads did fine-tuning change most?",
                         [(f"{l}-{h}", f"layer {l}, head {h}") for l, h in picks], f"{layer}-{head}", answer, reveal)


def step_kind(step: int) -> str:
    """What lesson step ``step`` (1-based) asks to predict: class, token or head, in turn."""
    return KINDS[(step - 1) % len(KINDS)]


def step_question(step: int, r: SentenceRecord, reveal: str = "") -> str:
    """The question of lesson step ``step`` (1-based) about its sentence ``r``
    (``reveal``: shown with a head question's answer, the picture of that head)."""
    kind = step_kind(step)
    name = f"step-{step}"
    if kind == "token":
        return token_question(name, r) or class_question(name, r)
    return head_question(name, r, reveal) if kind == "head" else class_question(name, r)


# --------------------------------------------------------------------------- exercises


def _card(findings: dict | None, id_: str) -> dict | None:
    return next((c for c in (findings or {}).get("cards", []) if c["id"] == id_), None)


def _exercise(title: str, task: str, answer: str) -> str:
    return (f'<li class="gallery-exercise"><p><strong>{views.esc(title)}.</strong> {task}</p>'
            f"<details><summary>An answer</summary><p>{answer}</p></details></li>")


def exercises(records: list[SentenceRecord], findings: dict | None) -> list[str]:
    """The lesson's exercises, each with its answer read off the records or the findings."""
    out = []
    wrong = [r for r in records if not r.trained.correct]
    if wrong:
        listed = ", ".join(f"{_link(r)} (gold {views.esc(r.label)}, {views.esc(r.trained.predicted)} at "
                           f"{claims.pct(r.trained.confidence)})" for r in wrong)
        answer = (f"The gallery has {len(wrong)} such sentence{'s' if len(wrong) > 1 else ''}: {listed}. Sentences "
                  "of the same build, with a word swapped, are a good place to start.")
    else:
        answer = ("The fine-tuned model gets every gallery sentence right, so the gallery has no example to copy: "
                  "try double negations and sarcasm.")
    out.append(_exercise("Fool the model", 'On <a href="../live/">the live page</a>, write a sentence whose '
                         "sentiment is plain to a reader but that the fine-tuned model gets wrong.", answer))
    heads = _card(findings, "heads")
    if heads and heads.get("top_heads"):
        t = heads["top_heads"][0]
        answer = (f"On {views.esc(findings['set']['name'])}, masking layer {t['layer']}, head {t['head']} alone "
                  f"lowers accuracy most: {100 * t['accuracy_drop']:.1f} points (95% interval "
                  f"{100 * t['ci95'][0]:.1f} to {100 * t['ci95'][1]:.1f}); its head change is {t['change']:.3f}. "
                  f"Importance and change: Spearman {heads['spearman']['rho']:+.2f} (95% interval "
                  f"{heads['spearman']['ci95'][0]:+.2f} to {heads['spearman']['ci95'][1]:+.2f}).")
        out.append(_exercise("Which head matters", "Before you look: which head's ablation will hurt the "
                             "fine-tuned model most? Pick one on <a href=\"../heads/\">the heads page</a>, then check it on "
                             '<a href="../findings/#card-heads">the Findings page</a>.', answer))
    suff = _sufficiency_example(records)
    if suff:
        out.append(suff)
    entropy = _card(findings, "entropy")
    if entropy and entropy.get("layers"):
        rows = entropy["layers"]["trained - untrained"]
        sharper = [r["layer"] for r in rows if r["ci95"][1] < 0]
        broader = [r["layer"] for r in rows if r["ci95"][0] > 0]
        def where(layers):
            return ("in layer " if len(layers) == 1 else "in layers ") + claims.join([str(l) for l in layers]) \
                if layers else "in no layer"
        answer = (f"On {views.esc(findings['set']['name'])}: sharper (lower entropy) {where(sharper)}, broader "
                  f"{where(broader)} (95% intervals of the difference excluding 0); "
                  + "; ".join(f"layer {r['layer']}: {r['mean']:+.3f} nats" for r in rows) + ".")
        out.append(_exercise("Sharper or broader", "Does fine-tuning make each layer's attention sharper? Guess "
                             "for the first and the last layer, then read "
                             '<a href="../findings/#card-entropy">the entropy card</a>.', answer))
    return out


def _sufficiency_example(records: list[SentenceRecord]) -> str | None:
    """Why IG's top tokens can fail the sufficiency test: on the sentence where
    keeping them alone leaves the prediction least supported."""
    usable = [r for r in records if "ig" in r.faithfulness.trained and r.faithfulness.trained["ig"].kept_p]
    if not usable:
        return None
    preferred = next((r for r in usable if r.slug == "not-bad-at-all"), None)
    r = preferred or min(usable, key=lambda r: (r.faithfulness.trained["ig"].kept_p[0], r.slug))
    ig, rnd = r.faithfulness.trained["ig"], r.faithfulness.trained.get("random")
    scores = np.asarray(r.scores["ig"].scores, dtype=np.float64)
    top = sorted(r.words, key=lambda i: (-scores[i], i))[: len(ig.kept_p)]
    kept = "; ".join(f"the top {k + 1} ({', '.join('“' + views.esc(r.tokens[i]) + '”' for i in top[: k + 1])}): "
                     f"p = {p:.2f}" for k, p in enumerate(ig.kept_p))
    random_part = (f" Keeping random tokens instead gives p = {', '.join(f'{p:.2f}' for p in rnd.kept_p)} on average."
                   if rnd and rnd.kept_p else "")
    full, first = r.trained.confidence, ig.kept_p[0]
    if rnd and rnd.kept_p and first < rnd.kept_p[0]:
        verdict = "Here the top token kept alone supports the prediction less than a random token does."
    elif first < full - SUFFICIENT_LOSS:
        verdict = f"Here the top token kept alone loses {full - first:.2f} of p."
    else:
        verdict = f"Here the top token kept alone keeps p within {SUFFICIENT_LOSS:.2f}: it is sufficient on this sentence."
    answer = (f"The fine-tuned model predicts {views.esc(r.trained.predicted)} with {p_text(full)}. "
              f"Keeping only Integrated Gradients' top tokens (the rest removed) gives {kept}.{random_part} "
              f"{verdict} A token's score says how much it moves the prediction in its sentence, with its "
              "neighbours; kept alone, a word can read otherwise (“bad” without its “not”), so a high score need "
              "not be sufficient.")
    return _exercise("Scores are not sufficiency", f"On {_link(r)}, why might Integrated Gradients' top tokens, "
                     "kept alone, fail to keep the prediction? Predict p with only the top token kept, then read "
                     "the deletion table.", answer)


def summary(findings: dict | None, n_sentences: int) -> str:
    """What the lesson taught, and what stays uncertain: the findings' verdicts by their rules."""
    cards = (findings or {}).get("cards", [])
    if not cards:
        return ("<p>No findings were measured for this build, so the lesson rests on the gallery's "
                f"{n_sentences} sentences alone.</p>")
    held = [c for c in cards if c["verdict"] == "holds"]
    open_ = [c for c in cards if c["verdict"] != "holds"]
    where = f"{views.esc(findings['set']['name'])} ({findings['set']['n']} sentences)"

    def item(c):
        return (f'<li>{views.esc(c["claim"])} <em>{views.esc(claims.RULES["findings"]["verdicts"][c["verdict"]])}</em> '
                f'(<a href="../findings/#card-{views.esc(c["id"])}">card</a>).</li>')
    return (f"<p>Re-tested on {where}, with intervals over the sentences and the spread over the fine-tuning "
            "runs:</p>"
            + (f"<p><strong>What held</strong>:</p><ul>{''.join(item(c) for c in held)}</ul>" if held else "")
            + (f"<p><strong>What stays uncertain or did not hold</strong>:</p><ul>{''.join(item(c) for c in open_)}</ul>"
               if open_ else "")
            + f"<p>Everything else on these pages is read off the gallery's {n_sentences} hand-written sentences and "
            "one model pair: a pattern seen there is a lead to test, not a finding. Attention shows where "
            "information flows, not whether it mattered: that is the deletion tests' question.</p>")
