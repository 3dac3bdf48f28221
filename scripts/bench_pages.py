"""How fast sentence pages draw in a reader's browser: `make bench-pages`.

Builds a small set (sentences/bench-pages.yaml: 16, 43 and 128 tokens) with the
default pair, then opens each sentence page in headless Chromium (Debian's, through
tests/browser.py) the way a reader does: from the top, scrolled one viewport every
250 ms to the bottom. Per page it reports

* elements: DOM elements once every view is drawn (all views forced drawn first);
* all drawn: seconds from navigation until every view is drawn;
* worst wait: the longest a view took to be drawn after it entered the viewport;
* first view: seconds from navigation until the first view is drawn;
* TBT: total blocking time (sum of long tasks' time beyond 50 ms, from navigation
  until the last view is drawn; long tasks from a PerformanceObserver installed
  before the page's own scripts);
* longest task;
* palette: milliseconds of long tasks in the 2 s after a click on the palette toggle;
* bytes on a first visit (empty cache): every file fetched, uncompressed and
  gzip-compressed (level 6, as static hosts serve them);
* TBT and longest task in the main thread's CPU time: one more visit of each of the
  gallery's pages, traced (Chromium's trace gives each task's CPU time): what the
  wall-clock figures come to on an idle machine. On a shared machine a task takes
  longer than the work in it whenever another process holds the core; the load
  average is reported with the figures.

The same figures are measured on a baseline page in the same run: the same built
page with the views drawn by stock bertviz (bertviz's model_view.js / head_view.js
with d3, jQuery and require.js, as the gallery drew them before; attention blob in
the earlier base64 form). A baseline page that has not drawn every view after
``--timeout`` seconds is reported as "did not finish". The gallery's pages are
measured ``--repeat`` times (median, with min-max); the machine is shared and timing
is noisy, so ratios come from the same run.

Prints a table, rewrites its section of docs/performance.md, ends with one JSON line.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

SENTENCES = ROOT / "sentences" / "bench-pages.yaml"
STOCK_JS = ROOT / "scripts" / "bench_pages_stock.js"
SCROLL_MS = 250
PALETTE_WINDOW_MS = 2000
VIEWPORT = (1280, 900)

# Long tasks, recorded from before the page's first script runs.
INIT = """
window.__longtasks = [];
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
}).observe({type: 'longtask', buffered: true});
"""

STATE = """() => {
  const now = performance.now();
  const vh = window.innerHeight;
  return {now, views: Array.from(document.querySelectorAll('.gallery-bertviz')).map(el => {
    const r = el.getBoundingClientRect();
    return {seen: r.bottom > 0 && r.top < vh,
            drawn: el.hasAttribute('data-drawn') && !!el.querySelector('canvas, svg line')};
  }), bottom: window.scrollY + vh >= document.documentElement.scrollHeight - 2};
}"""


class Watchdog:
    """Kills the browser processes this script started once ``seconds`` pass (a page
    frozen by its own drawing cannot be interrupted any other way)."""

    def __init__(self, seconds: float):
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def _fire(self):
        import psutil

        self.fired = True
        for child in psutil.Process().children(recursive=True):
            if "chrom" in child.name().lower():
                try:
                    child.kill()
                except psutil.Error:
                    pass

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        return self.fired  # a killed browser's errors are the timeout, reported as such


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel"]


def main_thread_tasks(trace: Path) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) of each task of the page's main thread in a Chromium trace
    (the renderer main thread that ran the most)."""
    events = json.loads(trace.read_text())
    events = events["traceEvents"] if isinstance(events, dict) else events
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name" and e["args"].get("name") == "CrRendererMain"}
    runs: dict[tuple, list] = {m: [] for m in mains}
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key in runs and e.get("ph") == "X" and e.get("name") == "ThreadControllerImpl::RunTask":
            runs[key].append(e)
    tasks = {}
    for key, found in runs.items():  # top-level tasks only (a task may run another inside it)
        end, tasks[key] = -1.0, []
        for e in sorted(found, key=lambda e: (e["ts"], -e["dur"])):
            if e["ts"] >= end:
                tasks[key].append((e["dur"] / 1000, e.get("tdur", 0) / 1000))
                end = e["ts"] + e["dur"]
    return max(tasks.values(), key=lambda t: sum(c for _, c in t), default=[])


def measure(url: str, site: Path, timeout: float, trace: Path | None = None) -> dict:
    """One first visit of ``url`` (fresh browser, empty cache); ``trace``: traced
    (CPU time of the main thread's tasks until every view is drawn; the tracing slows
    the page, so its wall-clock figures are not the ones to report)."""
    from browser import launch, new_context
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    result = {"finished": False, "load": os.getloadavg()[0]}
    with Watchdog(timeout + 60) as dog, launch() as browser:
        context = new_context(browser, *VIEWPORT)
        context.add_init_script(INIT)
        fetched = {}
        context.on("requestfinished", lambda req: fetched.setdefault(req.url, True))
        page = context.new_page()
        page.set_default_timeout(timeout * 1000 + 30_000)
        if trace is not None:
            browser.start_tracing(page=page, path=str(trace), categories=TRACE_CATEGORIES)
        try:
            page.goto(url, wait_until="load")
        except PlaywrightTimeout:  # a page frozen by its own drawing past the timeout
            context.close()
            return result
        seen, drawn, state = {}, {}, None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = page.evaluate(STATE)
            for i, v in enumerate(state["views"]):
                if v["seen"]:
                    seen.setdefault(i, state["now"])
                if v["drawn"]:
                    drawn.setdefault(i, state["now"])
            if len(drawn) == len(state["views"]) and state["bottom"]:
                break
            page.evaluate("window.scrollBy(0, window.innerHeight)")
            page.wait_for_timeout(SCROLL_MS)
        n = len(state["views"])
        result.update(views=n, finished=len(drawn) == n)
        if trace is not None:
            browser.stop_tracing()
            cpu = [c for _, c in main_thread_tasks(trace)]
            if result["finished"]:
                result.update(cpu_tbt_ms=sum(max(0.0, c - 50) for c in cpu), cpu_longest_ms=max(cpu, default=0.0))
            context.close()
            return result
        if result["finished"]:
            last = max(drawn.values())
            tasks = page.evaluate("window.__longtasks")
            before = [d for s, d in tasks if s < last]
            result.update(
                all_drawn_s=last / 1000,
                first_view_s=drawn[0] / 1000,
                worst_wait_s=max(max(0.0, drawn[i] - seen.get(i, drawn[i])) for i in drawn) / 1000,
                tbt_ms=sum(max(0.0, d - 50) for d in before),
                longest_ms=max(before, default=0.0))
            page.evaluate("window.GalleryViews && window.GalleryViews.drawAll()")
            page.wait_for_timeout(500)
            result["elements"] = page.evaluate("document.querySelectorAll('*').length")
            page.wait_for_timeout(500)
            page.evaluate("window.scrollTo(0, 0); window.__longtasks.length = 0")
            page.wait_for_timeout(300)
            clicked = page.evaluate("performance.now()")
            page.locator("form[data-md-component=palette] label:visible").first.click(
                timeout=timeout * 1000)
            page.wait_for_timeout(PALETTE_WINDOW_MS)
            page.evaluate("1")  # returns once the page is responsive again
            tasks = page.evaluate("window.__longtasks")
            result["palette_ms"] = sum(d for s, d in tasks if clicked <= s < clicked + PALETTE_WINDOW_MS)
            result["palette_frozen_ms"] = sum(d for s, d in tasks if s >= clicked)
        raw = gz = 0
        for u in fetched:
            path = site / u.split("/", 3)[3].split("#")[0].split("?")[0]
            if path.is_dir():
                path = path / "index.html"
            if path.is_file():
                data = path.read_bytes()
                raw += len(data)
                gz += len(gzip.compress(data, 6))
        result.update(bytes=raw, gzip_bytes=gz, files=len(fetched))
        context.close()
    if dog.fired:
        result = {"finished": False, "views": result.get("views"), "load": result["load"]}
    return result


# --------------------------------------------------------------------------- baseline


def stock_site(site: Path, out: Path) -> Path:
    """A copy of ``site`` whose sentence pages draw their views with stock bertviz."""
    from attention_gallery.build import assets

    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(site, out)
    vendor = assets.ensure_bench_vendor(quiet=True)  # stock bertviz's scripts, outside the site
    shutil.copytree(vendor, out / "assets" / "vendor", dirs_exist_ok=True)
    shutil.copy(STOCK_JS, out / "assets" / "javascripts" / "gallery-views-stock.js")
    blob = re.compile(r'(<script[^>]*class="gallery-attention-data"[^>]*>)(.*?)(</script>)', re.DOTALL)

    def unpack(match):
        data = json.loads(match.group(2))
        raw = zlib.decompress(base64.b64decode(data.pop("weights")))
        half = len(raw) // 2
        data.update(encoding="uint8-base64", trained=base64.b64encode(raw[:half]).decode(),
                    untrained=base64.b64encode(raw[half:]).decode())
        return match.group(1) + json.dumps(data, separators=(",", ":")).replace("<", "\\u003c") + match.group(3)

    for page in (out / "gallery").glob("*/index.html"):
        html = page.read_text(encoding="utf-8")
        if "gallery-attention-data" not in html:
            continue
        html = blob.sub(unpack, html)
        # the gallery's views (its module entry, gallery.js; gallery-views.js before)
        html = re.sub(r'<script (?:type="module" (?:async )?)?src="([./]*)assets/javascripts/gallery(?:-views)?\.js[^"]*">'
                      r'</script>',
                      lambda m: "".join(f'<script src="{m.group(1)}assets/{f}"></script>' for f in (
                          "vendor/require.js", "vendor/bertviz-head-view.js", "vendor/bertviz-model-view.js",
                          "javascripts/gallery-views-stock.js")), html)
        page.write_text(html, encoding="utf-8")
    return out


# --------------------------------------------------------------------------- report


def summarize(runs: list[dict]) -> dict:
    done = [r for r in runs if r["finished"]]
    out = {"runs": len(runs), "finished": len(done),
           "load_range": [min(r["load"] for r in runs), max(r["load"] for r in runs)] if runs else None}
    if not done:
        return out
    for key in ("elements", "all_drawn_s", "first_view_s", "worst_wait_s", "tbt_ms", "longest_ms",
                "palette_ms", "palette_frozen_ms", "bytes", "gzip_bytes", "cpu_tbt_ms", "cpu_longest_ms"):
        values = [r[key] for r in done if key in r]
        if values:
            out[key] = statistics.median(values)
            out[key + "_range"] = [min(values), max(values)]
    return out


def fmt(s: dict, key: str, unit: str = "", digits: int = 1, scale: float = 1.0) -> str:
    if not s.get("finished"):
        return "did not finish"
    if key not in s:
        return "-"
    v = s[key] / scale
    lo, hi = (x / scale for x in s[key + "_range"])
    text = f"{v:,.{digits}f}{unit}"
    if s["finished"] > 1 and hi > lo:
        text += f" ({lo:,.{digits}f}-{hi:,.{digits}f})"
    return text


def ratio(ours: dict, base: dict, key: str, timeout: float) -> str:
    if not ours.get("finished") or key not in ours:
        return "-"
    if not base.get("finished"):
        return f"baseline did not finish in {timeout:.0f} s"
    b, o = base.get(key), ours[key]
    if b is None or (key == "worst_wait_s" and b == 0):
        return "-"  # a baseline that draws everything before it can be seen waits 0 s
    if o == 0:
        return f"{b:,.0f} → 0"
    return f"{b / o:,.1f}x less"


ROWS = [("elements (all views drawn)", "elements", "", 0, 1.0),
        ("time until all views drawn", "all_drawn_s", " s", 2, 1.0),
        ("longest wait of a view after entering the viewport", "worst_wait_s", " s", 2, 1.0),
        ("first view drawn", "first_view_s", " s", 2, 1.0),
        ("total blocking time", "tbt_ms", " ms", 0, 1.0),
        ("longest task", "longest_ms", " ms", 0, 1.0),
        ("total blocking time in main-thread CPU time (idle machine)", "cpu_tbt_ms", " ms", 0, 1.0),
        ("longest task in main-thread CPU time (idle machine)", "cpu_longest_ms", " ms", 0, 1.0),
        ("palette switch: long tasks in the 2 s after the click", "palette_ms", " ms", 0, 1.0),
        ("palette switch: all long tasks after the click", "palette_frozen_ms", " ms", 0, 1.0),
        ("first visit, uncompressed", "bytes", " KB", 0, 1000.0),
        ("first visit, gzip", "gzip_bytes", " KB", 0, 1000.0)]


def table(results: dict, timeout: float) -> str:
    lines = []
    for slug, r in results.items():
        traced = " and a traced one" if "cpu_tbt_ms" in r["ours"] else ""
        lines.append(f"\n**{slug}** ({r['tokens']} tokens, {r['ours'].get('runs')} runs of the gallery's "
                     f"page{traced}, {r['stock'].get('runs')} of the baseline)\n")
        lines.append("| measure | gallery (median, min-max) | stock bertviz (baseline) | ratio |")
        lines.append("|---|---|---|---|")
        for label, key, unit, digits, scale in ROWS:
            lines.append(f"| {label} | {fmt(r['ours'], key, unit, digits, scale)} | "
                         f"{fmt(r['stock'], key, unit, digits, scale)} | {ratio(r['ours'], r['stock'], key, timeout)} |")
    return "\n".join(lines) + "\n"


def section(results: dict, command: str, timeout: float, compact: dict) -> str:
    import platform

    loads = [x for r in results.values() for d in ("ours", "stock") for x in (r[d].get("load_range") or [])]
    load = (f"{min(loads):.1f}-{max(loads):.1f}" if loads else "-")

    return f"""## Reading a sentence page

How fast a sentence page draws in a reader's browser, measured by `{command}`
(`make bench-pages`) in headless Chromium on {os.cpu_count()} CPU cores
({platform.processor() or platform.machine()}), viewport {VIEWPORT[0]} x {VIEWPORT[1]}: each page
opened with an empty cache and scrolled one viewport every {SCROLL_MS} ms from the top. The
baseline is the same page with its views drawn by stock bertviz (one SVG element per
line, d3, jQuery and require.js), measured in the same run; "did not finish" means it had
not drawn every view after {timeout:.0f} s. The baseline's bytes count the same trimmed
page, so they differ from it by the view code and the attention data only. The
machine is shared: times vary from run to run (min-max over the runs shown); its load
(1-minute load average, {os.cpu_count()} cores) was {load} when the pages were opened. A
long task is measured in wall-clock time, so another process holding a core makes it
longer than the work in it; the rows "in main-thread CPU time" count the work only
(one more visit, traced by Chromium): what the page costs on an idle machine.
{table(results, timeout)}
Targets (issue #13), 43-token page: every view drawn within 2 s of entering the viewport,
total blocking time at most 300 ms, at most 300 ms of long tasks in the 2 s after a
palette switch, at most 30k elements, a first visit of at most 1.2 MB (400 KB gzip);
128-token page: first view within 2 s, no task over 200 ms.

Raw figures: `{json.dumps(compact)}`

"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=Path, default=SENTENCES)
    ap.add_argument("--site", type=Path, help="measure this built site instead of building one")
    ap.add_argument("--cache", type=Path, default=None, help="the build's cache (default: the gallery's)")
    ap.add_argument("--repeat", type=int, default=3, help="visits of each of the gallery's pages")
    ap.add_argument("--baseline-repeat", type=int, default=1, help="visits of each baseline page")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds a page may take to draw")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite docs/performance.md")
    ap.add_argument("--no-cpu", dest="cpu", action="store_false",
                    help="no traced visit (the main thread's CPU time per task)")
    args = ap.parse_args(argv)

    import yaml
    from bench import write_section
    from browser import serve

    from attention_gallery import config

    work = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    try:
        site = args.site
        if site is None:
            from attention_gallery.build.build import build

            print(f"building {args.sentences} ...", flush=True)
            report = build(args.sentences, config.DEFAULT_PAIR, work / "site", args.cache or config.CACHE_DIR,
                           quiet=True, progress=False)
            site = report.site_dir
        stock = stock_site(site, work / "stock")
        entries = yaml.safe_load(args.sentences.read_text(encoding="utf-8"))["sentences"]
        results = {}
        with serve(site) as base, serve(stock) as stock_base:
            for entry in entries:
                slug = entry["slug"]
                html = (site / "gallery" / slug / "index.html").read_text(encoding="utf-8")
                tokens = len(json.loads(re.search(r'class="gallery-attention-data"[^>]*>(.*?)</script>',
                                                  html, re.DOTALL).group(1))["tokens"])
                runs = {"ours": [], "stock": []}
                for k in range(max(args.repeat, args.baseline_repeat)):
                    for design, root, path, count in (("ours", base, site, args.repeat),
                                                      ("stock", stock_base, stock, args.baseline_repeat)):
                        if k >= count:
                            continue
                        r = measure(f"{root}gallery/{slug}/", path, args.timeout)
                        runs[design].append(r)
                        print(f"  {slug} [{design} {k + 1}] " + json.dumps(
                            {key: (round(v, 3) if isinstance(v, float) else v) for key, v in r.items()}), flush=True)
                ours = summarize(runs["ours"])
                if args.cpu and ours.get("finished"):
                    r = measure(f"{base}gallery/{slug}/", site, args.timeout, trace=work / "trace.json")
                    print(f"  {slug} [ours, traced] " + json.dumps(
                        {key: round(r[key], 1) for key in ("cpu_tbt_ms", "cpu_longest_ms", "load") if key in r}),
                        flush=True)
                    for key in ("cpu_tbt_ms", "cpu_longest_ms"):
                        if key in r:
                            ours[key], ours[key + "_range"] = r[key], [r[key], r[key]]
                results[slug] = {"tokens": tokens, "ours": ours, "stock": summarize(runs["stock"])}
        compact = {slug: {"tokens": r["tokens"], **{
            f"{design}_{key}": (round(r[design][key], 3) if isinstance(r[design].get(key), float) else r[design].get(key))
            for design in ("ours", "stock")
            for key in ("finished", "elements", "all_drawn_s", "first_view_s", "worst_wait_s", "tbt_ms",
                        "longest_ms", "palette_ms", "palette_frozen_ms", "bytes", "gzip_bytes", "load_range",
                        "cpu_tbt_ms", "cpu_longest_ms")
            if key in r[design]}}
            for slug, r in results.items()}
        print(table(results, args.timeout))
        if not args.no_write:
            command = "python scripts/bench_pages.py" + (f" --repeat {args.repeat}" if args.repeat != 3 else "")
            write_section("pages", section(results, command, args.timeout, compact))
            print("wrote docs/performance.md (section: pages)")
        print(json.dumps(compact))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
