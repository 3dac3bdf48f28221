"""The pages that teach across sentences: the grouped overview, contrast pages, the
guided lesson, and the links a sentence page gets to them.

Input: the records (what each notebook computed) and the manifest's entries (what
the sentence set says beyond the notebook: ``group`` and ``contrast``). Every claim
is read off a record; sentence text is escaped HTML, never Markdown.
"""

from __future__ import annotations

import difflib

import numpy as np

from .. import claims, config
from ..catalog import Catalog
from ..explain import views
from ..explain.notice import head_anchor, p_text, token_name
from ..names import contrast_slug
from ..record import SentenceRecord, toward_last_label
from . import exercises

CONTRAST_DIR = "contrast"  # gallery/contrast/<a>--<b>/: no sentence slug has "--"
LESSON = "lesson"

# The lesson's teaching order and what each group is for; groups not listed here
# follow in the order of the set, with their sentences' notes only.
LESSON_ORDER = {  # what to look for: instructions and facts of language, never a figure
    "plain": "Start with the plain case: sentences whose words say their sentiment outright. "
             "Predict the verdict, then open the sentence and look at what fine-tuning changed when "
             "there is nothing to untangle; every later step is compared with this one.",
    "the originals": "Start where the gallery started: two sentences that both contain "
                     "“not”, one negative and one positive. A bag of words would score them alike; "
                     "to get both right, a model has to read “not” together with the word it negates.",
    "negation": "One “not”, “never” or “none” turns a sentiment word around. Open the head "
                "fine-tuning changed most and ask what moved: does [CLS] look at the negation word, "
                "or do the words stop looking at [CLS]?",
    "minimal pairs": "Two sentences that differ by one or two words, on one page: what changes "
                     "in the prediction, in the top head and in the token scores when only that "
                     "word changes.",
    "double negation": "Two negations cancel (“can't not laugh”, “not without its charms”). "
                       "A model that only learned “not = negative” gets these wrong: check "
                       "which of them it gets right, and how sure it is.",
    "contrast": "With “but” or “yet”, the clause after the conjunction usually decides the "
                "verdict. See whether the top tokens come from the second clause.",
    "intensifiers": "Words such as “absolutely” or “barely” scale a sentiment; “barely” even "
                    "turns “passable” negative.",
    "hedges": "“Fairly” and “somewhat” soften a verdict: look at how sure the model is.",
    "negation words in praise": "“Not only” and “no doubt” contain negation words but praise: "
                                "a model that learned “not” as a negative cue is tested here.",
    "sarcasm": "Sarcasm says the opposite of its words (“Oh great”): the words point one way and "
               "the meaning the other.",
    "long": "Long sentences spread the verdict over many clauses. Do the attention-based scores "
            "get flatter than on short sentences, while IG and leave-one-out still point at a few words?",
}
CONJUNCTIONS = ("but", "yet", "though", "although")  # the "contrast" step's second clause starts after one
WRONG = "where the fine-tuned model fails"


def groups(entries: list[dict]) -> list[str]:
    """The set's groups in order of first use ("" = ungrouped, last)."""
    order = list(dict.fromkeys(e.get("group", "") for e in entries))
    return [g for g in order if g] + ([""] if "" in order else [])


def group_anchor(group: str) -> str:
    return "group-" + (group.replace(" ", "-") if group else "other")


def contrast_page_name(pair: tuple[str, str]) -> str:
    return f"{CONTRAST_DIR}/{contrast_slug(pair)}"


# --- the overview, grouped -------------------------------------------------------

def sentence_cell(r: SentenceRecord, prefix: str, note: bool = False) -> str:
    """A table's sentence: its whole text, the link to its page (a page's title is
    the sentence cut short, so a separate title column would say it twice), with
    what it teaches under it when ``note``."""
    more = f'<br><span class="gallery-note-inline">{views.esc(r.note)}</span>' if note and r.note else ""
    return (f'<td class="gallery-text-cell"><a href="{prefix}{views.esc(r.slug)}/" dir="auto">'
            f'{views.esc(r.text)}</a>{more}</td>')


def verdict_cell(r: SentenceRecord, which: str) -> str:
    m = getattr(r, which)
    if which == "untrained":  # a random head: chance, never right or wrong
        margin = abs(m.logits[0] - m.logits[-1])
        return (f'<td class="gallery-chance">≈ chance: {views.esc(m.predicted)} '
                f'<span class="gallery-conf">margin {margin:.3f}; '
                f'{claims.pct(r.untrained_seeds.positive_fraction)} of seeds positive</span></td>')
    cls = "gallery-right" if m.correct else "gallery-wrong"
    mark = "✓" if m.correct else "✗"
    return (f'<td class="{cls}">{mark} {views.esc(m.predicted)} '
            f'<span class="gallery-conf">{claims.pct(m.confidence)}</span></td>')


def grouped_tables(records: list[SentenceRecord], entries: list[dict], prefix: str = "") -> str:
    """The sentences group by group, each with its note; a switch shows only the
    sentences the fine-tuned model gets wrong (CSS only: no script needed)."""
    by_slug = {r.slug: r for r in records}
    head = (f"<thead><tr><th>sentence (its page) and what it teaches</th><th>gold</th>"
            f"<th>{views.esc(views.model_name('trained'))}</th>"
            f"<th>{views.esc(views.model_name('untrained'))}</th></tr></thead>")
    sections = []
    for group in groups(entries):
        rows = []
        for e in entries:
            if e.get("group", "") != group or e["slug"] not in by_slug:
                continue
            r = by_slug[e["slug"]]
            rows.append(
                f'<tr class="{"gallery-row-right" if r.trained.correct else "gallery-row-wrong"}">'
                f"{sentence_cell(r, prefix, note=True)}"
                f'<td><span class="gallery-label gallery-{views.esc(r.label)}">{views.esc(r.label)}</span></td>'
                f"{verdict_cell(r, 'trained')}{verdict_cell(r, 'untrained')}</tr>")
        title = group or "other sentences"
        sections.append(
            f'<section class="gallery-group" id="{group_anchor(group)}" aria-label="{views.esc(title)}">'
            f'<h2>{views.esc(title[0].upper() + title[1:])}</h2>'
            f'<div class="gallery-scroll" tabindex="0" role="region" aria-label="{views.esc(title)} (table)">'
            f'<table class="gallery-table gallery-index">{head}<tbody>{"".join(rows)}</tbody></table></div>'
            f"</section>")
    wrong = sum(not r.trained.correct for r in records)
    return (f'<div class="gallery-groups"><input type="checkbox" id="gallery-only-wrong" '
            f'class="gallery-only-wrong"><label for="gallery-only-wrong">Show only the {wrong} '
            f'sentence{"s" * (wrong != 1)} the fine-tuned model gets wrong</label>'
            f'{"".join(sections)}</div>')


# --- contrast pages ----------------------------------------------------------------

def _token_diff(a: SentenceRecord, b: SentenceRecord) -> tuple[list[str], list[int], list[int]]:
    """What differs between two sentences' word tokens: a sentence per change, and
    the token positions in ``a`` and in ``b`` that differ."""
    pos_a, pos_b = a.words, b.words
    words_a, words_b = [a.tokens[i] for i in pos_a], [b.tokens[j] for j in pos_b]
    said, in_a, in_b = [], [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=words_a, b=words_b, autojunk=False).get_opcodes():
        old = " ".join(words_a[i1:i2])
        new = " ".join(words_b[j1:j2])
        if op == "insert":
            said.append(f"adds “{new}”")
        elif op == "delete":
            said.append(f"drops “{old}”")
        elif op == "replace":
            said.append(f"has “{new}” where the first has “{old}”")
        if op != "equal":
            in_a += pos_a[i1:i2]
            in_b += pos_b[j1:j2]
    return said, in_a, in_b


def _class_scores(r: SentenceRecord, method: str) -> np.ndarray:
    s = r.scores[method]
    return toward_last_label(s.scores, s.target, len(r.trained.probs))


def _rank(scores: np.ndarray, words: list[int], i: int) -> int:
    """1-based rank of token ``i`` among the ``words`` (token positions) by score
    (scores explain the target class: the highest pushes hardest toward it)."""
    order = sorted(words, key=lambda j: (-scores[j], j))
    return order.index(i) + 1


RANK_MOVE = 3  # a word both sentences share is mentioned where its rank moves by at least this many places
NO_WEIGHT = 0.005  # an IG score (logit) smaller than this is "almost no weight"


def _by_weight(scores: np.ndarray, words: list[int]) -> list[int]:
    """The word positions by how much Integrated Gradients weighs them (|score|), largest first."""
    return sorted(words, key=lambda j: (-abs(scores[j]), j))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _pushes(r: SentenceRecord, value: float) -> str:
    if abs(value) < NO_WEIGHT:
        return "almost no weight"
    return f"pushes toward {r.labels[-1] if value > 0 else r.labels[0]}"


def ig_moves(a: SentenceRecord, b: SentenceRecord) -> list[claims.Claim]:
    """What Integrated Gradients says of the words that differ, in both sentences' terms:
    each word only one sentence has, with its place among that sentence's words by
    weight (|score|) and the class it pushes toward; each word both have whose place
    moves by at least :data:`RANK_MOVE` (so "the" and "," are named only where they
    differ or move)."""
    sa, sb = _class_scores(a, "ig"), _class_scores(b, "ig")  # toward the last label, both sentences
    oa, ob = _by_weight(sa, a.words), _by_weight(sb, b.words)
    na, nb = len(oa), len(ob)
    words_a, words_b = [a.tokens[i] for i in a.words], [b.tokens[j] for j in b.words]
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=words_a, b=words_b, autojunk=False).get_opcodes():
        if op == "equal":
            for i, j in zip(a.words[i1:i2], b.words[j1:j2]):
                ra, rb = oa.index(i) + 1, ob.index(j) + 1
                if abs(ra - rb) >= RANK_MOVE:
                    out.append(claims.Claim(
                        "contrast-token", "rank-move", "moves",
                        f"{_capital(token_name(b.tokens, j))} is the {claims.ordinal(ra)} of {na} words by Integrated "
                        f"Gradients' weight in the first sentence and the {claims.ordinal(rb)} of {nb} in the second "
                        f"(first: {_pushes(a, float(sa[i]))}; second: {_pushes(b, float(sb[j]))}).", {"ranks": [ra, rb]}))
            continue
        for r, scores, order, n, positions, which in ((a, sa, oa, na, a.words[i1:i2], "first"),
                                                        (b, sb, ob, nb, b.words[j1:j2], "second")):
            for i in positions:
                value = float(scores[i])
                name = token_name(r.tokens, i)
                outcome = "none" if abs(value) < NO_WEIGHT else "toward"
                out.append(claims.Claim(
                    "contrast-token", "rank-new", outcome,
                    f"{_capital(name)}, only in the {which} sentence, is the {claims.ordinal(order.index(i) + 1)} of "
                    f"its {n} words by Integrated Gradients' weight: {_pushes(r, value)}.",
                    {"rank": order.index(i) + 1, "score": value}))
    return out


def contrast_views(a: SentenceRecord, b: SentenceRecord, layer: int, head: int, in_a: list[int], in_b: list[int]) -> str:
    """A placeholder the plugin fills with both sentences' attention and a head view of
    each model on each (``web/figures.py`` add_contrast_views: it reads their notebooks)."""
    return (f'<div class="gallery-contrast-views" data-a="{views.esc(a.slug)}" data-b="{views.esc(b.slug)}" '
            f'data-layer="{int(layer)}" data-head="{int(head)}" data-changed-a="{" ".join(map(str, in_a))}" '
            f'data-changed-b="{" ".join(map(str, in_b))}"></div>')


def contrast_page(a: SentenceRecord, b: SentenceRecord, catalog: Catalog, prefix: str = "../../") -> str:
    """Two sentences side by side: predictions, what to notice, most-changed heads,
    token scores on one scale per method (every method of ``catalog``), and what differs."""
    said, in_a, in_b = _token_diff(a, b)
    C = claims.Claim
    facts = []
    if said:
        facts.append(C("contrast-diff", "diff", "differs", f"The second sentence {', and '.join(said)}."))
    pa, pb = a.trained, b.trained
    if pa.predicted != pb.predicted:
        facts.append(C("contrast-verdict", "prediction", "flips",
                       f"The fine-tuned model's verdict flips: {pa.predicted} ({p_text(pa.confidence)}) "
                       f"for the first, {pb.predicted} ({p_text(pb.confidence)}) for the second."))
    else:
        facts.append(C("contrast-verdict", "prediction", "stays",
                       f"The fine-tuned model's verdict stays {pa.predicted} ({p_text(pa.confidence)}, "
                       f"then {p_text(pb.confidence)})."))
    for r, label in ((a, "first"), (b, "second")):
        if not r.trained.correct:
            facts.append(C("contrast-wrong", "prediction", "wrong", f"It is wrong on the {label} sentence (gold: {r.label})."))
    (la, ha, _), (lb, hb, _) = a.top_heads[0], b.top_heads[0]
    if (la, ha) == (lb, hb):
        facts.append(C("contrast-head", "head", "same", f"Fine-tuning changed the same head most in both: layer {la}, head {ha}."))
    else:
        facts.append(C("contrast-head", "head", "differs", f"The most changed head differs: layer {la}, head {ha} in the first, "
                       f"layer {lb}, head {hb} in the second."))
    facts += ig_moves(a, b)
    chance = all(claims.at_chance(r.untrained.logits) for r in (a, b))
    facts.append(C("contrast-untrained", "untrained", "chance" if chance else "leaning",
                   f"The {views.model_name('untrained')} " + ("stays at chance on both" if chance else "is never trained")
                   + f" (p(positive) {a.untrained.p_positive:.3f} and {b.untrained.p_positive:.3f})."))

    def column(r: SentenceRecord, changed: list[int]) -> str:
        items = "".join(f'<li>{views.esc(p.text)}</li>' for p in r.notice)
        heads = ", ".join(f'<a href="{prefix}{views.esc(r.slug)}/#{head_anchor(l, h)}">layer {l}, head {h}</a> '
                          f"({v:.3f})" for l, h, v in r.top_heads)
        marked = "".join(f"<mark>{views.esc(r.tokens[i])}</mark> " for i in changed)
        return (f'<div class="gallery-compare-col"><h3><a href="{prefix}{views.esc(r.slug)}/">'
                f'{views.esc(r.title)}</a></h3><p class="gallery-sentence" dir="auto">{views.esc(r.text)}</p>'
                f'<p>gold: <span class="gallery-label gallery-{views.esc(r.label)}">{views.esc(r.label)}</span>'
                + (f" · changed tokens: {marked}" if marked else "") + "</p>"
                f'<div class="gallery-scroll" tabindex="0" role="region" aria-label="predictions: {views.esc(r.title)}">'
                f'<table class="gallery-table"><tbody><tr><th>{views.esc(views.model_name("trained"))}</th>'
                f"{verdict_cell(r, 'trained')}</tr><tr><th>{views.esc(views.model_name('untrained'))}</th>"
                f"{verdict_cell(r, 'untrained')}</tr></tbody></table></div>"
                f"<h4>What to notice</h4><ul>{items}</ul><h4>Most changed heads</h4><p>{heads}</p></div>")

    rows, scales = [], {}
    for name, method in catalog.methods.items():
        sa = _class_scores(a, name) if method.signed else np.asarray(a.scores[name].scores, float)
        sb = _class_scores(b, name) if method.signed else np.asarray(b.scores[name].scores, float)
        muted_a, muted_b = np.array(a.special), np.array(b.special)
        scale = views.colour_scale([sa, sb], [muted_a, muted_b])
        scales[method.title] = (scale, method.unit, method.signed)
        rows.append(views.token_scores(a.tokens, sa, f"{method.title} (1st)", muted_a, scale.full, method.signed))
        rows.append(views.token_scores(b.tokens, sb, f"{method.title} (2nd)", muted_b, scale.full, method.signed))
    which = ("the head fine-tuning changed most in both sentences" if (la, ha) == (lb, hb)
             else "the head fine-tuning changed most in the first sentence")
    return f"""# {views.esc(a.title)} vs {views.esc(b.title)}

A contrast pair: two sentences that differ in a few words, with the same two models.

## What differs

<ul class="gallery-notice">{"".join(f.html("li") for f in facts)}</ul>

<div class="gallery-compare-cols">{column(a, in_a)}{column(b, in_b)}</div>

## The same head in both sentences

Layer {la}, head {ha} ({which}), in both models: the first sentence above, the second
below; the tokens that differ are marked in the columns above. Hover a token to see its lines.

{contrast_views(a, b, la, ha, in_a, in_b)}

## Token scores of the fine-tuned model

One colour scale per method across both sentences, so the same colour is the same
score in either row.

{views.attribution_legend(scales=scales)}

{"".join(rows)}
"""


# --- the guided lesson -------------------------------------------------------------

def _sentence_link(r: SentenceRecord, prefix: str = "../") -> str:
    return f'<a href="{prefix}{views.esc(r.slug)}/">{views.esc(r.title)}</a>'


def _head_link(r: SentenceRecord, l: int | None = None, h: int | None = None, prefix: str = "../") -> str:
    if l is None:
        l, h, _ = r.top_heads[0]
    return f'<a href="{prefix}{views.esc(r.slug)}/#{head_anchor(l, h)}">layer {l}, head {h}</a>'


def _common_head(rs: list[SentenceRecord]) -> tuple[tuple[int, int], list[SentenceRecord]]:
    """The head that is the most changed head of most of ``rs`` (ties: lowest), with them."""
    tops: dict[tuple[int, int], list[SentenceRecord]] = {}
    for r in rs:
        tops.setdefault(tuple(r.top_heads[0][:2]), []).append(r)
    return max(tops.items(), key=lambda kv: (len(kv[1]), -kv[0][0], -kv[0][1]))


def sink_step(rs: list[SentenceRecord]) -> claims.Claim:
    """The words' attention to [CLS] in the group's common most changed head, over
    all of the group's sentences (the records hold it for every head)."""
    (layer, head), _ = _common_head(rs)
    before = [r.sink.to_cls_untrained[layer][head] for r in rs]
    after = [r.sink.to_cls_trained[layer][head] for r in rs]
    return claims.group_sink_claim(layer, head, before, after)


def lesson_views(r: SentenceRecord, layer: int, head: int) -> str:
    """A placeholder the plugin fills with a small head view of each model on ``r``'s
    layer and head (``web/figures.py`` add_lesson_views: it reads the notebook)."""
    return (f'<div class="gallery-lesson-views" data-slug="{views.esc(r.slug)}" data-layer="{int(layer)}" '
            f'data-head="{int(head)}"></div>')


def clearest(rs: list[SentenceRecord], layer: int, head: int) -> SentenceRecord:
    """The sentence that shows a head's change of attention to [CLS] most clearly."""
    return max(rs, key=lambda r: (abs(r.sink.to_cls_trained[layer][head] - r.sink.to_cls_untrained[layer][head]),
                                  -rs.index(r)))


def evenness(r: SentenceRecord, method: str) -> float:
    """How evenly a method spreads its |score| over the sentence's words (claims.evenness)."""
    return claims.evenness([r.scores[method].scores[i] for i in r.words])


def contrast_step(rs: list[SentenceRecord]) -> claims.Claim | None:
    """In how many sentences with a conjunction IG's top token comes after it."""
    after, n = 0, 0
    for r in rs:
        at = next((i for i, t in enumerate(r.tokens) if t in CONJUNCTIONS), None)
        if at is None:
            continue
        n += 1
        scores = np.asarray(r.scores["ig"].scores, float)
        top = max(r.words, key=lambda i: (scores[i], -i))
        after += top > at
    if not n:
        return None
    return claims.Claim("lesson-contrast", "count", "all" if after == n else ("none" if not after else "some"),
                        f"{claims.in_sentences(after, n)}, Integrated Gradients' top token comes after "
                        "the conjunction." if after else
                        f"In none of these {n} sentences does Integrated Gradients' top token come after "
                        "the conjunction.", {"k": after, "n": n})


def _group_facts(rs: list[SentenceRecord]) -> str:
    right = sum(r.trained.correct for r in rs)
    (layer, head), members = _common_head(rs)
    text = (f"The fine-tuned model gets {right} of {len(rs)} right "
            f"({', '.join(f'{_sentence_link(r)} {claims.pct(r.trained.confidence)} {r.trained.predicted}' for r in rs)}).")
    if len(members) > 1:
        text += (f" Layer {layer}, head {head} is the most changed head in {len(members)} of them: "
                 f"open it in {_head_link(clearest(members, layer, head), layer, head)}.")
    else:
        text += " Their most changed heads: " + ", ".join(f"{_head_link(r)} in {views.esc(r.title)}" for r in rs) + "."
    return text
def lesson_page(records: list[SentenceRecord], entries: list[dict], pairs: list[tuple[str, str]],
                catalog: Catalog, findings: dict | None = None) -> str:
    by_slug = {r.slug: r for r in records}
    members: dict[str, list[SentenceRecord]] = {}
    for e in entries:
        if e["slug"] in by_slug:
            members.setdefault(e.get("group", ""), []).append(by_slug[e["slug"]])
    order = [g for g in LESSON_ORDER if g in members] + [g for g in groups(entries) if g not in LESSON_ORDER and g]
    parts = []
    for step, group in enumerate(order, 1):
        rs = members[group]
        intro = LESSON_ORDER.get(group, "")
        notes = "".join(f"<li>{_sentence_link(r)}: {views.esc(r.note)}</li>" for r in rs if r.note)
        pair_links = [p for p in pairs if p[0] in {r.slug for r in rs} or p[1] in {r.slug for r in rs}]
        compare = ""
        if pair_links:
            compare = "<p>Side by side: " + ", ".join(
                f'<a href="../{contrast_page_name(p)}/">{views.esc(by_slug[p[0]].title)} vs '
                f'{views.esc(by_slug[p[1]].title)}</a>' for p in pair_links if p[0] in by_slug and p[1] in by_slug) + ".</p>"
        said = [sink_step(rs)]
        if group == "contrast":
            said.append(contrast_step(rs))
        if group == "long":
            rest = [r for r in records if r not in rs]
            said += [claims.concentration_claim(method.title, [evenness(r, m) for r in rs],
                                                [evenness(r, m) for r in rest])
                     for m, method in catalog.methods.items()]
        said_html = "".join(c.html("li") for c in said if c is not None)
        if exercises.step_kind(step) == "head":  # its picture would give the answer away: shown with it
            l, h, _ = rs[0].top_heads[0]
            question, picture = exercises.step_question(step, rs[0], lesson_views(rs[0], l, h)), ""
        else:  # the head its claim is about, on the sentence that shows it best
            (l, h), _ = _common_head(rs)
            question, picture = exercises.step_question(step, rs[0]), lesson_views(clearest(rs, l, h), l, h)
        parts.append(f"## {step}. {views.esc(group[0].upper() + group[1:])}\n\n"
                     f"<p>{views.esc(intro)}</p>\n\n{question}\n\n<p class=\"gallery-step-facts\">{_group_facts(rs)}</p>\n\n"
                     f'<ul class="gallery-notice">{said_html}</ul>\n\n{picture}\n\n'
                     + compare + (f"<ul>{notes}</ul>\n" if notes else ""))
    wrong = [r for r in records if not r.trained.correct]
    if wrong:
        items = "".join(
            f"<li>{_sentence_link(r)} (gold {views.esc(r.label)}, predicted {views.esc(r.trained.predicted)} "
            f"at {claims.pct(r.trained.confidence)}): {views.esc(next((p.text for p in r.notice if p.kind == 'tokens'), ''))}</li>"
            for r in wrong)
        parts.append(f"## {len(order) + 1}. {WRONG[0].upper() + WRONG[1:]}\n\n"
                     "<p>A model that is right on most sentences is still wrong on some; its explanations "
                     "are then explanations of a mistake. For each, what its top tokens were:</p>\n\n"
                     f"<ul>{items}</ul>\n")
    n = len(records)
    right = sum(r.trained.correct for r in records)
    tasks = exercises.exercises(records, findings)
    return f"""# A guided lesson: what fine-tuning changed

A walk through the gallery in teaching order, one kind of sentence at a time, the plain
case first. Each step asks you to predict something before it shows the answer, then
links the sentences that show it and the head to open (a link to a head opens the
sentence's side-by-side comparison of the two models on that head). Over the whole set
the fine-tuned model gets {right} of {n} right; the other model is
{config.UNTRAINED_NAME}, whose verdicts are chance.

{chr(10).join(parts)}

## Exercises

<ol class="gallery-exercises">{"".join(tasks)}</ol>

## What we learned, and what is still uncertain

{exercises.summary(findings, n)}
"""


# --- the top of a sentence page -----------------------------------------------------

def at_a_glance(r: SentenceRecord) -> str:
    """Under a sentence page's title: the sentence, its gold label, both models'
    verdicts (the untrained one by the site's chance rule) and links to what to notice
    and to the side-by-side block: what a reader needs on the first screen of a phone."""
    t, u = r.trained, r.untrained
    untrained = (views.chance_mark(u.logits) if claims.at_chance(u.logits) else
                 f"leans {u.predicted} (margin {claims.margin(u.logits):.3f} logit; its head was never trained)")
    layer, head, _ = r.top_heads[0]
    return ('<div class="gallery-glance" role="note" aria-label="this sentence at a glance">'
            f'<p class="gallery-glance-text" dir="auto">“{views.esc(r.text)}”</p>'
            f'<p class="gallery-glance-verdicts">gold <strong class="gallery-label gallery-{views.esc(r.label)}">'
            f"{views.esc(r.label)}</strong> · {views.esc(views.model_name('trained'))}: "
            f"<strong>{views.esc(t.predicted)}</strong> ({p_text(t.confidence)}) "
            f'<span class="gallery-{"right" if t.correct else "wrong"}">{"✓ right" if t.correct else "✗ wrong"}</span>'
            f" · {views.esc(views.model_name('untrained'))}: {views.esc(untrained)}</p>"
            '<p class="gallery-glance-links"><a href="#what-to-notice">What to notice</a> · '
            f'<a href="#{head_anchor(layer, head)}">the head that changed most, side by side</a></p></div>')


# --- links on a sentence page ------------------------------------------------------

def sentence_links(slug: str, entries: list[dict], pairs: list[tuple[str, str]],
                   titles: dict[str, str]) -> str:
    """The box a sentence page gets under its title: its group on the overview and
    its contrast pages (from the sentence's folder, gallery/<slug>/)."""
    entry = next((e for e in entries if e["slug"] == slug), None)
    if entry is None:
        return ""
    links = []
    if entry.get("group"):
        links.append(f'Group: <a href="../#{group_anchor(entry["group"])}">{views.esc(entry["group"])}</a>')
    for p in pairs:
        if slug in p:
            other = p[1] if p[0] == slug else p[0]
            links.append(f'Compare with <a href="../{contrast_page_name(p)}/">{views.esc(titles.get(other, other))}</a> '
                         "side by side")
    links.append('<a href="../lesson/">The guided lesson</a>')
    return f'<p class="gallery-page-links">{" · ".join(links)}</p>'


HEAD_EXAMPLES = 5  # sentences listed per head on the heads page


def heads_to_sentences(records: list[SentenceRecord], prefix: str = "") -> str:
    """Every head, with the sentences of the whole set where it changed most (at most
    :data:`HEAD_EXAMPLES`, largest first; each link opens the sentence on that head) and
    how many sentences have it as their most changed head (a link to the overview's
    explorer, filtered to them): one row per head however large the set."""
    if not records:
        return ""
    change = np.asarray([r.head_change for r in records], dtype=np.float64)  # sentences x layers x heads
    top = {}
    for r in records:
        l, h, _ = r.top_heads[0]
        top[(l, h)] = top.get((l, h), 0) + 1
    rows = []
    for l in range(change.shape[1]):
        for h in range(change.shape[2]):
            best = np.argsort(-change[:, l, h], kind="stable")[:HEAD_EXAMPLES]
            n = top.get((l, h), 0)
            count = (f'<a href="{prefix}?head={l}-{h}&amp;sort=change">{n}</a>' if n else "0")
            rows.append(
                f'<tr id="{head_anchor(l, h)}"><td>layer {l}, head {h}</td><td>{count}</td><td>'
                + ", ".join(f'<a href="{prefix}{views.esc(records[i].slug)}/#{head_anchor(l, h)}">'
                            f'{views.esc(records[i].title)}</a> ({change[i, l, h]:.3f})' for i in best)
                + "</td></tr>")
    return ('<div class="gallery-scroll" tabindex="0" role="region" aria-label="heads and sentences">'
            '<table class="gallery-table"><thead><tr><th>head</th>'
            '<th>sentences where it is the most changed head (the overview, filtered)</th>'
            f'<th>the {HEAD_EXAMPLES} sentences where it changed most (each opens the sentence on that head)</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def run_it_yourself(slug: str, repo_url: str) -> str:
    """The end of a sentence page: the notebook to download (views saved in it) and
    how to install the project to re-run it."""
    url = views.esc(repo_url)
    return (f'<h2 id="run-it-yourself">Run it yourself</h2>'
            f'<p><a href="../{config.DOWNLOADS}/{views.esc(slug)}.ipynb" download>Download this notebook</a>: '
            "it opens with every view drawn (bertviz's own views, saved with their data; Jupyter "
            "may ask you to trust the notebook before it runs their scripts). To re-run it, or to "
            f'change the sentence in its first code cell, install the project from <a href="{url}">'
            f"its repository</a>:</p>"
            f'<pre><code>git clone {url}\ncd {views.esc(repo_url.rstrip("/").rsplit("/", 1)[-1])}\n'
            "python -m venv .venv &amp;&amp; . .venv/bin/activate\npip install -r requirements.txt -e . jupyterlab\n"
            "jupyter lab</code></pre>"
            "<p>It runs offline on a CPU: the default models come from PyPI and the repository.</p>")
