#!/usr/bin/env python
"""Benchmark the gallery build against the obvious one, in one run.

    python scripts/bench.py --n 12            # make bench N=12
    python scripts/bench.py --scale 500       # 500 generated sentences: memory and growth

Phases, all on the same N sentences of the gallery's set and the default pair:
  baseline   papermill, one fresh kernel per sentence, same template, no cache
  cold       scripts/build_gallery.py with an empty cache (and the same for a few
             sentences, to get the marginal cost per sentence after the one-time start)
  noop       the same build again, nothing changed
  change1    one sentence edited
Prints a table, writes it to docs/performance.md, ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

from attention_gallery import config
from attention_gallery.build import title_of

REPO = config.REPO_ROOT


class PeakRSS:
    """Peak resident memory of a process tree, sampled every 50 ms."""

    def __init__(self, pid: int):
        self.proc, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass
            self._stop.wait(0.05)

    def stop(self) -> int:
        self._stop.set()
        self.thread.join()
        return self.peak


def run_build(sentences: Path, out: Path, cache: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "scripts/build_gallery.py", "--sentences", str(sentences),
                             "--out", str(out), "--cache", str(cache), "--quiet"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = PeakRSS(proc.pid)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    rss = peak.stop()
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{stderr}")
    return seconds, rss


def run_baseline(rows: list[dict], work: Path) -> list[float]:
    """One papermill run (fresh kernel: imports, model loading, everything) per sentence."""
    import papermill as pm

    os.environ["ATTENTION_GALLERY_BUILD"] = "1"
    times = []
    saved = os.dup(2)  # the kernels' own start-up chatter goes to /dev/null
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        return _baseline_runs(rows, work, pm, times)
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def _baseline_runs(rows, work, pm, times):
    for row in rows:
        start = time.perf_counter()
        pm.execute_notebook(str(config.TEMPLATE), str(work / f"{row['slug']}.ipynb"), progress_bar=False,
                            parameters={"text": row["text"], "label": row["label"], "note": row.get("note", ""),
                                        "pair": config.DEFAULT_PAIR, "slug": row["slug"]}, log_output=False)
        times.append(time.perf_counter() - start)
    return times


def generated(n: int) -> list[dict]:
    """n distinct sentences combined from phrases (for the scale run)."""
    subjects = ["The movie", "This film", "The sequel", "The plot", "The acting", "The ending",
                "The soundtrack", "The script", "The director's cut", "The cast"]
    verbs = ["was", "was not", "was never", "was really", "was hardly", "felt", "seemed", "was not quite"]
    objects = ["good", "bad", "boring", "brilliant", "dull", "moving", "a mess", "worth it", "fun", "painful"]
    tails = ["", ", but I liked it", ", yet nobody cared", " at all", ", highly recommend", ", avoid it"]
    rows, i = [], 0
    for t in tails:
        for o in objects:
            for v in verbs:
                for s in subjects:
                    if len(rows) == n:
                        return rows
                    text = f"{s} {v} {o}{t}"
                    positive = (o in ("good", "brilliant", "moving", "worth it", "fun")) != ("not" in v or "never" in v or "hardly" in v)
                    rows.append({"slug": f"gen-{i:04d}", "text": text, "label": "positive" if positive else "negative"})
                    i += 1
    return rows


def write_set(rows, path: Path) -> Path:
    path.write_text(yaml.safe_dump({"sentences": rows}, allow_unicode=True, sort_keys=False))
    return path


def page_sizes(site: Path, rows) -> list[float]:
    return [(site / "gallery" / r["slug"] / "index.html").stat().st_size / 1024 for r in rows]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12, help="sentences for the baseline and the builds")
    ap.add_argument("--scale", type=int, default=0, help="instead: a cold build of this many generated sentences")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite docs/performance.md")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="gallery-bench-"))
    if args.scale:
        return scale(args.scale, work)

    rows = yaml.safe_load(config.SENTENCES_FILE.read_text())["sentences"][: args.n]
    n = len(rows)
    sentences = write_set(rows, work / "set.yaml")
    print(f"benchmark: {n} sentences, pair {config.DEFAULT_PAIR}, work dir {work}", flush=True)

    print("baseline: papermill, one fresh kernel per sentence ...", flush=True)
    base = run_baseline(rows, work)
    # The one-time start: a cold build small enough to be all start-up, big enough
    # to start every warm kernel (one per core), as the full build does.
    k = min(n - 1, max(os.cpu_count() or 1, n // 4)) if n > 1 else 1
    print(f"cold build of {k} sentences (the one-time start) ...", flush=True)
    (work / "small").mkdir()  # its own caches (notebooks and mkdocs-jupyter)
    one_s, _ = run_build(write_set(rows[:k], work / "small" / "set.yaml"), work / "small" / "site",
                         work / "small" / "cache")
    print(f"cold build of {n} sentences ...", flush=True)
    cold_s, cold_rss = run_build(sentences, work / "site", work / "cache")
    print("no-change rebuild ...", flush=True)
    noop_s, _ = run_build(sentences, work / "site", work / "cache")
    rows[0] = {**rows[0], "text": rows[0]["text"] + " Really."}
    print("one sentence changed ...", flush=True)
    change_s, _ = run_build(write_set(rows, work / "set.yaml"), work / "site", work / "cache")

    sizes = page_sizes(work / "site", rows)
    base_med = statistics.median(base)
    marginal = (cold_s - one_s) / (n - k) if n > k else cold_s
    result = {
        "n": n,
        "baseline_s_per_sentence": round(base_med, 2),
        "cold_s_per_sentence": round(marginal, 2),
        "speedup": round(base_med / marginal, 1) if marginal > 0 else None,
        "noop_rebuild_s": round(noop_s, 2),
        "page_kb_median": round(statistics.median(sizes), 1),
        "page_kb_max": round(max(sizes), 1),
        "peak_rss_mb": round(cold_rss / 2**20),
    }
    table = [
        ("sentences", f"{n}"),
        ("baseline: papermill, fresh kernel per sentence (median)", f"{base_med:.2f} s / sentence"),
        ("cold build, total (one-time start + all sentences + mkdocs)", f"{cold_s:.1f} s"),
        (f"cold build of {k} sentences (the one-time start)", f"{one_s:.1f} s"),
        (f"cold build, marginal cost per sentence ((total - start) / {n - k})", f"{marginal:.2f} s / sentence"),
        ("speed-up of the marginal cost over the baseline", f"{result['speedup']}x"),
        ("no-change rebuild, end to end", f"{noop_s:.1f} s"),
        ("rebuild after changing 1 sentence", f"{change_s:.1f} s"),
        ("sentence page size (median / max)", f"{result['page_kb_median']} / {result['page_kb_max']} KB"),
        ("peak memory of the cold build (build + kernel)", f"{result['peak_rss_mb']} MB"),
    ]
    width = max(len(k) for k, _ in table)
    print()
    for k, v in table:
        print(f"{k:<{width}}  {v}")
    if not args.no_write:
        write_page(table, result, f"python scripts/bench.py --n {args.n}")
    print(json.dumps(result))
    return 0


def scale(count: int, work: Path) -> int:
    rows = generated(count)
    half = write_set(rows[: count // 2], work / "half.yaml")
    full = write_set(rows, work / "full.yaml")
    print(f"scale run: cold builds of {count // 2} and {count} generated sentences", flush=True)
    half_s, half_rss = run_build(half, work / "site-half", work / "cache-half")
    full_s, full_rss = run_build(full, work / "site-full", work / "cache-full")
    result = {"n": count, "half_s_per_sentence": round(half_s / (count // 2), 3),
              "full_s_per_sentence": round(full_s / count, 3),
              "peak_rss_mb_half": round(half_rss / 2**20), "peak_rss_mb": round(full_rss / 2**20)}
    print(f"{count // 2} sentences: {half_s:.0f} s ({result['half_s_per_sentence']} s each), peak {result['peak_rss_mb_half']} MB")
    print(f"{count} sentences: {full_s:.0f} s ({result['full_s_per_sentence']} s each), peak {result['peak_rss_mb']} MB")
    print(json.dumps(result))
    return 0


def write_page(table, result, command: str) -> None:
    import platform

    rows = "\n".join(f"| {k} | {v} |" for k, v in table)
    text = f"""# Performance

How fast the gallery builds, measured by `{command}` (`make bench`) on
{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), default pair, the first
{result['n']} sentences of the gallery's set. Timings come from one run and vary with
the machine's load; the speed-up compares two phases of the same run.

| measure | value |
|---|---|
{rows}

## Why it is fast

* **Warm kernels, one per core.** The obvious build (the baseline above) starts a
  fresh Jupyter kernel for every sentence: Python starts, torch and transformers are
  imported and both models are loaded, every time. The gallery's build starts one
  kernel per CPU core (`--jobs`) and hands each the next sentence's notebook; the
  models stay loaded in the kernel, and each notebook starts from an emptied
  namespace (what `%reset -f` does to the user's variables, without its costly full
  garbage collection). Each kernel runs torch on one thread, so the cores are not
  fought over. The notebooks are still executed cell by cell (nbclient), so the
  pages are the notebooks' real outputs.
* **A cache of executed notebooks**, keyed on the sentence, the pair, the template and
  the code and model version: an unchanged sentence is never executed again, and
  mkdocs-jupyter's own cache skips re-rendering unchanged notebooks.
* **Light pages.** Attention weights are stored once per page in 256 levels, one
  byte each, base64 (a browser draws a line's opacity with 8 bits anyway), and shared
  by the six views, which are drawn in the browser by bertviz's own code, loaded once
  from the site. The JupyterLab
  stylesheet that mkdocs-jupyter inlines into every page is moved to one cached file.

Raw figures: `{json.dumps(result)}`
"""
    (config.DOCS_DIR / "performance.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
