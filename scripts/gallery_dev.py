#!/usr/bin/env python
"""Build the dev-set gallery: every sentence of SST-2 dev as a page (``make gallery-dev``).

    python scripts/gallery_dev.py                      # all 872 sentences, 2 shard processes -> site-dev/
    python scripts/gallery_dev.py --jobs 4 --limit 40  # the first 40, 4 shards side by side

It writes the sentence set (``build/devset.py``) into the cache folder, executes it as
``--jobs`` shards side by side (``build_gallery.py --shard K/N``, one warm kernel
each) into one cache, then publishes it with ``--cached-only``: the way CI's matrix
builds it, on one machine. Every step is one line of progress; a refusal is one line
and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "scripts" / "build_gallery.py"


def main(argv=None) -> int:
    from attention_gallery import config
    from attention_gallery.build.devset import write_dev_set
    from attention_gallery.labelled import LabelledSetError

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev", type=Path, default=config.SST2_DEV, help="SST-2 dev TSV (default: ../shared/data/sst2/dev.tsv)")
    ap.add_argument("--limit", type=int, default=None, help="only the first LIMIT sentences")
    ap.add_argument("--jobs", type=int, default=2, help="shard processes side by side (default 2)")
    ap.add_argument("--out", default=str(REPO / "site-dev"), help="where the site goes (default: site-dev/)")
    ap.add_argument("--cache", default=str(config.CACHE_DIR), help="cache of executed notebooks")
    ap.add_argument("--pair", default=config.DEFAULT_PAIR)
    ap.add_argument("--cached-only", action="store_true",
                    help="execute nothing: publish from the cache (CI's merge job, after the shards)")
    ap.add_argument("--timings", type=Path, default=None, metavar="DIR",
                    help="each shard writes its notebooks' kernel times to DIR/shard-K.json (scripts/bench_overview.py)")
    ap.add_argument("--shard", default=None, metavar="K/N",
                    help="execute only shard K of N into the cache, no site (one CI matrix job)")
    args = ap.parse_args(argv)
    if args.jobs < 1 or (args.limit is not None and args.limit < 1):
        print("error: --jobs and --limit must be at least 1, e.g. --jobs 2", file=sys.stderr)
        return 2
    name = "sst2-dev.yaml" if args.limit is None else f"sst2-dev-{args.limit}.yaml"
    try:
        sentences = write_dev_set(Path(args.cache).parent / "dev" / name, args.dev, args.limit)
    except LabelledSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write the dev set beside {args.cache}: {exc.strerror}", file=sys.stderr)
        return 2
    common = ["--sentences", str(sentences), "--pair", args.pair, "--cache", args.cache]
    start = time.perf_counter()
    if args.shard:
        return subprocess.call([sys.executable, str(BUILD), *common, "--shard", args.shard, "--quiet"])
    if args.cached_only:
        return subprocess.call([sys.executable, str(BUILD), *common, "--out", args.out, "--cached-only"])
    if args.timings:
        args.timings.mkdir(parents=True, exist_ok=True)
    shards = [subprocess.Popen([sys.executable, str(BUILD), *common, "--shard", f"{k}/{args.jobs}",
                                "--jobs", "1", "--quiet",
                                *(["--timings", str(args.timings / f"shard-{k}.json")] if args.timings else [])])
              for k in range(1, args.jobs + 1)]

    def stop(signum, frame):
        for p in shards:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        codes = [p.wait() for p in shards]
    except KeyboardInterrupt:
        for p in shards:
            p.wait()
        print("interrupted: finished sentences are cached; the site was not changed", file=sys.stderr)
        return 130
    executed = time.perf_counter() - start
    failed = [f"{k}/{args.jobs} (exit {c})" for k, c in enumerate(codes, start=1) if c]
    if failed:
        print(f"error: shard(s) {', '.join(failed)} failed (their lines above say why); what they "
              "finished is cached; the site was not built", file=sys.stderr)
        return 2
    print(f"executed {args.jobs} shard(s) in {executed:.1f} s", flush=True)
    code = subprocess.call([sys.executable, str(BUILD), *common, "--out", args.out, "--cached-only"])
    if code == 0:
        print(f"dev-set gallery built in {time.perf_counter() - start:.1f} s in all", flush=True)
    return code


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
