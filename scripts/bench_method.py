#!/usr/bin/env python
"""What one registered explanation method costs a sentence, measured in one run.

    python scripts/bench_method.py --method norms --n 12 --repeats 3

Runs the kernel's whole computation of a sentence page (both models, every method,
the deletion test, what to notice: everything the record holds) on the first N
sentences of the gallery's set, with the method registered and without it, the two
interleaved REPEATS times in one process on one thread (for ``norms``, a third: with
what its views' weights / norms switch adds to a page, the norms blob, its file and
the head-change map on norms). Prints the CPU time per
sentence of each (each repeat and the median) and the ratio of the medians. The
spread of the repeats is the noise: a ratio within it is no cost one can measure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--method", default="norms", help="a name in attention_gallery.explain.methods.REGISTRY")
    ap.add_argument("--n", type=int, default=12, help="sentences of sentences/gallery.yaml")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import torch
    import yaml

    from attention_gallery.explain import methods, views
    from attention_gallery.explain.encode import encode
    from attention_gallery.explain.forward import run_sentence
    from attention_gallery.explain.page import Explanation, build_record
    from attention_gallery.models import load_pair

    if args.method not in methods.REGISTRY:
        print(f"error: no method {args.method!r} (registered: {', '.join(methods.REGISTRY)})", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    pair = load_pair()
    entries = yaml.safe_load((ROOT / "sentences" / "gallery.yaml").read_text("utf-8"))["sentences"][: args.n]
    everything = dict(methods.REGISTRY)
    without = {k: m for k, m in everything.items() if k != args.method}

    def per_sentence(registry: dict, norm_views: bool = False) -> float:
        methods.REGISTRY.clear()
        methods.REGISTRY.update(registry)
        start = time.process_time()
        for e in entries:
            s = encode(pair.tokenizer, e["text"])
            ex = Explanation(pair, s, run_sentence(pair, s), e["slug"], e["text"], e["label"], "", "gallery")
            build_record(ex)
            if norm_views:  # what the page adds for the weights / norms switch: the blob, its file, the map
                norms = views.norms_payload(s.tokens, ex.run.trained.norm_attention, ex.run.untrained.norm_attention)
                views.norms_file(ex.source_id, norms)
                views.norms_script(ex.source_id, norms)
                ex.head_change_norms
        return (time.process_time() - start) / len(entries)

    try:
        per_sentence(everything)  # warm: the first sentence loads what the others reuse
        got = {"with": [], "without": []}
        if args.method == "norms":
            got["with + views"] = []
        for _ in range(args.repeats):
            got["without"].append(per_sentence(without))
            got["with"].append(per_sentence(everything))
            if "with + views" in got:
                got["with + views"].append(per_sentence(everything, norm_views=True))
    finally:
        methods.REGISTRY.clear()
        methods.REGISTRY.update(everything)
    for name, values in got.items():
        print(f"{name:>8} {args.method}: {', '.join(f'{v:.3f}' for v in values)} s CPU per sentence; "
              f"median {statistics.median(values):.3f}")
    print(f"ratio (with / without): {statistics.median(got['with']) / statistics.median(got['without']):.3f} "
          f"on {len(entries)} sentences, {args.repeats} interleaved repeats, one thread")
    if "with + views" in got:
        print(f"ratio (with the method and its views' switch / without): "
              f"{statistics.median(got['with + views']) / statistics.median(got['without']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
