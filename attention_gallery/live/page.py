"""The "Try your own sentence" page (``gallery/live/``) and the files it serves.

The page is Markdown with one HTML block: a text box, a run button, a progress bar
and the place the results go. Its front matter (``gallery_entry: live``) makes the
theme load the live page's entry (``docs/assets/javascripts/live.js``, bundled with
the gallery's modules) instead of the gallery pages' one; it does the rest in the
browser, lazily: nothing is downloaded until the reader runs a sentence. It reads
its settings from one inert JSON element (``#live-config``) written here: the files'
addresses and sizes, the pair's labels and names, the sentence limit and its
message, the rules of what a text may contain (``rules.json`` "text": the build's own)
and the deletion test's parameters (the same constants as the build's).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .. import config, rules
from ..catalog import Catalog
from ..explain import views

PAGE = "live"  # gallery/live.md: a name sentence slugs may not take (config.RESERVED_SLUGS)
ASSET_DIR = "assets/live"
VENDOR = "assets/vendor"
RUNTIME = {  # what the page loads from the vendor folder (build/assets.py fetches it)
    "ort": "onnxruntime-web/ort.wasm.min.js",
    "mjs": "onnxruntime-web/ort-wasm-simd-threaded.mjs",
    "wasm": "onnxruntime-web/ort-wasm-simd-threaded.wasm",
    "tokenizers": "tokenizers/tokenizers.min.mjs",
}
# the inference worker (the page itself loads its entry from the theme) and the page's styles
SCRIPTS = {"worker": "assets/javascripts/live-worker.js", "css": "assets/stylesheets/live.css"}
# The random baseline of the deletion test: the gallery draws 200 orders where a k has
# more than EXACT_LIMIT subsets; the browser draws fewer (one forward pass per order
# and k costs about as much there as ten in the build) and says so, with its error.
LIVE_DRAWS = 10
IG_NOTE = ("Integrated Gradients is not computed here: it needs gradients, a backward pass "
           "through the model, which the browser runtime does not do. Every gallery page "
           "shows it, with its completeness check.")
UNTRAINED_NOTE = ("The untrained head is one random draw (seed {seed}): its verdict is chance, "
                  "not a judgement. The gallery pages also draw it with {n} seeds; this page "
                  "shows the one head the gallery calls untrained.")


@dataclass
class LiveSite:
    """What the live page needs: its Markdown and the files to serve (site path ->
    source file), or the reason the pair cannot run live."""

    markdown: str
    files: dict[str, Path] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)
    reason: str | None = None


def _named(path: Path, stem: str) -> str:
    """A site path for ``path`` named by its content, so a browser may keep it for good."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"{ASSET_DIR}/{stem}-{digest}{''.join(path.suffixes)}"


def prepare(spec, published: dict, vendor_dir: Path) -> LiveSite:
    """The live page of ``spec`` from what the build exported (the manifest's
    ``live``: :func:`.export.published`)."""
    if "reason" in published:
        return LiveSite(markdown=unavailable_page(published["reason"]), reason=published["reason"])
    facts = published["facts"]
    graph = {k: Path(p) for k, p in published["graph"].items()}
    tokenizer = {k: Path(p) for k, p in published["tokenizer"].items()}
    names = {"model": f"{ASSET_DIR}/{spec.slug}-{facts['files']['model']['sha256'][:16]}.onnx-skeleton",
             "weights": f"{ASSET_DIR}/{spec.slug}-{facts['files']['weights']['sha256'][:16]}.f16",
             "tokenizer": _named(tokenizer["tokenizer.json"], f"{spec.slug}-tokenizer"),
             "tokenizer_config": _named(tokenizer["tokenizer_config.json"], f"{spec.slug}-tokenizer_config")}
    files = {names["model"]: graph["model"], names["weights"]: graph["weights"], names["tokenizer"]: tokenizer["tokenizer.json"],
             names["tokenizer_config"]: tokenizer["tokenizer_config.json"]}
    sizes = {key: files[site].stat().st_size for key, site in names.items()}
    for key, rel in RUNTIME.items():
        names[key] = f"{VENDOR}/{rel}"
        source = Path(vendor_dir) / rel
        sizes[key] = source.stat().st_size if source.is_file() else 0
    return LiveSite(markdown="", files=files, facts={**facts, "names": names, "sizes": sizes})


# every file the page loads for its first run (the page itself aside)
DOWNLOAD = ("model", "weights", "wasm", "tokenizer", "tokenizer_config", "mjs", "ort", "tokenizers")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def settings(spec, site: LiveSite, urls: dict[str, str], catalog: Catalog) -> dict:
    """The page's #live-config: everything live.js needs, nothing it must guess."""
    facts = site.facts
    methods = {name: {"title": m.title, "description": m.description, "unit": m.unit, "signed": m.signed}
               for name, m in catalog.in_browser().items()}
    return {
        "pair": spec.slug, "labels": list(spec.labels), "layers": facts["layers"], "heads": facts["heads"],
        "names": {"trained": views.model_name("trained"), "untrained": views.model_name("untrained")},
        "untrained_name": config.UNTRAINED_NAME,
        # the gallery pages' side-by-side block, as they write it (live.js sets its
        # source, layer and head for each sentence)
        "compare_block": views.compare_block("", 0, 0),
        "display": {"trained": spec.trained.display_name, "untrained": spec.untrained.display_name},
        "head_seed": spec.head_seed, "max_tokens": config.MAX_TOKENS,
        "text_rules": rules.load()["text"],  # what a text may contain: the build's rules, as data
        "special_ids": facts["special_ids"], "scale": config.ATTENTION_LEVELS,
        "urls": urls, "sizes": facts["sizes"], "download": list(DOWNLOAD),
        "model": {"regions": facts["regions"], "bytes": facts["model_bytes"]},
        "methods": methods, "rollout_residual": catalog.methods["rollout"].settings["residual"],
        "deletion": {"ks": list(catalog.ks), "bins": list(catalog.bins), "exact_limit": catalog.exact_limit,
                     "draws": LIVE_DRAWS, "reading": catalog.reading, "removal": catalog.removal,
                     "random_title": catalog.random_title},
        "head_measure": catalog.head_change,
        # the faithfulness verdict: the gallery's rule, as data (lib/claims.js applies it)
        "claims": rules.section("claims")["faithfulness"],
        # "What to notice": the gallery pages' rules, as data (lib/notice.js says what explain/notice.py says)
        "notice_rules": {name: rules.section("claims")[name] for name in ("faithfulness", "head", "norms", "tokens", "untrained")},
        # token colours: a share of the method's total |score| (rules.json, as views.colour_scale)
        "colour": {"full_share": views.full_share()},
        "notes": {"ig": IG_NOTE, "untrained": UNTRAINED_NOTE.format(seed=spec.head_seed, n=config.HEAD_SEEDS)},
    }


def page_markdown(spec, site: LiveSite, urls: dict[str, str], catalog: Catalog) -> str:
    """The page: what it does, the form, where results go, and its settings."""
    facts = site.facts
    sizes = facts["sizes"]
    download = sum(sizes[k] for k in DOWNLOAD)
    check = facts["check"]
    cfg = views.safe_json(settings(spec, site, urls, catalog))
    return f"""---
gallery_entry: live
---

# Try your own sentence

Type a sentence and run it: both models of the gallery run **live, in your browser**,
on your sentence, and this page shows what a gallery page shows (except Integrated
Gradients, see below): the {views.esc(views.model_name('trained'))} and
{views.esc(config.UNTRAINED_NAME)}, their predictions, their attention, what
fine-tuning changed and which tokens drove the prediction. Nothing you type leaves
your browser.

<div class="live-form" markdown="0">
<label for="live-text">Your sentence (at most {config.MAX_TOKENS} tokens)</label>
<textarea id="live-text" rows="3" maxlength="{rules.load()['text']['max_chars']}" spellcheck="true" dir="auto"
  placeholder="The plot was thin, but I could not stop smiling."></textarea>
<div class="live-actions">
<button id="live-run" class="md-button md-button--primary" type="button">Run both models</button>
<span class="live-size">The first run downloads the models and the runtime from this site,
{_mb(download)} (your browser keeps them); nothing is downloaded before you press it.</span>
</div>
<div id="live-status" role="status" aria-live="polite"></div>
<progress id="live-progress" max="{download}" value="0" hidden></progress>
<noscript><p>This page needs JavaScript: the models run in your browser.</p></noscript>
</div>

<div id="live-output" markdown="0"></div>
<output id="live-result" data-result="" data-stage="idle" hidden></output>

## What runs, and how closely it matches the gallery

* **Computed live.** One ONNX graph holds both models: the pretrained encoder's
  weights, the fine-tuning's LoRA factors and both classification heads; the
  untrained model is the same graph with the LoRA factors switched off and its
  random head (seed {spec.head_seed}) switched on. It runs on onnxruntime-web
  (WebAssembly, one thread, in a worker; a second worker shares leave-one-out and the
  deletion test where your device has a second core), and the tokenizer reads the
  model's own `tokenizer.json`: the same token ids as the build.
* **The same views as a gallery page**, drawn by the same code: the side-by-side block
  (one head of both models, gained and lost, one set of controls), the model views,
  the head-change map (a cell opens the block on its head) and the token scores.
* **Weights in float16** ({_mb(sizes['weights'])} instead of twice that; widened to
  float32 in your browser, so every computation is in float32). Checked against
  PyTorch when the site was built, on {facts['check_sentences']} sentences: probabilities
  within {check['probs']:.1g}, attention weights within {check['attention']:.1g} (one
  level of the views' 256 is 0.004).
* {views.esc(IG_NOTE)}
* The deletion test's random baseline is exact where a number of removed tokens has at
  most 256 subsets, as on the gallery pages; otherwise it is estimated from
  {LIVE_DRAWS} random orders drawn in your browser (the gallery draws 200), with its
  standard error.
* {views.esc(UNTRAINED_NOTE.format(seed=spec.head_seed, n=config.HEAD_SEEDS))}
* A link such as `?text=a%20quiet%20triumph` opens this page and runs that sentence;
  `?text=…#head-3-4` also opens the side-by-side block on layer 3, head 4.

<script type="application/json" id="live-config">{cfg}</script>
<link rel="stylesheet" href="{urls['css']}">
"""


def unavailable_page(reason: str) -> str:
    return f"""# Try your own sentence

This gallery's model pair cannot run in the browser: {views.esc(reason)}. The default pair
(`--pair {config.DEFAULT_PAIR}`) can.
"""
