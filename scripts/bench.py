#!/usr/bin/env python
"""Benchmark the gallery build against the obvious one, in one run.

    python scripts/bench.py --n 12            # make bench N=12
    python scripts/bench.py --scale 500       # make bench-scale: memory and growth

Phases, all on the same N sentences of the gallery's set and the default pair:
  baseline   papermill, one fresh kernel per sentence, same template, no cache
  findings   scripts/findings.py (the findings stage: all of SST-2 dev where it is there, every
             card cold), then again (cached); its cache is then copied into the cold builds'
             caches, so they measure the notebooks and the site, not the stage twice more
  cold A, B  scripts/build_gallery.py with an empty cache, twice (each its own cache)
  noop       the same build again, nothing changed
  change1    one sentence edited
  watch      make watch on the same set: a sentence edited and saved, until its page
             is served with the new text (three times)
Prints a table, writes it to docs/performance.md, ends with one JSON line.

The cost of a sentence is not the difference of two build totals (noise of a few
seconds in either turned it into nonsense: 0.03 s a sentence once). It is taken from
the kernels' own time for each notebook (measured by the executor around each run,
never written into the notebooks), leaving out each kernel's first notebook (it also
loads the models: the one-time start): CPU time, which other programs on the machine
hardly move, and wall time over the kernels running side by side. Both cold builds
give it; they must agree within 25%. A least-squares fit of when each notebook
finished checks the wall figure as the build's throughput.

The scale run builds, cold, a few, half of and all of COUNT sentences generated from
phrases, and compares the cost per sentence of the two halves (growth) and the peak
memory; it rewrites only its own section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
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
from attention_gallery.build.notebook import parameters
from attention_gallery.build.sentences import Sentence

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


def _timed(cmd: list[str], what: str) -> tuple[float, int, str]:
    """(wall seconds, peak memory in bytes, stdout) of ``cmd`` run in the repository; exits where it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = PeakRSS(proc.pid)
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - start
    rss = peak.stop()
    if proc.returncode != 0:
        sys.exit(f"{what} failed:\n{stderr}")
    return seconds, rss, stdout


def run_build(sentences: Path, out: Path, cache: Path, timings: Path | None = None) -> tuple[float, int]:
    extra = ["--timings", str(timings)] if timings else []
    seconds, rss, _ = _timed([sys.executable, "scripts/build_gallery.py", "--sentences", str(sentences),
                              "--out", str(out), "--cache", str(cache), "--quiet", *extra], "build")
    return seconds, rss


def run_findings(sentences: Path, cache: Path, limit: int | None) -> dict:
    """The findings stage alone (scripts/findings.py), into ``cache``: its wall time, its
    peak memory and the set it measured."""
    seconds, rss, stdout = _timed([sys.executable, "scripts/findings.py", "--sentences", str(sentences),
                                   "--cache", str(cache), *(["--limit", str(limit)] if limit else [])], "findings")
    first = stdout.splitlines()[0] if stdout else ""
    return {"s": round(seconds, 1), "rss_mb": round(rss / 2**20), "set": first.removeprefix("findings on ")}


def run_baseline(rows: list[dict], work: Path) -> tuple[list[float], list[float]]:
    """One papermill run (fresh kernel: imports, model loading, everything) per sentence:
    the wall time of each, and the CPU time of each one's kernel (a child process of
    this one, counted once it has exited)."""
    import resource

    import papermill as pm

    def children_cpu() -> float:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime

    times, cpu = [], []
    saved = os.dup(2)  # the kernels' own start-up chatter goes to /dev/null
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        for row in rows:
            start, cpu_start = time.perf_counter(), children_cpu()
            pm.execute_notebook(str(config.TEMPLATE), str(work / f"{row['slug']}.ipynb"), progress_bar=False,
                                parameters=parameters(Sentence(row["slug"], row["text"], row["label"],
                                                               row.get("note", "")), config.DEFAULT_PAIR),
                                log_output=False)
            times.append(time.perf_counter() - start)
            cpu.append(children_cpu() - cpu_start)
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
    return times, cpu


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
    """``rows`` as a sentence file; a ``contrast:`` naming a sentence left out of this
    subset of the gallery's set is dropped (the file would be refused)."""
    slugs = {r["slug"] for r in rows}
    rows = [{k: v for k, v in r.items() if k != "contrast" or v in slugs} for r in rows]
    path.write_text(yaml.safe_dump({"sentences": rows}, allow_unicode=True, sort_keys=False))
    return path


def page_sizes(site: Path, rows) -> list[float]:
    return [(site / "gallery" / r["slug"] / "index.html").stat().st_size / 1024 for r in rows]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12, help="sentences for the baseline and the builds")
    ap.add_argument("--scale", type=int, default=0, help="instead: a cold build of this many generated sentences")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite docs/performance.md")
    ap.add_argument("--no-watch", action="store_true", help="leave out the watch phase")
    ap.add_argument("--findings-limit", type=int, default=None, help="the findings on the set's first N sentences")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="gallery-bench-"))
    if args.scale:
        return scale(args.scale, work, write=not args.no_write)

    rows = yaml.safe_load(config.SENTENCES_FILE.read_text())["sentences"][: args.n]
    n = len(rows)
    sentences = write_set(rows, work / "set.yaml")
    print(f"benchmark: {n} sentences, pair {config.DEFAULT_PAIR}, work dir {work}", flush=True)

    print("baseline: papermill, one fresh kernel per sentence ...", flush=True)
    base, base_cpu = run_baseline(rows, work)
    if args.findings_limit:  # the builds then measure the same first N (config.FINDINGS_LIMIT)
        os.environ["ATTENTION_GALLERY_FINDINGS_LIMIT"] = str(args.findings_limit)
    print("findings stage, cold, then cached ...", flush=True)
    findings_cold = run_findings(sentences, work / "findings-cache", args.findings_limit)
    findings_cached = run_findings(sentences, work / "findings-cache", args.findings_limit)
    runs = {}
    for name in ("A", "B"):  # each its own caches (notebooks and mkdocs-jupyter)
        print(f"cold build {name} of {n} sentences ...", flush=True)
        folder = work / f"cold-{name}"
        folder.mkdir()
        shutil.copytree(work / "findings-cache" / "findings", folder / "cache" / "findings")  # measured above
        total, rss = run_build(sentences, folder / "site", folder / "cache", folder / "timings.json")
        runs[name] = {"total": total, "rss": rss, **per_sentence(json.loads((folder / "timings.json").read_text()))}
    a, b = runs["A"], runs["B"]
    print("no-change rebuild ...", flush=True)
    noop_s, _ = run_build(sentences, work / "cold-A" / "site", work / "cold-A" / "cache")
    changed = [{**rows[0], "text": rows[0]["text"] + " Really."}, *rows[1:]]
    print("one sentence changed ...", flush=True)
    change_s, _ = run_build(write_set(changed, work / "set.yaml"), work / "cold-A" / "site", work / "cold-A" / "cache")
    try:
        live = {} if args.no_watch else watch_phase(rows, work, work / "cold-A" / "cache")
    except SystemExit as exc:  # the watch phase failed: the figures above still count
        print(f"watch phase failed: {exc}", flush=True)
        live = {}

    sizes = page_sizes(work / "cold-A" / "site", rows)
    base_med, base_cpu_med = statistics.median(base), statistics.median(base_cpu)
    wall, cpu = pooled(a, b, "wall"), pooled(a, b, "cpu")
    jobs = a["jobs"]
    cost = wall["median"] / jobs
    ratio, ratio_wall = agreement(a["cpu"], b["cpu"]), agreement(a["wall"], b["wall"])
    result = {
        "n": n,
        "baseline_s_per_sentence": round(base_med, 2),
        "cold_s_per_sentence": round(cost, 3),
        "speedup": round(base_med / cost, 1),
        "noop_rebuild_s": round(noop_s, 2),
        "page_kb_median": round(statistics.median(sizes), 1),
        "page_kb_max": round(max(sizes), 1),
        "peak_rss_mb": round(max(a["rss"], b["rss"]) / 2**20),
        "baseline_s_iqr": [round(q, 2) for q in quartiles(base)],
        "baseline_cpu_s_per_sentence": round(base_cpu_med, 2),
        "kernels": jobs,
        "cpu_s_per_sentence": round(cpu["median"], 3),
        "cpu_s_iqr": [round(q, 3) for q in cpu["iqr"]],
        "cpu_s_range": [round(q, 3) for q in cpu["range"]],
        "cpu_s_per_sentence_runs": [round(a["cpu"], 3), round(b["cpu"], 3)],
        "runs_ratio": round(ratio, 3),
        "runs_agree_within_25pct": ratio <= 1.25,
        "speedup_cpu": round(base_cpu_med / cpu["median"], 1),
        "kernel_s_per_notebook": round(wall["median"], 3),
        "kernel_s_iqr": [round(q, 3) for q in wall["iqr"]],
        "kernel_s_range": [round(q, 3) for q in wall["range"]],
        "cold_s_per_sentence_runs": [round(a["wall"] / jobs, 3), round(b["wall"] / jobs, 3)],
        "runs_ratio_wall": round(ratio_wall, 3),
        "throughput_fit_s_per_sentence": [round(a["fit"], 3) if a["fit"] else None,
                                          round(b["fit"], 3) if b["fit"] else None],
        "cold_total_s": [round(a["total"], 1), round(b["total"], 1)],
        "change1_rebuild_s": round(change_s, 2),
        "load_avg_1min": round(os.getloadavg()[0], 1),
        "findings_set": findings_cold["set"],
        "findings_cold_s": findings_cold["s"], "findings_cached_s": findings_cached["s"],
        "findings_peak_rss_mb": findings_cold["rss_mb"],
        **live,
    }
    table = main_table(result)
    show(table)
    print(f"\ntwo runs {'agree' if result['runs_agree_within_25pct'] else 'DO NOT agree'} within 25% "
          f"(kernel CPU time per sentence {a['cpu']:.3f} s and {b['cpu']:.3f} s: ratio {ratio:.2f}; "
          f"wall time {a['wall']:.3f} s and {b['wall']:.3f} s: ratio {ratio_wall:.2f})")
    if live:
        print(f"watch: {'every' if live['watch_met'] else 'NOT every'} edit served within its target")
    if not args.no_write:
        write_section("main", main_section(table, result, f"python scripts/bench.py --n {args.n}"))
    print(json.dumps(result))
    return 0


def quartiles(values) -> tuple[float, float]:
    """The first and third quartiles (the middle half lies between them)."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def throughput_fit(finished: list[float], skip: int) -> float | None:
    """Seconds per sentence from a least-squares line through the times the notebooks
    finished (in the order they finished), after the first ``skip`` (each kernel's
    first, which loads the models): what one more sentence adds to a build."""
    ends = sorted(finished)[skip:]
    if len(ends) < 3:
        return None
    return statistics.linear_regression(range(len(ends)), ends).slope


def per_sentence(timings: dict) -> dict:
    """A cold build's cost per sentence from its kernels' own times (``--timings``):
    the warm notebooks' (each kernel's first left out) wall and CPU times and their
    medians, and the throughput fit."""
    jobs, notebooks = timings["jobs"], list(timings["notebooks"].values())
    warm = [t for t in notebooks if not t["first"]] or notebooks
    walls = [t["seconds"] for t in warm]
    cpus = [t["cpu"] for t in warm if t.get("cpu") is not None] or walls
    return {"jobs": jobs, "walls": walls, "cpus": cpus, "wall": statistics.median(walls),
            "cpu": statistics.median(cpus), "fit": throughput_fit([t["finished"] for t in notebooks], jobs)}


def pooled(a: dict, b: dict, kind: str) -> dict:
    """The warm notebooks of both cold builds together (``kind``: wall or cpu):
    median, quartiles, range."""
    values = a[f"{kind}s"] + b[f"{kind}s"]
    return {"median": statistics.median(values), "iqr": quartiles(values), "range": (min(values), max(values))}


def agreement(x: float, y: float) -> float:
    """How far apart two runs' figures are: the larger over the smaller (1 = equal)."""
    return max(x, y) / min(x, y)


def main_table(r: dict) -> list[tuple[str, str]]:
    jobs = r["kernels"]
    (q1, q3), (lo, hi) = r["cpu_s_iqr"], r["cpu_s_range"]
    (w1, w3), (wlo, whi) = r["kernel_s_iqr"], r["kernel_s_range"]
    a, b = r["cpu_s_per_sentence_runs"]
    wa, wb = r["cold_s_per_sentence_runs"]
    fit = " / ".join(f"{x:.2f}" if x is not None else "n/a" for x in r["throughput_fit_s_per_sentence"])
    table = [
        ("sentences", f"{r['n']}"),
        ("baseline: papermill, fresh kernel per sentence, wall time (median [quartiles])",
         f"{r['baseline_s_per_sentence']:.2f} s [{r['baseline_s_iqr'][0]:.2f}, {r['baseline_s_iqr'][1]:.2f}]"),
        ("baseline: its kernel's CPU time per sentence (median)", f"{r['baseline_cpu_s_per_sentence']:.2f} s"),
        ("cold build, total (runs A / B: one-time start + all sentences + mkdocs)",
         f"{r['cold_total_s'][0]:.1f} / {r['cold_total_s'][1]:.1f} s"),
        ("**cost per sentence: a warm kernel's CPU time per notebook** (median [quartiles], range; both runs)",
         f"**{r['cpu_s_per_sentence']:.2f} s** [{q1:.2f}, {q3:.2f}], {lo:.2f} to {hi:.2f}"),
        ("the same, run A / run B (ratio; they must agree within 25%)",
         f"{a:.2f} / {b:.2f} s ({r['runs_ratio']:.2f}: {'agree' if r['runs_agree_within_25pct'] else 'DO NOT agree'})"),
        ("speed-up in CPU time per sentence over the baseline", f"{r['speedup_cpu']}x"),
        ("a warm kernel's wall time per notebook, this run (median [quartiles], range; both runs)",
         f"{r['kernel_s_per_notebook']:.2f} s [{w1:.2f}, {w3:.2f}], {wlo:.2f} to {whi:.2f}"),
        (f"wall time a sentence adds to a build, this run (that / {jobs} kernels side by side; A / B)",
         f"{r['cold_s_per_sentence']:.2f} s ({wa:.2f} / {wb:.2f}, ratio {r['runs_ratio_wall']:.2f})"),
        ("check: throughput, least-squares fit of when notebooks finished (A / B)", f"{fit} s / sentence"),
        ("speed-up in wall time per sentence over the baseline, this run", f"{r['speedup']}x"),
        ("no-change rebuild, end to end", f"{r['noop_rebuild_s']:.1f} s"),
        ("rebuild after changing 1 sentence (`make gallery`)", f"{r['change1_rebuild_s']:.1f} s"),
    ]
    if "watch_visible_s" in r:
        seen = ", ".join(f"{v:.1f}" for v in r["watch_visible_s"])
        ran = ", ".join(f"{k:.1f}" for k in r["watch_kernel_s"])
        targets = ", ".join(f"{t:.1f}" for t in r["watch_target_s"])
        table += [
            ("`make watch`: saved to served, 1 sentence changed (each edit)", f"{seen} s"),
            ("`make watch`: that sentence's kernel time (each edit)", f"{ran} s"),
            ("`make watch`: target, 3 s or kernel time + 1 s if longer (each edit)",
             f"{targets} s: {'met' if r['watch_met'] else 'NOT met'}"),
        ]
    if "findings_cold_s" in r:
        table += [
            (f"findings stage, all cards cold: {r['findings_set']}", f"{r['findings_cold_s']:.1f} s"),
            ("findings stage again, cached", f"{r['findings_cached_s']:.1f} s"),
            ("peak memory of the findings stage", f"{r['findings_peak_rss_mb']} MB"),
        ]
    table += [
        ("sentence page size (median / max)", f"{r['page_kb_median']} / {r['page_kb_max']} KB"),
        ("peak memory of a cold build (build + warm kernels)", f"{r['peak_rss_mb']} MB"),
        ("load average of the machine at the end (1 min; other programs included)", f"{r['load_avg_1min']}"),
    ]
    return table


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.read().decode("utf-8")
    except (urllib.error.URLError, OSError):
        return None


def watch_phase(rows, work: Path, cache: Path, edits: int = 3) -> dict:
    """``make watch`` on ``rows`` (their notebooks cached): once it is ready (first
    build done, kernels warm), edit and save one sentence at a time and time how long
    until its page is served with the new text; with each, the kernel time of that
    sentence (from watch's state), and the target: 3 s, or the kernel time + 1 s."""
    folder = work / "watch"
    folder.mkdir()
    path, port = write_set(rows, folder / "set.yaml"), free_port()
    base = f"http://127.0.0.1:{port}/"
    print("watch: starting make watch on the same set ...", flush=True)
    with open(folder / "watch.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "scripts/build_gallery.py", "--watch", "--port", str(port),
                                 "--sentences", str(path), "--out", str(folder / "site"), "--cache", str(cache)],
                                cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            until(lambda: watch_state(base).get("ready"), 600, "watch ready", proc)
            seen, ran = [], []
            for i in range(min(edits, len(rows))):
                rows = [*rows]
                rows[i] = {**rows[i], "text": f"{rows[i]['text']} (edit {i + 1})"}
                served, kernel = time_edit(rows, rows[i]["slug"], f"(edit {i + 1})", path, base, proc)
                seen.append(served)
                ran.append(kernel)
                print(f"  edit {i + 1}: served after {served:.2f} s (its kernel time {kernel:.2f} s)", flush=True)
        finally:
            stop(proc)
    targets = [max(3.0, k + 1.0) for k in ran]
    return {"watch_visible_s": [round(v, 2) for v in seen], "watch_kernel_s": [round(k, 2) for k in ran],
            "watch_target_s": [round(t, 2) for t in targets],
            "watch_met": all(v <= t for v, t in zip(seen, targets))}


def stop(proc) -> None:
    """Stop ``make watch`` as Ctrl-C does (SIGINT); a process started in the background of a
    non-interactive shell ignores SIGINT, so then SIGTERM, and at last SIGKILL."""
    for sig, wait in ((signal.SIGINT, 20), (signal.SIGTERM, 60)):
        proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.wait()


def watch_state(base: str) -> dict:
    return json.loads(fetch(base + "__watch__/state.json") or "{}")


def time_edit(rows, slug: str, mark: str, path: Path, base: str, proc) -> tuple[float, float]:
    """Save ``rows`` (sentence ``slug`` now ends with ``mark``); seconds until its page
    is served with ``mark``, and that sentence's kernel time."""
    import html

    page, version = f"{base}gallery/{slug}/", watch_state(base)["version"]
    # the server reads the output folder on every request: the page is served once the
    # folder holds it, so that is what is polled (often, and without taking the watch
    # process's time the way fetching the page twenty times a second would); then the
    # page is fetched to check it is served
    served_file = path.parent / "site" / "gallery" / slug / "index.html"
    start = time.perf_counter()
    write_set(rows, path)
    until(lambda: html.escape(mark) in _read(served_file), 120, "edit in the served folder", proc, 0.01)
    served = time.perf_counter() - start
    until(lambda: html.escape(mark) in (fetch(page) or ""), 10, "edit served", proc, 0.05)
    until(lambda: watch_state(base)["version"] > version, 10, "state", proc)  # set just after the swap
    return served, watch_state(base)["last"]["kernel_seconds"][slug]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:  # not there (yet), or swapped away while read
        return ""


def until(check, timeout: float, what: str, proc, every: float = 0.2) -> None:
    """Wait for ``check()``; stop the benchmark if ``proc`` died or time ran out."""
    deadline = time.perf_counter() + timeout
    while not check():
        if proc.poll() is not None:
            sys.exit(f"watch stopped (exit {proc.returncode}) before: {what}")
        if time.perf_counter() > deadline:
            sys.exit(f"watch: no {what} within {timeout:.0f} s")
        time.sleep(every)


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
{result['n']} sentences of the gallery's set. Wall times vary with the machine's load (the
table's last row gives it; the machine is shared), CPU times hardly do; each speed-up
compares two phases of the same run.

The cost of a sentence is what a warm kernel spends on its notebook, measured by the
executor around each run (never written into the notebooks, which stay the same from
build to build), leaving out each kernel's first notebook (it also imports the
libraries and loads the models: the one-time start). Its CPU time is the headline
figure: other programs loading the machine stretch wall time, hardly CPU time. Two
cold builds measure it separately and must agree within 25%. The wall time a sentence
adds to a build in this run is the kernels' wall time per notebook over the
{result['kernels']} kernels that run side by side, checked by a least-squares line
through the times the notebooks finished. None of it is the difference of two build
totals, which a few seconds of noise in either once turned into 0.03 s a sentence.

`make watch` keeps the kernels warm and serves the site; the rows on it time a saved
edit of one sentence until its page is served with the new text (the folder the
server reads on every request holds it; then fetched to check), against a target of
3 s, or that sentence's kernel time + 1 s when longer.

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
  page's rendering); the build's MkDocs hook gives them, the theme's and those of
  Material's search plugin one shared bytecode cache for the process.
* **Only what changed, while writing.** `make watch` loads the models once, reads
  the cache into memory, and after a save renders only the changed sentences' pages
  and the generated ones (MkDocs' dirty build on a copy of the live site, the search
  index and shared stylesheets put right): the same site a full build gives, byte
  for byte, in a fraction of its time. What can run beside the kernel does: the live
  site is copied while the kernel runs, and the changed sentence's download is made
  by a second process while the pages render; a rebuild is rehearsed at the start,
  and the garbage collector waits until the pages are out.
* **A cache of executed notebooks**, keyed on the sentence, the pair, the template and
  the code and model version: an unchanged sentence is never executed again,
  mkdocs-jupyter's own cache skips re-rendering unchanged notebooks, and each
  notebook's download (bertviz's views saved into it, about as costly as its page) is
  made once and kept.
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
