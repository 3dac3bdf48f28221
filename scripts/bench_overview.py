#!/usr/bin/env python
"""How the overview of a large gallery answers a reader: `make bench-scale` (after
`make gallery-dev`), or ``python scripts/bench_overview.py --site site-dev``.

Opens the gallery's overview in headless Chromium (Debian's, through tests/browser.py)
and measures:

* bytes on a first visit (empty cache): every file fetched, the search index included
  (Material's worker fetches it on every page), uncompressed and gzip-compressed
  (level 6, as static hosts serve them); the same for one sentence page;
* elements in the overview's document; long tasks while it loads;
* each interaction of the explorer, from the event to the frame after it (the
  handler's work and the browser's layout and paint): a search typed (one word, two
  words, a word nothing matches), each sort, each filter, the next page and the last;
  median and worst of ``--repeat`` rounds, against the 300 ms target;
* the palette switch: long tasks in the 2 s after a click on the toggle.

It also reports the site's size on disk (GitHub Pages allows 1 GB) and its largest
parts. With ``--build`` it first builds the dev-set gallery (``make gallery-dev``,
``--jobs`` shard processes side by side) and times it with the peak memory of the
whole process tree, then a no-op rebuild; with ``--stages`` it profiles where a
sentence's time goes (scripts/bench_stages.py). ``--write`` puts the figures into the
Scale section of docs/performance.md.

    python scripts/bench_overview.py --build --stages 8 --write    # make bench-scale
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

TARGET_MS = 300
INIT = """
window.__longtasks = [];
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
}).observe({type: 'longtask', buffered: true});
"""
# one interaction: set a control, dispatch its event, wait for two frames (the one it
# changed is painted); returns the milliseconds and the count line
ACT = """async ([name, value]) => {
  const field = document.querySelector(`.gallery-explore [data-explore="${name}"]`);
  const t0 = performance.now();
  field.value = value;
  field.dispatchEvent(new Event(field.tagName === 'SELECT' ? 'change' : 'input', {bubbles: true}));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - t0, document.querySelector('.gallery-explore-count').textContent];
}"""
PAGE = """async (which) => {
  const buttons = [...document.querySelectorAll('.gallery-explore-pages button[data-page]')];
  const button = which === 'next' ? buttons[buttons.length - 1] : buttons[buttons.length - 2];
  const t0 = performance.now();
  button.click();
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - t0, document.querySelector('.gallery-explore-count').textContent];
}"""


def first_visit(browser, base: str, site: Path, path: str) -> dict:
    from browser import new_context

    ctx = new_context(browser, 1280, 900, "light")
    page = ctx.new_page()
    fetched = []
    page.on("request", lambda r: fetched.append(r.url))
    ctx.on("request", lambda r: fetched.append(r.url))  # workers' requests (the search index)
    page.goto(base + path, wait_until="load")
    page.wait_for_timeout(2500)  # the search worker fetches its index after load
    raw = gz = 0
    seen = set()
    for u in fetched:
        rel = u.split("/", 3)[3].split("#")[0].split("?")[0]
        if rel in seen or not u.startswith(base):
            continue
        seen.add(rel)
        f = site / rel
        if f.is_dir() or rel == "" or rel.endswith("/"):
            f = f / "index.html"
        if f.is_file():
            data = f.read_bytes()
            raw += len(data)
            gz += len(gzip.compress(data, 6))
    ctx.close()
    return {"files": len(seen), "kb": round(raw / 1000, 1), "gzip_kb": round(gz / 1000, 1),
            "search_index_kb": round((site / "search" / "search_index.json").stat().st_size / 1000, 1)
            if (site / "search" / "search_index.json").is_file() else None}


def interactions(browser, base: str, repeat: int) -> dict:
    from browser import new_context

    ctx = new_context(browser, 1280, 900, "light")
    ctx.add_init_script(INIT)
    page = ctx.new_page()
    page.goto(base + "gallery/", wait_until="load")
    page.wait_for_timeout(500)
    load = page.evaluate("window.__longtasks")
    out = {"elements": page.evaluate("document.querySelectorAll('*').length"),
           "rows": page.evaluate("document.querySelector('.gallery-explore').dataset.total"),
           "load_tbt_ms": round(sum(max(0.0, d - 50) for _, d in load), 1),
           "load_longest_ms": round(max((d for _, d in load), default=0.0), 1)}
    heads = page.eval_on_selector_all('.gallery-explore select[name="head"] option', "os => os.map(o => o.value)")
    steps = [("search one word", "q", "the"), ("search two words", "q", "not good"),
             ("search, no match", "q", "zzzz"), ("search cleared", "q", "")]
    steps += [(f"sort: {k}", "sort", k) for k in ("confidence", "correct", "length", "change", "margin", "set")]
    steps += [("filter: wrong", "right", "0"), ("filter: right", "right", "1"), ("filter cleared", "right", ""),
              ("filter: predicted negative", "predicted", "negative"), ("filter cleared ", "predicted", ""),
              ("filter: a head", "head", heads[1] if len(heads) > 1 else ""), ("filter cleared  ", "head", "")]
    times: dict[str, list[float]] = {}
    for _ in range(repeat):
        for name, field, value in steps:
            ms, _ = page.evaluate(ACT, [field, value])
            times.setdefault(name.strip(), []).append(ms)
        for which in ("next", "last"):
            if page.locator(".gallery-explore-pages button[data-page]").count():
                ms, _ = page.evaluate(PAGE, which)
                times.setdefault(f"page: {which}", []).append(ms)
        page.evaluate(ACT, ["q", ""])
    page.evaluate("window.__longtasks.length = 0")
    clicked = page.evaluate("performance.now()")
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_timeout(2000)
    tasks = page.evaluate("window.__longtasks")
    out["palette_ms"] = round(sum(d for s, d in tasks if s >= clicked), 1)
    out["interactions"] = {k: {"median_ms": round(statistics.median(v), 1), "max_ms": round(max(v), 1)}
                           for k, v in times.items()}
    out["worst_ms"] = max(v["max_ms"] for v in out["interactions"].values())
    out["all_within_target"] = out["worst_ms"] <= TARGET_MS
    ctx.close()
    return out


def notebook_cpu(folder: Path) -> dict[str, float]:
    """Each notebook's kernel CPU time from the shards' timings (``--timings``), by slug,
    each kernel's first left out (it loads the models)."""
    cpu = {}
    for f in sorted(folder.glob("shard-*.json")):
        cpu.update({slug: t["cpu"] for slug, t in json.loads(f.read_text())["notebooks"].items()
                    if not t.get("first")})
    return cpu


def kernel_costs(folder: Path) -> dict:
    """The shards' kernel CPU time per notebook: median and quartiles; the cold cache's
    cost a sentence."""
    cpu = list(notebook_cpu(folder).values())
    if not cpu:
        return {}
    q = statistics.quantiles(cpu, n=4)
    return {"executed": len(cpu), "cpu_s_median": round(statistics.median(cpu), 2),
            "cpu_s_quartiles": [round(q[0], 2), round(q[2], 2)], "cpu_s_mean": round(statistics.mean(cpu), 2)}


def length_costs(folder: Path, pair: str = "minilm-sst2") -> dict:
    """How a dev sentence's kernel CPU time grows with its length: each notebook's CPU
    time (each kernel's first left out) against its token count ([CLS] and [SEP]
    included), in five bins of equal count, and the exponent b of a least-squares fit
    cpu = a * tokens^b on log-log axes (b = 1: linear growth)."""
    import numpy as np

    from attention_gallery import config
    from attention_gallery.labelled import read_tsv
    from attention_gallery.models import load_tokenizer
    from attention_gallery.pairs import get_pair

    cpu = notebook_cpu(folder)
    if not cpu or not config.SST2_DEV.is_file():
        return {}
    tokenizer = load_tokenizer(get_pair(pair).untrained)
    rows = read_tsv(config.SST2_DEV)
    pairs = sorted((len(tokenizer(rows[int(slug.split("-")[1]) - 1][1])["input_ids"]), c)
                   for slug, c in cpu.items() if slug.startswith("dev-"))
    if len(pairs) < 10:
        return {}
    tokens, seconds = np.array([t for t, _ in pairs], float), np.array([c for _, c in pairs], float)
    b, _ = np.polyfit(np.log(tokens), np.log(seconds), 1)
    bins = [{"tokens": [int(chunk[0][0]), int(chunk[-1][0])], "n": len(chunk),
             "cpu_s_median": round(float(np.median([c for _, c in chunk])), 2)}
            for chunk in (pairs[i * len(pairs) // 5:(i + 1) * len(pairs) // 5] for i in range(5))]
    return {"n": len(pairs), "exponent": round(float(b), 2), "bins": bins,
            "tokens_mean": round(float(tokens.mean()), 1)}


def site_size(site: Path) -> dict:
    parts: dict[str, int] = {}
    total = 0
    for p in site.rglob("*"):
        if p.is_file():
            n = p.stat().st_size
            total += n
            rel = p.relative_to(site).parts
            key = "/".join(rel[:2]) if rel[0] == "gallery" and len(rel) > 2 else rel[0]
            if rel[0] == "gallery" and len(rel) > 2 and rel[1] not in ("downloads", "norms", "steps", "contrast"):
                key = "gallery/<sentence pages>"
            parts[key] = parts.get(key, 0) + n
    top = sorted(parts.items(), key=lambda kv: -kv[1])[:6]
    return {"mb": round(total / 1e6, 1), "largest": {k: round(v / 1e6, 1) for k, v in top}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", type=Path, default=ROOT / "site-dev", help="a built gallery (default: site-dev/)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--compare", type=Path, default=None, help="a second site measured the same way (e.g. site/)")
    ap.add_argument("--build", action="store_true", help="build the dev-set gallery first, timed")
    ap.add_argument("--jobs", type=int, default=2, help="with --build: shard processes side by side")
    ap.add_argument("--timings", type=Path, default=ROOT / ".cache" / "bench" / "dev-timings",
                    help="where --build keeps each notebook's kernel time (read again without --build)")
    ap.add_argument("--stages", type=int, default=0, help="profile N sentences of each set (bench_stages.py)")
    ap.add_argument("--write", action="store_true", help="write the Scale section of docs/performance.md")
    args = ap.parse_args(argv)
    from bench import _timed

    built = {}
    if args.build:
        timings = args.timings
        shutil.rmtree(timings, ignore_errors=True)  # this run's figures only
        cmd = [sys.executable, str(ROOT / "scripts" / "gallery_dev.py"), "--jobs", str(args.jobs), "--out", str(args.site)]
        seconds, rss, out = _timed(cmd + ["--timings", str(timings)], "the dev-set gallery")
        again, again_rss, _ = _timed(cmd, "the no-op rebuild")
        mk = [float(m) for m in re.findall(r"mkdocs ([0-9.]+) s", out)]
        built = {"build_s": round(seconds, 1), **({"mkdocs_s": mk[-1]} if mk else {}), "peak_mb": round(rss / 1e6), "jobs": args.jobs,
                 "noop_rebuild_s": round(again, 1), "build_log": out.strip().splitlines()[-3:],
                 **kernel_costs(timings)}
    if args.timings.is_dir():
        built = {**built, **({} if built else kernel_costs(args.timings)),
                 "length": length_costs(args.timings)}
    if not (args.site / "gallery" / "index.html").is_file():
        print(f"error: {args.site} holds no built gallery: run make gallery-dev first (or --site PATH)",
              file=sys.stderr)
        return 2
    from browser import launch, serve

    results = {}
    with launch() as browser:
        for site in [args.site] + ([args.compare] if args.compare else []):
            with serve(site) as base:
                slug = json.loads((site / "metrics.json").read_text())["n"] and next(
                    p.parent.name for p in sorted((site / "gallery").glob("*/index.html"))
                    if (site / "gallery" / "downloads" / f"{p.parent.name}.ipynb").is_file())
                results[str(site)] = {"overview": interactions(browser, base, args.repeat),
                                      "overview_first_visit": first_visit(browser, base, site, "gallery/"),
                                      "sentence_first_visit": first_visit(browser, base, site, f"gallery/{slug}/"),
                                      "site": site_size(site), "load_avg_1min": round(os.getloadavg()[0], 2)}
    stages = None
    if args.stages:
        import subprocess

        stages = json.loads(subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_stages.py"), "--n",
                                            str(args.stages)], capture_output=True, text=True, check=True).stdout)
    results = {"build": built, "stages": stages, **results}
    print(json.dumps(results, indent=1))
    if args.write:
        from bench import write_section

        write_section("dev-set", scale_section(results, args))
    return 0


def scale_section(results: dict, args) -> str:
    """The Scale section of docs/performance.md from these figures."""
    site = results[str(args.site)]
    o, b = site["overview"], results.get("build") or {}
    lines = ["## Scale: the dev-set gallery", "",
             f"Every SST-2 dev sentence as a page (`make gallery-dev`), measured by `python "
             f"scripts/bench_overview.py{' --build' if b.get('build_s') else ''}{f' --stages {args.stages}' if args.stages else ''} "
             "--write` (`make bench-scale`) on this machine (2 CPU cores, shared: the load average is given).", "",
             "| measure | value |", "|---|---|"]
    if b.get("build_s"):
        lines += [f"| build of all {o['rows']} pages, {b['jobs']} shard processes side by side, cold cache "
                  f"(executing, findings, MkDocs, downloads) | {b['build_s'] / 60:.1f} min |",
                  f"| peak memory of the whole build (every process) | {b['peak_mb']} MB |"]
    if b.get("executed"):  # from this build's timings, or an earlier one's (--timings)
        lines += [f"| cost a dev sentence: a warm kernel's CPU time per notebook, {b['executed']} notebooks "
                  f"(median [quartiles]; target 2.0 s) | {b['cpu_s_median']} s [{b['cpu_s_quartiles'][0]}, "
                  f"{b['cpu_s_quartiles'][1]}] |"]
    if b.get("build_s"):
        lines += [f"| no-op rebuild (nothing changed: MkDocs skipped) | {b['noop_rebuild_s']} s |",
                  *([f"| MkDocs over all {o['rows']} pages (from the build's log) | {b['mkdocs_s']} s, "
                     f"{1000 * b['mkdocs_s'] / o['rows']:.0f} ms a page |"] if b.get("mkdocs_s") else [])]
    fv, sv = site["overview_first_visit"], site["sentence_first_visit"]
    lines += [f"| the overview's first visit (every file, the search index included) | {fv['kb']:.0f} KB, "
              f"{fv['gzip_kb']:.0f} KB gzip (target 400 KB) |",
              f"| a sentence page's first visit | {sv['kb']:.0f} KB, {sv['gzip_kb']:.0f} KB gzip |",
              f"| the search index every page fetches | {fv['search_index_kb']:.0f} KB |",
              f"| elements of the overview | {o['elements']} |",
              f"| long tasks while the overview loads (TBT; longest) | {o['load_tbt_ms']} ms; {o['load_longest_ms']} ms |",
              f"| the explorer's slowest interaction, event to painted frame (target 300 ms) | {o['worst_ms']} ms "
              f"({'met' if o['all_within_target'] else 'NOT met'}) |",
              f"| long tasks after the palette switch | {o['palette_ms']} ms |",
              f"| the site on disk (GitHub Pages allows 1 GB) | {site['site']['mb']} MB |",
              "| its largest parts | " + ", ".join(f"{k} {v} MB" for k, v in site["site"]["largest"].items()) + " |",
              f"| load average at the end (1 min) | {site['load_avg_1min']} |", ""]
    lines += ["Each interaction of the explorer (median and worst of "
              f"{args.repeat} rounds):", "", "| interaction | median | worst |", "|---|---|---|"]
    lines += [f"| {k} | {v['median_ms']} ms | {v['max_ms']} ms |" for k, v in o["interactions"].items()]
    if results.get("stages"):
        st = results["stages"]
        names = list(next(iter(st.values()))["stages_s"])
        lines += ["", "Where a sentence's kernel time goes, stage by stage (CPU seconds per sentence, one torch "
                  "thread; the notebook's cells, scripts/bench_stages.py):", "",
                  "| stage | " + " | ".join(f"{k} ({v['n']} sentences, {v['tokens_mean']} tokens)" for k, v in st.items())
                  + " |", "|---|" + "---|" * len(st)]
        lines += [f"| {n} | " + " | ".join(f"{v['stages_s'][n]:.3f}" for v in st.values()) + " |" for n in names]
        lines += ["| **all** | " + " | ".join(f"**{v['per_sentence_s']:.2f}**" for v in st.values()) + " |"]
        lines += ["", "How the cost grows with length (tokens, CPU seconds): " + "; ".join(
            ", ".join(f"{t}: {c:.1f}" for t, c in sorted(zip(v["tokens"], v["total_s"]))) + f" ({k})"
            for k, v in st.items()) + "."]
    length = (results.get("build") or {}).get("length")
    if length:
        lines += ["", f"How a dev sentence's kernel CPU time grows with its length, over the build's "
                  f"{length['n']} notebooks (five bins of equal count; a fit cpu = a * tokens^b gives "
                  f"b = {length['exponent']}, where 1 would be linear):", "",
                  "| tokens | notebooks | CPU s (median) |", "|---|---|---|"]
        lines += [f"| {row['tokens'][0]}–{row['tokens'][1]} | {row['n']} | {row['cpu_s_median']} |"
                  for row in length["bins"]]
    lines += ["", f"Raw figures: `{json.dumps(results, separators=(',', ':'))[:6000]}`", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
