#!/usr/bin/env python
"""The findings stage on its own: measure SST-2 dev (or a labelled TSV), print each
card's verdict and numbers, the time it took and the peak memory.

    python scripts/findings.py                     # all of SST-2 dev, cached like the build's
    python scripts/findings.py --limit 50          # its first 50 sentences
    python scripts/findings.py --set my.tsv        # another label<TAB>sentence file

The build runs the same stage (cached by content, so a build after this computes
nothing). A file that is not a labelled set is refused in one line, exit 2.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    from attention_gallery import config
    from attention_gallery.build.sentences import SentenceSetError, load_sentences
    from attention_gallery.findings import stage
    from attention_gallery.labelled import LabelledSetError
    from attention_gallery.pairs import get_pair

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", type=Path, default=None, help="a label<TAB>sentence TSV (default: SST-2 dev)")
    ap.add_argument("--limit", type=int, default=None, help="its first N sentences")
    ap.add_argument("--pair", default=config.DEFAULT_PAIR)
    ap.add_argument("--sentences", type=Path, default=config.SENTENCES_FILE, help="the gallery's sentence set")
    ap.add_argument("--cache", type=Path, default=config.CACHE_DIR)
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        print(f"error: --limit must be at least 1, not {args.limit}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        spec = get_pair(args.pair)
        sentences = load_sentences(args.sentences)
        found = stage.findings(spec, sentences, args.cache, set_path=args.set, limit=args.limit)
    except (LabelledSetError, SentenceSetError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s = found["set"]
    print(f"findings on {s['name']} ({s['n']} sentences, mean {s['tokens_mean']} tokens)"
          + (f" and {found['gallery']['name']} ({found['gallery']['n']})" if found["gallery"] else ""))
    for card in found["cards"]:
        ci = card["ci95"]
        print(f"- {card['id']}: {card['verdict_words']}. {card['text']} "
              f"[value {card['value']}" + (f", 95% {ci[0]} to {ci[1]}" if ci else "") + "]")
    print(f"{seconds:.1f} s (measuring: {found['seconds']}), peak memory {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
