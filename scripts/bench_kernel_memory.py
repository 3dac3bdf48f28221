"""How a warm kernel's memory grows over many notebooks: `python scripts/bench_kernel_memory.py
[--n 60] [--no-trim] [--env KEY=VALUE ...]`.

Runs the first ``--n`` SST-2 dev sentences spread over the file (every k-th row, so all
lengths come) one after another in one warm kernel, as a gallery build does, and prints
the kernel's resident size (RSS) after each notebook, and a fit of its growth over the
second half (MB a notebook). A build's kernel asks glibc to hand freed heap back before
each notebook (``WarmKernel.TRIM``, ``malloc_trim(0)``); ``--no-trim`` runs without it,
for the comparison; ``--env`` sets the kernel's environment (e.g.
``MALLOC_MMAP_THRESHOLD_=65536``). Long: about 5 s a notebook. Not a test."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from attention_gallery import config  # noqa: E402
from attention_gallery.build import notebook  # noqa: E402
from attention_gallery.build.execute import WarmKernel  # noqa: E402
from attention_gallery.build.runs import Run  # noqa: E402
from attention_gallery.build.sentences import Sentence  # noqa: E402
from attention_gallery.labelled import read_tsv  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--no-trim", action="store_true", help="without the kernel's malloc_trim before each notebook")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--pair", default=config.DEFAULT_PAIR)
    args = ap.parse_args()
    rows = read_tsv(config.SST2_DEV)
    step = max(1, len(rows) // args.n)
    picked = rows[::step][: args.n]
    template = notebook.read_template()
    env = dict(kv.split("=", 1) for kv in args.env)
    rss = []
    with Run() as run, WarmKernel(run.connection_file(0), env=env, trim_memory=not args.no_trim) as kernel:
        proc = psutil.Process(kernel.km.provisioner.pid)
        for i, (label, text) in enumerate(picked):
            s = Sentence(slug=f"mem-{i:04d}", text=text, label=("negative", "positive")[label])
            nb = notebook.parameterize(template, notebook.parameters(s, args.pair))
            t = time.perf_counter()
            kernel.run(nb)
            rss.append(proc.memory_info().rss / 2**20)
            print(f"{i + 1:4d}  {len(text.split()):3d} words  {time.perf_counter() - t:5.1f} s  RSS {rss[-1]:7.0f} MB",
                  flush=True)
    half = rss[len(rss) // 2:]
    xs = list(range(len(rss) // 2, len(rss)))
    slope = statistics.linear_regression(xs, half).slope if len(half) > 2 else float("nan")
    label = ("without malloc_trim" if args.no_trim else "as built (malloc_trim)") + (" " + " ".join(args.env) if args.env else "")
    print(f"[{label}] after {len(rss)} notebooks: RSS {rss[-1]:.0f} MB (first {rss[0]:.0f} MB, peak {max(rss):.0f} MB); "
          f"growth over the second half {slope:+.1f} MB a notebook")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
