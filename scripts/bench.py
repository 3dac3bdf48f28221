#!/usr/bin/env python
"""Benchmark the gallery build against the obvious one, in one run.

    python scripts/bench.py --n 12            # make bench N=12
    python scripts/bench.py --scale 500       # make bench-scale: memory and growth

Phases, all on the same N sentences of the gallery's set and the default pair:
  baseline   papermill, one fresh kernel per sentence, same template, no cache
  cold       scripts/build_gallery.py with an empty cache (and the same for a few
             sentences, to get the marginal cost per sentence after the one-time start)
  noop       the same build again, nothing changed
  change1    one sentence edited
Prints a table, writes it to docs/performance.md, ends with one JSON line.

The scale run builds, cold, a few, half of and all of COUNT sentences generated from
phrases, and compares the cost per sentence of the two halves (growth) and the peak
memory; it rewrites only its own section of docs/performance.md.
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
from attention_gallery.gallery.notebook import parameters
from attention_gallery.gallery.sentences import Sentence

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

    times = []
    saved = os.dup(2)  # the kernels' own start-up chatter goes to /dev/null
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        for row in rows:
            start = time.perf_counter()
            pm.execute_notebook(str(config.TEMPLATE), str(work / f"{row['slug']}.ipynb"), progress_bar=False,
                                parameters=parameters(Sentence(row["slug"], row["text"], row["label"],
                                                               row.get("note", "")), config.DEFAULT_PAIR),
                                log_output=False)
            times.append(time.perf_counter() - start)
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
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
        return scale(args.scale, work, write=not args.no_write)

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
        ("peak memory of the cold build (build + warm kernels)", f"{result['peak_rss_mb']} MB"),
    ]
    show(table)
    if not args.no_write:
        write_section("main", main_section(table, result, f"python scripts/bench.py --n {args.n}"))
    print(json.dumps(result))
    return 0


def scale(count: int, work: Path, write: bool = True) -> int:
    """Cold builds of the first half of ``count`` generated sentences, then of all of
    them: peak memory of each, and the cost per sentence of each half."""
    rows = generated(count)
    half_n = count // 2
    k = min(half_n - 1, os.cpu_count() or 1)
    print(f"scale run: cold builds of {k} (the one-time start), {half_n} and {count} "
          f"generated sentences", flush=True)
    sizes, runs = {}, {}
    for n in (k, half_n, count):
        sentences = write_set(rows[:n], work / f"set-{n}.yaml")
        runs[n] = run_build(sentences, work / f"site-{n}", work / f"cache-{n}")
        sizes[n] = page_sizes(work / f"site-{n}", rows[:n])
        print(f"  {n} sentences: {runs[n][0]:.1f} s, peak {runs[n][1] / 2**20:.0f} MB", flush=True)
    first = (runs[half_n][0] - runs[k][0]) / (half_n - k)
    second = (runs[count][0] - runs[half_n][0]) / (count - half_n)
    result = {"n": count, "first_half_s_per_sentence": round(first, 3),
              "second_half_s_per_sentence": round(second, 3),
              "growth": round(second / first, 2),
              "peak_rss_mb_half": round(runs[half_n][1] / 2**20),
              "peak_rss_mb": round(runs[count][1] / 2**20),
              "rss_mb_per_100": round((runs[count][1] - runs[half_n][1]) / 2**20 * 100 / (count - half_n)),
              "page_kb_median": round(statistics.median(sizes[count]), 1),
              "page_kb_max": round(max(sizes[count]), 1)}
    table = [
        ("sentences generated from phrases", f"{count}"),
        (f"cold build of {half_n}, total", f"{runs[half_n][0]:.1f} s"),
        (f"cold build of {count}, total", f"{runs[count][0]:.1f} s"),
        (f"cost per sentence, sentences {k + 1} to {half_n} ((T({half_n}) - T({k})) / {half_n - k})",
         f"{first:.2f} s"),
        (f"cost per sentence, sentences {half_n + 1} to {count} ((T({count}) - T({half_n})) / {count - half_n})",
         f"{second:.2f} s"),
        ("growth (second half / first half)", f"{result['growth']}"),
        (f"peak memory, {half_n} / {count} sentences",
         f"{result['peak_rss_mb_half']} / {result['peak_rss_mb']} MB"),
        (f"sentence page size, {half_n} / {count} sentences (median)",
         f"{statistics.median(sizes[half_n]):.1f} / {result['page_kb_median']} KB"),
    ]
    show(table)
    if write:
        write_section("scale", scale_section(table, result, f"python scripts/bench.py --scale {count}"))
    print(json.dumps(result))
    return 0


def show(table) -> None:
    width = max(len(k) for k, _ in table)
    print()
    for k, v in table:
        print(f"{k:<{width}}  {v}")


def markdown(table) -> str:
    return "| measure | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in table)


def scale_section(table, result, command: str) -> str:
    return f"""## Scale

A set of {result['n']} generated sentences, built cold: `{command}`. The cost of a
sentence does not grow with the size of the set when the second half costs no more
than the first (growth about 1 or below). Peak memory is mostly the models loaded in
the warm kernels (one per core); what grows with the set is the executed notebooks
and pages the build holds: the peak changed by {result['rss_mb_per_100']:+d} MB per 100 more sentences here. A set of more than
{config.NAV_SENTENCES_MAX} sentences is listed on the gallery's overview page rather
than in every page's navigation, so pages do not grow with the set either.

{markdown(table)}

Raw figures: `{json.dumps(result)}`
"""


SECTION = "<!-- bench:{name} (generated by scripts/bench.py) -->\n{body}<!-- /bench:{name} -->\n"


def write_section(name: str, body: str) -> None:
    """Put one generated section into docs/performance.md, keeping the others."""
    path = config.DOCS_DIR / "performance.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n\n"
    block = SECTION.format(name=name, body=body)
    start, end = f"<!-- bench:{name} ", f"<!-- /bench:{name} -->\n"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    elif name == "main":  # the main figures come first, under the title
        title, _, rest = text.partition("\n\n")
        text = f"{title}\n\n{block}\n{rest}".rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def main_section(table, result, command: str) -> str:
    import platform

    return f"""How fast the gallery builds, measured by `{command}` (`make bench`) on
{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), default pair, the first
{result['n']} sentences of the gallery's set. Timings come from one run and vary with
the machine's load; the speed-up compares two phases of the same run.

{markdown(table)}

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
* **No repeated work inside a sentence.** One forward pass gives both the logits and
  the attention; the deletion test runs each distinct perturbed sentence once, in
  one batch, however many rankings share it.
* **Templates compiled once.** nbconvert makes a new Jinja environment for every
  notebook page, which compiled its templates again each time (about half of a
  page's rendering); the build's MkDocs hook gives them one shared bytecode cache.
* **A cache of executed notebooks**, keyed on the sentence, the pair, the template and
  the code and model version: an unchanged sentence is never executed again, and
  mkdocs-jupyter's own cache skips re-rendering unchanged notebooks.
* **Light pages.** Attention weights are stored once per page in 256 levels, one
  byte each, deflated and base64-encoded (a browser draws a line's opacity with 8 bits
  anyway), and shared by the six views, which the site's own small script draws on
  canvas, each when it nears the viewport (see *Reading a sentence page* below). The
  JupyterLab stylesheet that mkdocs-jupyter inlines into every page is moved to one
  cached file and trimmed to the rules the pages can use.

Raw figures: `{json.dumps(result)}`

"""


if __name__ == "__main__":
    sys.exit(main())
