#!/usr/bin/env python
"""Build the gallery: execute the parameterised notebook for every sentence of a
sentence set and publish the executed notebooks as a MkDocs site.

    python scripts/build_gallery.py                                  # default pair and sentence set -> site/
    python scripts/build_gallery.py --sentences my.yaml --out my-site/
    python scripts/build_gallery.py --pair distilbert-imdb           # needs the hub or its cache
    python scripts/build_gallery.py --watch --port 8000              # make watch: serve, rebuild on save
    python scripts/build_gallery.py --shard 2/4                      # CI: execute shard 2 of 4 into the cache
    python scripts/build_gallery.py --cached-only                    # CI: publish the merged caches, run nothing

Unchanged sentences come from the cache (.cache/gallery); the site is replaced only
when the whole build succeeded.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv=None) -> int:
    from attention_gallery import config

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=Path, default=config.SENTENCES_FILE, help="sentence set (YAML)")
    ap.add_argument("--pair", default=config.DEFAULT_PAIR, help="model pair slug (see attention_gallery/pairs.yaml)")
    ap.add_argument("--out", default=str(config.SITE_DIR),
                    help="where the built site goes (default: site/); a new or empty folder, or one "
                         "an earlier build made: the build never replaces anything else")
    ap.add_argument("--cache", default=str(config.CACHE_DIR), help="cache of executed notebooks")
    ap.add_argument("--template", type=Path, default=config.TEMPLATE, help="parameterised notebook template")
    ap.add_argument("--jobs", type=int, default=None, help="warm kernels in parallel (default: one per core)")
    ap.add_argument("--quiet", action="store_true", help="no progress bar or mkdocs log")
    ap.add_argument("--watch", action="store_true",
                    help="keep the kernels warm, serve the site and rebuild what changed whenever the "
                         "sentence file or the template is saved (Ctrl-C stops)")
    ap.add_argument("--port", type=int, default=8000, help="with --watch: serve on 127.0.0.1:PORT")
    ap.add_argument("--timings", type=Path, default=None,
                    help="write each executed notebook's kernel time here (JSON; scripts/bench.py)")
    ap.add_argument("--shard", default=None, metavar="K/N",
                    help="execute only shard K of N (balanced by token count) into the cache and stop "
                         "before the site; merge the shards' caches and build with --cached-only")
    ap.add_argument("--cached-only", action="store_true",
                    help="execute nothing: publish the site from the cache, naming the sentences it "
                         "lacks instead (the merge job of a sharded build)")
    args = ap.parse_args(argv)
    if args.watch and args.timings:
        ap.error("--timings is for a build, not --watch")
    if args.shard is not None and (args.watch or args.cached_only):
        ap.error("--shard executes into the cache only: not with --watch or --cached-only")
    if not 1 <= args.port <= 65535:
        print(f"error: --port {args.port} is not a port: give a number from 1 to 65535, e.g. --port 8001",
              file=sys.stderr)
        return 2

    from attention_gallery.build.assets import AssetError
    from attention_gallery.build.build import BuildError, build
    from attention_gallery.build.outdir import Refusal
    from attention_gallery.build.runs import Busy
    from attention_gallery.build.sentences import SentenceSetError
    from attention_gallery.build.serve import PortBusy
    from attention_gallery.build.shards import ShardSpecError, parse_shard
    from attention_gallery.models import ModelUnavailableError
    from attention_gallery.pairs import PairsFileError, UnknownPairError

    def terminate(signum, frame):  # `kill` stops the build as Ctrl-C does: kernels closed, site kept
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    refusals = (SentenceSetError, UnknownPairError, PairsFileError, ModelUnavailableError, AssetError,
                Refusal, Busy, BuildError)
    if args.watch:
        return _watch(args, refusals + (PortBusy,))
    if args.shard is not None:
        return _shard(args, parse_shard, refusals + (ShardSpecError,))
    report, code = _guarded(lambda: build(args.sentences, args.pair, args.out, args.cache, quiet=args.quiet,
                                          progress=not args.quiet, template=args.template, jobs=args.jobs,
                                          cached_only=args.cached_only),
                            refusals, "interrupted: the site was not changed; finished sentences are cached")
    if report is None:
        return code
    if args.timings:
        try:
            write_timings(args.timings, report)
        except OSError as exc:
            from attention_gallery.errors import disk_error

            print(f"error: {disk_error(exc, 'cannot write the timings to', f'the site in {report.site_dir} was built', args.timings)}",
                  file=sys.stderr)
            return 2
    n = len(report.executed) + len(report.cached)
    if report.up_to_date:
        print(f"up to date: {n} sentence pages, all from the cache, and nothing MkDocs reads changed "
              f"({report.seconds_total:.1f} s); site: {report.site_dir}")
        return 0
    print(f"built {n} sentence pages ({len(report.executed)} executed, {len(report.cached)} from the cache) "
          f"in {report.seconds_total:.1f} s; mkdocs {report.mkdocs_seconds:.1f} s")
    print(f"site: {report.site_dir}")
    print(f"open {report.site_dir / 'index.html'} or run: make serve  (http://127.0.0.1:8000/)")
    return 0



def _guarded(step, refusals, interrupted: str):
    """``(step(), None)``, or ``(None, exit code)`` once what stopped it is said in one
    line: an interrupt (130) or a refusal (2); never a traceback."""
    from attention_gallery.build.build import BuildInterrupted

    try:
        return step(), None
    except BuildInterrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return None, 130
    except refusals as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None, 2
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return None, 130


def _shard(args, parse_shard, refusals) -> int:
    """``--shard K/N``: execute this shard's sentences into the cache; no site."""
    from attention_gallery.build.build import execute_shard

    report, code = _guarded(lambda: execute_shard(args.sentences, args.pair, args.cache, parse_shard(args.shard),
                                                  quiet=args.quiet, progress=not args.quiet,
                                                  template=args.template, jobs=args.jobs),
                            refusals, "interrupted: finished sentences are cached")
    if report is None:
        return code
    if args.timings:
        write_timings(args.timings, report)
    print(f"shard {args.shard.strip()}: {len(report.executed) + len(report.cached)} sentences "
          f"({len(report.executed)} executed, {len(report.cached)} from the cache) in "
          f"{report.seconds_total:.1f} s; cache: {args.cache}")
    return 0


def _watch(args, refusals) -> int:
    """``--watch``: refusals before anything runs are one line (exit 2); Ctrl-C is the
    way to stop, so it exits 0 once the kernels are down."""
    from attention_gallery.build.build import BuildInterrupted
    from attention_gallery.build.watch import watch

    try:
        watch(args.sentences, args.pair, args.out, args.cache, template=args.template, port=args.port,
              jobs=args.jobs)
    except BuildInterrupted as exc:
        print(f"stopped: {exc}", file=sys.stderr)
        return 130
    except refusals as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stopped: kernels shut down; the last good site stays in {args.out}", file=sys.stderr)
    return 0


def write_timings(path: Path, report) -> None:
    """Each executed sentence's kernel time (:class:`~attention_gallery.build.execute.Timing`)
    and how many kernels ran side by side: what ``scripts/bench.py`` measures a
    sentence's cost by."""
    import json

    path.write_text(json.dumps({"jobs": report.jobs, "notebooks": {
        slug: {"seconds": t.seconds, "cpu": t.cpu, "first": t.first, "finished": t.finished}
        for slug, t in report.timings.items()}}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
