#!/usr/bin/env python
"""Where a sentence's time goes: each notebook cell's CPU time in one process, one
torch thread (as in the build's kernels), on sentences of the default set and of
SST-2 dev. The notebook's cells are the stages (notebooks/sentence.ipynb): the
kernel's work is lazy, so a cell's time is what it is the first to need (the
deletion test and its random baseline are computed by "What to notice", the first
cell that states a faithfulness verdict), so the lazy parts are timed first, one by
one, in the order the page needs them, and the cells after them).

    python scripts/bench_stages.py --n 8          # 8 sentences of each set; prints JSON

Used by ``scripts/bench_overview.py --write`` for the Performance page's table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

os.environ["OMP_NUM_THREADS"] = "1"
ROOT = Path(__file__).resolve().parents[1]

def _random_baseline(page, ex):
    from attention_gallery.explain.faithfulness import random_expectation

    random_expectation(ex.run.trained)  # its variants are kept: the deletion test below reuses none twice


CELLS = [("encode and run both models", lambda page, ex: None),
         ("head change, sinks (weights and norms)", lambda page, ex: (ex.head_change, ex.head_change_norms, ex.sink)),
         ("per-layer change: direct and inherited (hybrid models)", lambda page, ex: ex.layer_change),
         ("training timeline (every checkpoint)", lambda page, ex: ex.timeline),
         ("attributions (IG, rollout, raw, leave-one-out; both models)", lambda page, ex: ex.attributions),
         ("untrained head's seeds", lambda page, ex: ex.seed_p_positive),
         ("deletion test: random baseline (exact subsets, 200 drawn orders)", _random_baseline),
         ("deletion test: each method's ranking", lambda page, ex: ex.deletion),
         ("sentence card", lambda page, ex: page.show_sentence(ex)),
         ("what to notice", lambda page, ex: page.show_notice(ex)),
         ("predictions and the untrained head's seeds", lambda page, ex: page.show_predictions(ex)),
         ("side-by-side block", lambda page, ex: page.compare(ex)),
         ("model views", lambda page, ex: (page.model_view(ex, "trained", "untrained"),
                                          page.model_view(ex, "gained", "lost"))),
         ("head change", lambda page, ex: page.show_head_change(ex)),
         ("attributions", lambda page, ex: page.show_attributions(ex)),
         ("faithfulness", lambda page, ex: page.show_faithfulness(ex)),
         ("record (per-layer change, timeline, seeds ...)", lambda page, ex: page.record(ex))]


def profile(rows, pair: str) -> dict:
    import torch

    from attention_gallery.explain import page

    torch.set_num_threads(1)
    per = {name: [] for name, _ in CELLS}
    tokens = []
    with mock.patch.object(page, "display", lambda *a, **k: None):
        for i, (label, text) in enumerate([("positive", "A good film")] + rows):  # the first: imports, models
            start = time.process_time()
            ex = page.explain(text, label, pair=pair, slug="x", title="x", mode="gallery")
            times = {CELLS[0][0]: time.process_time() - start}
            for name, cell in CELLS[1:]:
                start = time.process_time()
                cell(page, ex)
                times[name] = time.process_time() - start
            if i:
                tokens.append(len(ex.sentence.tokens))
                for name, t in times.items():
                    per[name].append(t)
    total = [sum(v[i] for v in per.values()) for i in range(len(tokens))]
    return {"n": len(tokens), "tokens_mean": round(statistics.mean(tokens), 1),
            "tokens": tokens, "total_s": [round(t, 3) for t in total],
            "per_sentence_s": round(statistics.mean(total), 3),
            "stages_s": {name: round(statistics.mean(v), 3) for name, v in per.items()}}


def sets(n: int) -> dict:
    import yaml

    from attention_gallery import config
    from attention_gallery.labelled import read_tsv

    gallery = yaml.safe_load(config.SENTENCES_FILE.read_text(encoding="utf-8"))["sentences"]
    out = {"default set": [(s["label"], s["text"]) for s in gallery[:n]]}
    if config.SST2_DEV.is_file():
        dev = read_tsv(config.SST2_DEV)
        step = max(1, len(dev) // n)  # spread over the file, not its first rows
        out["SST-2 dev"] = [(config.LABELS[label], text) for label, text in dev[::step][:n]]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=8, help="sentences of each set")
    ap.add_argument("--pair", default="minilm-sst2")
    args = ap.parse_args(argv)
    print(json.dumps({name: profile(rows, args.pair) for name, rows in sets(args.n).items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
