"""A held-out slice of the training file for choosing the recipe, without leaks.

SST-2's training file holds the treebank's full sentences *and* their sub-phrases
(67,349 rows from about 6,900 sentences), so a random slice of rows leaks: the
phrases of a held-out sentence are still in training. Here the slice is whole
full-sentence rows (rows whose text is no word-boundary sub-phrase of another row's
text), drawn with a seed, and every row whose text is a contiguous word span of a
held-out text (the held-out rows themselves included) leaves the training side.
SST-2 dev is never used to choose: only to report.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict

FRACTION = 0.025  # of the file's rows; drawn from the full-sentence rows
SEED = 0


def _spans(words: list[str]):
    n = len(words)
    for a in range(n):
        for b in range(a + 1, n + 1):
            yield " ".join(words[a:b])


def full_sentence_rows(rows) -> list[int]:
    """Indices of the rows whose text is not a contiguous word span of another row's
    text (words = whitespace tokens: SST-2 is tokenised), in file order."""
    texts = {t for _, t in rows}
    inside = set()
    for t in texts:
        words = t.split()
        for span in _spans(words):
            if span != t and span in texts:
                inside.add(span)
    return [i for i, (_, t) in enumerate(rows) if t not in inside]


def split(rows, fraction: float = FRACTION, seed: int = SEED):
    """(train_rows, heldout_rows, definition): ``round(fraction * len(rows))`` distinct
    full-sentence texts drawn by ``random.Random(seed)``; training drops every row
    whose text is a sub-phrase (word-boundary substring, or equal) of one of them."""
    full = full_sentence_rows(rows)
    by_text = {}
    for i in full:
        by_text.setdefault(rows[i][1], i)
    candidates = sorted(by_text.values())
    n = round(fraction * len(rows))
    held = sorted(random.Random(seed).sample(candidates, n))
    rows_of = defaultdict(list)
    for i, (_, t) in enumerate(rows):
        rows_of[t].append(i)
    dropped = set()
    for i in held:
        for span in _spans(rows[i][1].split()):
            dropped.update(rows_of.get(span, ()))
    heldout = [rows[i] for i in held]
    train = [r for i, r in enumerate(rows) if i not in dropped]
    digest = hashlib.sha256("\n".join(t for _, t in heldout).encode()).hexdigest()
    definition = {
        "rule": ("full-sentence rows (text not a word-boundary sub-phrase of any other row) "
                 f"sampled with random.Random({seed}).sample over their distinct texts in file "
                 f"order, {n} = round({fraction} x {len(rows)} rows); training drops every row "
                 "whose text is a contiguous word span of a held-out text (held-out rows included)"),
        "fraction_of_rows": fraction,
        "seed": seed,
        "full_sentence_rows": len(full),
        "heldout_rows": len(heldout),
        "heldout_line_numbers": [i + 2 for i in held],  # 1-based, after the header row
        "heldout_positive_fraction": round(sum(y for y, _ in heldout) / len(heldout), 4),
        "dropped_from_training": len(dropped),
        "training_rows_left": len(train),
        "heldout_texts_sha256": digest,
    }
    return train, heldout, definition
