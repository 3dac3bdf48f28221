#!/usr/bin/env python
"""Build the gallery: execute the parameterised notebook for every sentence of a
sentence set and publish the executed notebooks as a MkDocs site.

    python scripts/build_gallery.py                                  # default pair and sentence set -> site/
    python scripts/build_gallery.py --sentences my.yaml --out my-site/
    python scripts/build_gallery.py --pair distilbert-imdb           # needs the hub or its cache

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
    args = ap.parse_args(argv)

    from attention_gallery.gallery.assets import AssetError
    from attention_gallery.gallery.build import BuildError, BuildInterrupted, build
    from attention_gallery.models import ModelUnavailableError
    from attention_gallery.gallery.outdir import Refusal
    from attention_gallery.pairs import PairsFileError, UnknownPairError
    from attention_gallery.gallery.runs import Busy
    from attention_gallery.gallery.sentences import SentenceSetError

    def terminate(signum, frame):  # `kill` stops the build as Ctrl-C does: kernels closed, site kept
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    try:
        report = build(args.sentences, args.pair, args.out, args.cache, quiet=args.quiet,
                       progress=not args.quiet, template=args.template, jobs=args.jobs)
    except BuildInterrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return 130
    except (SentenceSetError, UnknownPairError, PairsFileError, ModelUnavailableError, AssetError,
            Refusal, Busy, BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the site was not changed; finished sentences are cached", file=sys.stderr)
        return 130
    n = len(report.executed) + len(report.cached)
    print(f"built {n} sentence pages ({len(report.executed)} executed, {len(report.cached)} from the cache) "
          f"in {report.seconds_total:.1f} s; mkdocs {report.mkdocs_seconds:.1f} s")
    print(f"site: {report.site_dir}")
    print(f"open {report.site_dir / 'index.html'} or run: make serve  (http://127.0.0.1:8000/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
