"""Measure the live page (gallery/live/) of a built site in headless Chromium, and
check it against the Python pipeline on every sentence of a set.

    python scripts/bench_live.py [--site site] [--sentences sentences/gallery.yaml]

* download: what the page fetches when the reader first runs a sentence (raw, and
  gzip-compressed as a static host may send it);
* first visit: from pressing "Run" on an empty browser cache to both predictions
  and the attention views (download, WebAssembly compile, session, both models);
* warm visit: the same with the models in the browser's cache (a new page: the
  session starts again; the page starts it as it opens), run pressed at once (the
  median of 3 new pages, with the range); and after 3 s in the text box, as a reader
  typing a sentence;
* a later sentence: pressing run again on the same page (43 tokens), and the time
  until leave-one-out and the deletion test are complete;
* agreement: every sentence of the set through the live page, against PyTorch
  (the build's models): max |dp|, max |d attention|, most-changed heads that differ
  (a different head counts only if it is more than 0.005 below the top in Python's
  head change).

Prints a table, rewrites the "Live page" section of docs/performance.md (unless
--no-write), ends with one JSON line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "scripts"))

LONG = "although-the-first-act-drags"  # 43 tokens (sentences/bench-pages.yaml)
SHORT = "not-really-good"
TIMEOUT_MS = 300_000
TYPING_S = 3.0  # a reader typing a short sentence before pressing run
WARM_REPEATS = 3
_RESULT_IS = """(text) => { const r = document.querySelector('#live-result').getAttribute('data-result');
  return !!r && JSON.parse(r).text === text; }"""


def sizes(site: Path) -> dict:
    """{file: (raw bytes, gzip bytes)} of what the live page loads."""
    page = (site / "gallery" / "live" / "index.html").read_text(encoding="utf-8")
    cfg = json.loads(re.search(r'<script type="application/json" id="live-config">(.*?)</script>', page, re.DOTALL).group(1))
    out = {}
    base = site / "gallery" / "live"
    for key, rel in cfg["urls"].items():
        path = (base / rel).resolve()
        data = path.read_bytes()
        out[key] = (len(data), len(gzip.compress(data, 6)))
    return out


def _wait(page, text: str, stage: str | None = None):
    page.wait_for_function(_RESULT_IS, arg=text, timeout=TIMEOUT_MS)
    if stage:
        page.wait_for_selector(f'#live-result[data-stage="{stage}"]', state="attached", timeout=TIMEOUT_MS)
    return json.loads(page.get_attribute("#live-result", "data-result"))


def _press(page, text: str) -> float:
    page.fill("#live-text", text)
    started = time.perf_counter()
    page.click("#live-run")
    return started


def _first_run(ctx, url: str, text: str, name: str, out: dict, typing_s: float = 0.0):
    """A new page of ``ctx``: run ``text``, time it until the predictions and views.
    ``typing_s``: the reader is in the text box that long before pressing run (the page
    starts the runtime as it opens, if the models are cached)."""
    from browser import wait_for_views

    page = ctx.new_page()
    page.goto(url, wait_until="load")
    if typing_s:
        page.focus("#live-text")
        page.wait_for_timeout(typing_s * 1000)
    started = _press(page, text)
    result = _wait(page, text, "predictions")
    wait_for_views(page, force=False)
    out[f"{name}_s"] = time.perf_counter() - started
    out[f"{name}_timings"] = result["timings"]
    return page


def measure(site: Path, texts: dict[str, str], sentences: list[dict], pair) -> dict:
    import numpy as np
    from browser import launch, new_context, serve

    from attention_gallery.explain.forward import run_sentence
    from attention_gallery.explain.headchange import head_change

    out = {}
    with serve(site) as base, launch() as browser:
        url = base + "gallery/live/"
        ctx = new_context(browser)
        page = _first_run(ctx, url, texts[SHORT], "cold", out)
        _wait(page, texts[SHORT], "complete")
        started = _press(page, texts[LONG])
        _wait(page, texts[LONG], "predictions")
        out["later_s"] = time.perf_counter() - started
        result = _wait(page, texts[LONG], "complete")
        out["long_complete_s"] = time.perf_counter() - started
        out["long_timings"] = result["timings"]
        page.close()
        _first_run(ctx, url, texts[SHORT], "typed", out, typing_s=TYPING_S).close()
        warm_s = []
        for _ in range(WARM_REPEATS - 1):
            _first_run(ctx, url, texts[SHORT], "warm", out).close()
            warm_s.append(out["warm_s"])
        warm = _first_run(ctx, url, texts[SHORT], "warm", out)
        warm_s.append(out["warm_s"])
        out["warm_runs_s"] = warm_s
        out["warm_s"] = statistics.median(warm_s)
        # agreement on every sentence (a new sentence cancels the last one's follow-up)
        worst = {"dp": 0.0, "dattention": 0.0}
        mismatches, later = [], []
        for s in sentences:
            started = time.perf_counter()
            warm.evaluate("(text) => { window.LiveGallery.run(text); }", s["text"])
            result = _wait(warm, s["text"])
            later.append(time.perf_counter() - started)
            att = warm.evaluate("""() => { const r = window.LiveGallery.last.runs;
                return [Array.from(r.trained.attention), Array.from(r.untrained.attention)]; }""")
            run = run_sentence(pair, s["text"])
            for which, got in zip(("trained", "untrained"), att):
                ref = getattr(run, which)
                worst["dp"] = max(worst["dp"], float(np.abs(np.array(result[which]["probs"]) - ref.probs).max()))
                worst["dattention"] = max(worst["dattention"], float(np.abs(np.array(got).reshape(ref.attention.shape)
                                                                                - ref.attention).max()))
            change = head_change(run.untrained.attention, run.trained.attention)
            py = tuple(int(i) for i in np.unravel_index(np.argmax(change), change.shape))
            js = tuple(result["top_head"])
            if js != py and change[py] - change[js] > 0.005:
                mismatches.append(f"{s['slug']}: live {js}, Python {py}")
        out.update(worst)
        out["sentences"] = len(sentences)
        out["top_head_mismatches"] = mismatches
        out["later_median_s"] = statistics.median(later)
        ctx.close()
    return out


def section(res: dict, files: dict, command: str) -> str:
    raw = sum(r for r, _ in files.values())
    gz = sum(g for _, g in files.values())
    weights, skeleton, wasm = files["weights"], files["model"], files["wasm"]
    c, w, lt = res["cold_timings"], res["warm_timings"], res["long_timings"]
    rows = [
        ("download: every file of the live page (the page itself aside)", f"{raw / 1e6:.1f} MB raw, {gz / 1e6:.1f} MB gzip"),
        ("of which the weights (float16)", f"{weights[0] / 1e6:.1f} MB raw, {weights[1] / 1e6:.1f} MB gzip"),
        ("of which the graph's skeleton", f"{skeleton[0] / 1e6:.2f} MB raw, {skeleton[1] / 1e6:.2f} MB gzip"),
        ("of which onnxruntime-web's WebAssembly", f"{wasm[0] / 1e6:.1f} MB raw, {wasm[1] / 1e6:.1f} MB gzip"),
        ("first visit: run pressed -> predictions and views (download from 127.0.0.1 included)",
         (f"{res['cold_s']:.1f} s "
          f"(files in {c['download_s']:.1f} s, worker ready {c['start_s']:.1f} s)")),
        (f"models cached, new page: run pressed at once -> predictions and views (median of {WARM_REPEATS})",
         (f"{res['warm_s']:.1f} s ({min(res['warm_runs_s']):.1f}–{max(res['warm_runs_s']):.1f}; "
          f"worker ready {w['start_s']:.1f} s: runtime {w['runtime_s']:.1f} s while the files are read, "
          f"then the session {w['session_s']:.1f} s)")),
        ((f"models cached, new page, {TYPING_S:.0f} s in the text box first (the runtime starts as the page opens): "
          "run pressed -> predictions and views"), f"{res['typed_s']:.1f} s"),
        ("a later sentence on the same page (43 tokens): -> predictions", f"{res['later_s']:.2f} s"),
        ("a later sentence, median over the set: -> predictions", f"{res['later_median_s']:.2f} s"),
        ("43 tokens: leave-one-out and the deletion test complete",
         (f"{res['long_complete_s']:.1f} s after pressing run (leave-one-out {lt['loo_ms'] / 1000:.1f} s, "
          f"deletion test {lt['deletion_ms'] / 1000:.1f} s)")),
        (f"agreement with PyTorch, {res['sentences']} sentences: max abs difference of a probability",
         f"{res['dp']:.2g}"),
        ("... of an attention weight", f"{res['dattention']:.2g}"),
        ("... most-changed head not the Python one (beyond 0.005)", str(len(res["top_head_mismatches"]))),
    ]
    table = "| measure | value |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    return f"""## The live page

*Try your own sentence* runs both models in the browser. Measured by `{command}`
(`make bench-live`) in headless Chromium on a machine with
{__import__('os').cpu_count()} CPU cores, onnxruntime-web on one thread (no COOP/COEP
headers, as on GitHub Pages), served from 127.0.0.1 by Python's `http.server`; one
run, on a shared machine, so the timings vary with its load. Nothing is downloaded
until the reader runs a sentence; the gallery's other pages load none of it.

{table}
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, default=REPO / "site")
    ap.add_argument("--sentences", type=Path, default=REPO / "sentences" / "gallery.yaml")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite docs/performance.md")
    args = ap.parse_args(argv)
    import yaml

    from attention_gallery.models import load_pair

    texts = {s["slug"]: s["text"] for s in yaml.safe_load((REPO / "sentences" / "bench-pages.yaml")
                                                            .read_text(encoding="utf-8"))["sentences"]}
    sentences = yaml.safe_load(args.sentences.read_text(encoding="utf-8"))["sentences"]
    pair = load_pair("minilm-sst2")
    files = sizes(args.site)
    res = measure(args.site, texts, sentences, pair)
    command = "python scripts/bench_live.py"
    body = section(res, files, command)
    print(body)
    if not args.no_write:
        from bench import write_section

        write_section("live", body)
        print("wrote docs/performance.md (section: live)")
    print(json.dumps({**res, "files": files}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
