#!/usr/bin/env python
"""Cold-build cost per sentence of this checkout against another commit, in one run.

    python scripts/bench_against.py --rev dba2e04 --rounds 5     # the first 12 sentences of the gallery

Checks the commit out into a temporary git worktree, then builds the same sentences
cold (a new cache and site each time) with each side in turn, ROUNDS times,
interleaved so that a busy machine slows both alike. Each build runs in a process of
its own with PYTHONPATH on its side's checkout, so its kernels import that side's
code. The cost of a sentence is its kernel's CPU time (the first notebook of each
kernel, which loads the models, left out), averaged over the set. Prints each
round, the medians and their ratio (this checkout / the other), and the spread of
the per-round ratios: the noise a ratio must clear to mean anything.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

ONE_BUILD = r"""
import json, statistics, sys
root, sentences, out, cache = sys.argv[1:5]
import attention_gallery
assert attention_gallery.__file__.startswith(root), attention_gallery.__file__
try:
    from attention_gallery.build.build import build
except ImportError:  # a checkout from before build/ and web/ (the build lived in gallery/)
    from attention_gallery.gallery.build import build
r = build(sentences, "minilm-sst2", out, cache, quiet=True, progress=False)
cpu = [t.cpu for t in r.timings.values() if not t.first and t.cpu is not None]
print(json.dumps({"mean": statistics.mean(cpu), "n": len(cpu)}))
"""


def _worktree(rev: str, where: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", "-f", str(where), rev], cwd=ROOT, check=True,
                   capture_output=True)
    plugin = where / "attention_gallery" / "web" / "plugin.py"
    if not plugin.exists():  # the installed MkDocs entry point names web.plugin (this checkout's layout)
        plugin.parent.mkdir(parents=True, exist_ok=True)
        (plugin.parent / "__init__.py").touch()
        plugin.write_text("from attention_gallery.gallery.plugin import GalleryPlugin  # noqa: F401\n")
    if not (where / "node_modules").exists() and (ROOT / "node_modules").exists():
        (where / "node_modules").symlink_to(ROOT / "node_modules")
    return where


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rev", required=True, help="the commit to compare with (e.g. the last landed main)")
    ap.add_argument("--n", type=int, default=12, help="the first N sentences of sentences/gallery.yaml")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-against-") as tmp:
        tmp = Path(tmp)
        other = _worktree(args.rev, tmp / "other")
        doc = yaml.safe_load((ROOT / "sentences" / "gallery.yaml").read_text(encoding="utf-8"))
        entries = [{k: v for k, v in e.items() if k != "contrast"} for e in doc["sentences"][: args.n]]
        sentences = tmp / "sentences.yaml"
        sentences.write_text(yaml.safe_dump({"sentences": entries}, sort_keys=False, allow_unicode=True))
        got: dict[str, list[float]] = {"other": [], "this": []}
        env = {**os.environ, "ATTENTION_GALLERY_FINDINGS_LIMIT": "8"}  # the findings run outside the kernels
        try:
            for k in range(args.rounds):
                for side, root in (("other", other), ("this", ROOT)):
                    out = subprocess.run([sys.executable, "-c", ONE_BUILD, str(root), str(sentences),
                                          str(tmp / f"site-{side}-{k}"), str(tmp / f"cache-{side}-{k}")],
                                         env={**env, "PYTHONPATH": str(root)}, capture_output=True, text=True,
                                         cwd=root)
                    if out.returncode:
                        print(out.stderr[-3000:], file=sys.stderr)
                        return 1
                    got[side].append(json.loads(out.stdout.strip().splitlines()[-1])["mean"])
                print(f"round {k + 1}: {args.rev} {got['other'][-1]:.3f} s, this {got['this'][-1]:.3f} s "
                      "CPU per sentence", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, capture_output=True)
    ratios = [t / o for t, o in zip(got["this"], got["other"])]
    print(f"median CPU per sentence: {args.rev} {statistics.median(got['other']):.3f} s, "
          f"this {statistics.median(got['this']):.3f} s; ratio of medians "
          f"{statistics.median(got['this']) / statistics.median(got['other']):.3f}; per-round ratios "
          f"{min(ratios):.2f}-{max(ratios):.2f} ({args.rounds} interleaved rounds of {args.n} cold sentences)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
