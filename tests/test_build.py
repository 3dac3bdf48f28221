"""The build: parameters as data, the cache, failures and interrupts that keep the
previous site, and an end-to-end build of the default pair."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

from attention_gallery import config, record
from attention_gallery.build import download, notebook
from attention_gallery.build.build import BuildError, build
from attention_gallery.build.sentences import SentenceSetError
from attention_gallery.explain.methods import REGISTRY
from attention_gallery.web import pages

REPO = config.REPO_ROOT
TRICKY = "<script>alert(1)</script> \"><img src=x onerror=alert(1)> {{ x }} {% if %} ''' \"\"\" \\ \\n café 東京 مرحبا 😀"


def write_sentences(path: Path, rows) -> Path:
    path.write_text(yaml.safe_dump({"sentences": [
        {"slug": slug, "text": text, "label": label} for slug, text, label in rows]}, allow_unicode=True))
    return path


THREE = [("one-good", "A good film", "positive"), ("two-bad", "A bad film", "negative"),
         ("three-fine", "Fine, I guess", "positive")]


def _build(tmp_path, sentences, pair="tiny", out="site", **kw):
    return build(sentences, pair, tmp_path / out, tmp_path / "cache", quiet=True, progress=False, **kw)


# --- parameters are data -----------------------------------------------------

def test_injected_parameters_are_literals_not_code():
    template = notebook.read_template()
    nb = notebook.parameterize(template, {"text": TRICKY, "label": "positive", "slug": "x"}, title="X")
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    tree = ast.parse(injected[0].source)
    assert all(isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) for n in tree.body)
    namespace = {}
    exec(compile(tree, "injected", "exec"), namespace)
    assert namespace["text"] == TRICKY
    assert "東京" in injected[0].source and "😀" in injected[0].source  # readable, not \\u escapes
    # the cell sits right after the template's parameters cell, as papermill does
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
    assert nb.cells[0].source.startswith("# X\n")


def test_parameter_names_must_be_identifiers():
    with pytest.raises(ValueError, match="not an identifier"):
        notebook.parameterize(notebook.read_template(), {"a b": 1})


# --- bad input stops before anything runs -------------------------------------

def test_bad_sentence_file_stops_before_executing(tiny_registry, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sentences:\n  - slug: ../escape\n    text: fine\n    label: positive\n")
    with pytest.raises(SentenceSetError, match=r"bad.yaml.*entry 1.*line 2.*slug '../escape'"):
        _build(tmp_path, bad)
    assert not (tmp_path / "cache").exists() and not (tmp_path / "site").exists()


def test_unknown_pair_from_the_command_line(tmp_path):
    out = subprocess.run([sys.executable, "scripts/build_gallery.py", "--pair", "gpt-17",
                          "--out", str(tmp_path / "s")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "error: unknown model pair 'gpt-17'; known pairs: distilbert-imdb, minilm-sst2" in out.stderr
    assert "Traceback" not in out.stderr


# --- cache --------------------------------------------------------------------

@pytest.mark.slow
def test_cache_runs_only_what_changed(tiny_registry, tmp_path):
    sentences = write_sentences(tmp_path / "s.yaml", THREE)
    first = _build(tmp_path, sentences)
    assert sorted(first.executed) == ["one-good", "three-fine", "two-bad"]
    page = (tmp_path / "site" / "gallery" / "two-bad" / "index.html").read_bytes()

    store = tmp_path / "cache" / download.STORE
    made = {p.name: p.stat().st_mtime_ns for p in store.glob("*.ipynb")}
    assert len(made) == 3  # each notebook's download, kept for the next build

    site_files = {q: q.stat().st_mtime_ns for q in (tmp_path / "site").rglob("*") if q.is_file()}
    second = _build(tmp_path, sentences)
    assert second.executed == [] and len(second.cached) == 3
    assert second.up_to_date and second.mkdocs_seconds == 0  # nothing MkDocs reads changed: not run
    assert {q: q.stat().st_mtime_ns for q in (tmp_path / "site").rglob("*") if q.is_file()} == site_files
    assert (tmp_path / "site" / "gallery" / "two-bad" / "index.html").read_bytes() == page
    (tmp_path / "site" / "gallery" / "one-good" / "index.html").unlink()  # a page gone since: built again
    assert not _build(tmp_path, sentences).up_to_date
    assert (tmp_path / "site" / "gallery" / "one-good" / "index.html").is_file()
    (tmp_path / "site" / "index.html").write_text("edited by hand")  # a site touched since: built again
    again = _build(tmp_path, sentences)
    assert not again.up_to_date and again.mkdocs_seconds > 0
    assert (tmp_path / "site" / "index.html").read_text() != "edited by hand"
    assert {p.name: p.stat().st_mtime_ns for p in store.glob("*.ipynb")} == made  # none made again
    assert (tmp_path / "site" / "gallery" / "downloads" / "two-bad.ipynb").read_bytes() in \
        {p.read_bytes() for p in store.glob("*.ipynb")}

    changed = [THREE[0], ("two-bad", "A truly bad film", "negative"), THREE[2]]
    third = _build(tmp_path, write_sentences(tmp_path / "s.yaml", changed))
    assert third.executed == ["two-bad"]
    assert len(list(store.glob("*.ipynb"))) == 4  # the changed sentence's download alone is made
    nb = nbformat.read(str(tmp_path / "cache" / "tiny" / next(
        p.name for p in (tmp_path / "cache" / "tiny").iterdir()
        if "A truly bad film" in p.read_text())), as_version=4)
    assert nb.cells[0].source.startswith("# A truly bad film\n")  # the title is the sentence's text


def test_big_sets_are_listed_on_the_overview_not_in_every_page(tiny_registry, tmp_path, monkeypatch):
    sentences = write_sentences(tmp_path / "s.yaml", THREE)
    _build(tmp_path, sentences, out="listed")
    page = (tmp_path / "listed" / "gallery" / "two-bad" / "index.html").read_text()
    assert 'href="../one-good/"' in page  # a small set: every sentence in the nav

    monkeypatch.setattr(config, "NAV_SENTENCES_MAX", 2)
    _build(tmp_path, sentences, out="unlisted")  # strict: the unlisted pages are no error
    site = tmp_path / "unlisted"
    page = (site / "gallery" / "two-bad" / "index.html").read_text()
    assert "one-good" not in page and "three-fine" not in page
    # the gallery folder holds the sentences' pages and exactly the generated ones (reserved
    # slugs: the set pages, the live page and the notebooks' downloads)
    folders = {p.name for p in (site / "gallery").iterdir() if p.is_dir()}
    assert folders == {"one-good", "two-bad", "three-fine"} | {p.name for p in pages.PAGES} - {"index"} \
        | {"downloads", "norms"}
    assert folders - {"one-good", "two-bad", "three-fine"} <= set(config.RESERVED_SLUGS)
    overview = (site / "gallery" / "index.html").read_text()
    for slug in ("one-good", "two-bad", "three-fine"):  # the overview still links them all
        assert f'href="{slug}/"' in overview
        assert (site / "gallery" / slug / "index.html").is_file()


def test_downloads_and_figures_are_made_from_the_stored_data_and_no_unused_library_is_published(
        tiny_registry, tmp_path):
    from attention_gallery.explain import views

    _build(tmp_path, write_sentences(tmp_path / "s.yaml", THREE[:1]))
    site = tmp_path / "site"
    nb = nbformat.read(str(tmp_path / "cache" / "tiny" / next(
        p.name for p in (tmp_path / "cache" / "tiny").glob("*.ipynb"))), as_version=4)
    rec = record.read(nb, list(REGISTRY))
    source, payload = views.attention_output(nb)
    trained, untrained = views.attention_weights(payload)
    assert trained.shape == untrained.shape == (2, 2, rec.n_tokens, rec.n_tokens)  # the tiny models
    assert np.allclose(trained.sum(-1), 1, atol=rec.n_tokens / 255)  # rows of attention, to 1/255 a weight
    assert [v["view"] for _, _, v in views.view_outputs(nb)] == ["head_view", "model_view", "model_view"]
    def blobs(html: str) -> list[dict]:
        return [json.loads(m) for m in re.findall(
            r'<script[^>]*class="gallery-attention-data"[^>]*id="' + source + r'"[^>]*>(.*?)</script>', html, re.DOTALL)]

    # the page carries what the notebook stores
    page = (site / "gallery" / "one-good" / "index.html").read_text()
    assert blobs(page) == [payload]
    # ... and names its norms blob's file, which the build wrote from the notebook
    norms_source, norms = views.norms_output(nb)
    assert norms_source == source and views.attention_weights(norms)[0].shape == trained.shape
    element = re.search(r'<script[^>]*id="' + source + r'"[^>]*>', page).group(0)
    file = re.search(r'data-norms="([^"?]+)\?v=[0-9a-f]{12}"', element).group(1)
    assert file == f"gallery/norms/{source}.js"
    assert (site / file).read_text() == views.norms_script(source, norms)

    # the download draws every view of the page: the side-by-side block's four head views too
    down = nbformat.read(str(site / "gallery" / "downloads" / "one-good.ipynb"), as_version=4)
    outputs = [o for c in down.cells for o in c.get("outputs", [])]
    scripts = [o["data"]["application/javascript"] for o in outputs if "application/javascript" in o.get("data", {})]
    assert len(scripts) == 8  # 4 head views (trained, untrained, gained, lost), 4 model views
    # each view's attention packed (build/download.py), once, and its script valid JavaScript
    for i, js in enumerate(scripts):
        assert js.count("__gvParams({") == 1 and '"deflated":"' in js and '"attn": [[[[' not in js
        (tmp_path / f"view-{i}.js").write_text(js)
        assert subprocess.run(["node", "--check", str(tmp_path / f"view-{i}.js")]).returncode == 0
    # drawn in the site's palette (views.json), not bertviz's own
    assert all(json.dumps(list(views.PALETTE)) in js and "schemeCategory10" not in js for js in scripts)
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert list(dict.fromkeys(re.findall(r"bertviz-head-view-([a-z]+)-0", html))) == list(views.COMPARE_ATTENTIONS)
    assert not [o for o in outputs if {views.ATTENTION_MIME, views.VIEW_MIME} & set(o.get("data", {}))]
    assert "gallery-attention-data" not in json.dumps(down)
    params = next(c for c in down.cells if "parameters" in c.metadata.get("tags", []))
    assert "text = 'A good film'" in params.source and "mode = 'jupyter'" in params.source
    assert f"title = {rec.title!r}" in params.source and "slug = 'one-good'" in params.source

    # the reading page's figures: the same sentence's blob and its most changed head
    reading = (site / "reading" / "index.html").read_text()
    layer, head, _ = rec.top_heads[0]
    assert f'data-source="{source}" data-layer="{layer}" data-head="{head}" data-sentence="one-good"' in reading
    assert blobs(reading) == [payload]
    assert views.norms_file(source, norms) in reading  # its views switch to norms too

    # d3, jQuery, require.js and stock bertviz's scripts draw no page: not published
    published = {p.name for p in site.rglob("*") if p.is_file()}
    assert not published & {"d3.min.js", "jquery.min.js", "require.js", "bertviz-head-view.js",
                            "bertviz-model-view.js"}
    for path in site.rglob("*.html"):
        assert not re.search(r'(src|href)="[^"]*(d3\.min|jquery[^"/]*|require|bertviz-(head|model)-view)\.js"',
                             path.read_text(encoding="utf-8")), path


# --- failures keep the previous site and the successes' cache -------------------

@pytest.mark.slow
def test_failing_sentence_is_named_and_the_site_is_kept(tiny_registry, tmp_path):
    sentences = write_sentences(tmp_path / "s.yaml", THREE)
    _build(tmp_path, sentences)
    before = {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()}

    template = nbformat.read(str(config.TEMPLATE), as_version=4)
    boom = nbformat.v4.new_code_cell('if slug == "boom":\n    raise RuntimeError("simulated failure")')
    template.cells.insert(4, boom)
    bad_template = tmp_path / "template.ipynb"
    nbformat.write(template, str(bad_template))
    rows = [("boom", "This one fails", "negative"), ("four-ok", "This one works", "positive")]
    with pytest.raises(BuildError) as err:
        _build(tmp_path, write_sentences(tmp_path / "s2.yaml", rows), template=bad_template)
    msg = str(err.value)
    assert "sentence 'boom' (line 2): cell 5" in msg and "RuntimeError: simulated failure" in msg
    assert "1 sentence(s) that succeeded are cached" in msg
    after = {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()}
    assert after == before
    assert not list(tmp_path.glob(".site.*"))
    cached = [p for p in (tmp_path / "cache" / "tiny").glob("*.ipynb") if "This one works" in p.read_text()]
    assert len(cached) == 1


def _template_without(tmp_path, *calls) -> Path:
    """A copy of the template without the code cells that call ``calls``."""
    template = nbformat.read(str(config.TEMPLATE), as_version=4)
    before = len(template.cells)
    template.cells = [c for c in template.cells
                      if not (c.cell_type == "code" and any(call in c.source for call in calls))]
    assert len(template.cells) == before - len(calls)
    path = tmp_path / f"template-without-{len(calls)}.ipynb"
    nbformat.write(template, str(path))
    return path


@pytest.mark.slow
def test_records_are_complete_whatever_cells_the_template_has(tiny_registry, tmp_path):
    sentences = write_sentences(tmp_path / "s.yaml", THREE[:2])
    lean = _template_without(tmp_path, "page.show_faithfulness(ex)", "page.show_head_change(ex)",
                             "page.show_attributions(ex)")
    _build(tmp_path, sentences, template=lean)
    for slug, _, _ in THREE[:2]:
        nb = nbformat.read(str(tmp_path / "site" / "gallery" / "downloads" / f"{slug}.ipynb"), as_version=4)
        r = record.read(nb, list(REGISTRY))  # complete, though no cell showed these parts
        assert r.slug == slug and set(r.faithfulness.trained) == {*REGISTRY, "random"}
        assert "gallery-attr-caption" not in json.dumps(nb)  # the attributions cell really was gone
    metrics = json.loads((tmp_path / "site" / "metrics.json").read_text())
    assert metrics["n"] == 2 and set(metrics["faithfulness"]) == {*REGISTRY, "random"}
    assert len(metrics["head_change"]) == 2  # the tiny models' 2 layers
    heads = (tmp_path / "site" / "gallery" / "heads" / "index.html").read_text()
    assert "No sentences yet" not in heads and "gallery-heatmap" in heads


@pytest.mark.slow
def test_a_template_without_the_record_cell_fails_naming_the_sentence(tiny_registry, tmp_path):
    sentences = write_sentences(tmp_path / "s.yaml", THREE[:1])
    with pytest.raises(BuildError, match=r"sentence 'one-good': the executed notebook has no record "
                                         r"\(the notebook's record cell, `page.record\(ex\)`"):
        _build(tmp_path, sentences, template=_template_without(tmp_path, "page.record(ex)"))
    assert not (tmp_path / "site").exists()


@pytest.mark.slow
def ctrl_c_reaches_it() -> None:
    """In the child before it runs: SIGINT as a terminal's foreground job has it. A test
    run as a background job (CI, nohup) passes SIGINT ignored to its children, and
    Python then keeps ignoring it, so the build would never see the Ctrl-C it tests."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_leaves_no_half_written_page(tiny_registry, tmp_path):
    many = [(f"s-{i}", f"Sentence number {i} is fine", "positive") for i in range(12)]
    sentences = write_sentences(tmp_path / "s.yaml", many[:2])
    _build(tmp_path, sentences)
    before = {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()}
    write_sentences(tmp_path / "s.yaml", many)
    env = {**os.environ, "ATTENTION_GALLERY_PAIRS": os.environ["ATTENTION_GALLERY_PAIRS"]}
    proc = subprocess.Popen([sys.executable, "scripts/build_gallery.py", "--sentences", str(sentences),
                             "--pair", "tiny", "--out", str(tmp_path / "site"), "--cache", str(tmp_path / "cache"),
                             "--quiet"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ctrl_c_reaches_it)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((tmp_path / "cache" / "tiny").glob("*.ipynb"))) < 4:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    after = {p: p.read_bytes() for p in (tmp_path / "site").rglob("*") if p.is_file()}
    assert after == before
    assert not list(tmp_path.glob(".site.*"))
    assert not list((tmp_path / "cache").rglob("*.tmp"))
    for nb_path in (tmp_path / "cache" / "tiny").glob("*.ipynb"):  # every cached notebook is whole
        nbformat.validate(nbformat.read(str(nb_path), as_version=4))
    # the next build finishes the job using what was cached
    report = _build(tmp_path, sentences)
    assert len(report.cached) >= 2 and len(report.executed) + len(report.cached) == 12


# --- end to end on the default pair ---------------------------------------------

@pytest.mark.slow
def test_end_to_end_default_pair(tmp_path):
    rows = [("not-bad-at-all", "The movie was not bad at all, highly recommend", "positive"),
            ("not-really-good", "This movie was not really good, I did not enjoy it at all", "negative"),
            ("tricky", TRICKY, "negative")]
    sentences = write_sentences(tmp_path / "s.yaml", rows)
    report = build(sentences, "minilm-sst2", tmp_path / "site", tmp_path / "cache", quiet=True, progress=False)
    assert sorted(report.executed) == ["not-bad-at-all", "not-really-good", "tricky"]
    site = tmp_path / "site"
    for slug, text, label in rows:
        page = (site / "gallery" / slug / "index.html").read_text()
        assert "logit negative" in page and "p(positive)" in page
        assert page.count('class="gallery-bertviz"') == 4 and page.count('class="gallery-compare"') == 1
        assert page.count('class="gallery-attention-data"') == 1  # the norms: a file of their own, fetched when asked for
        assert (site / "gallery" / "norms" / f"attention-{slug}.js").is_file()
        assert len(page.encode()) < 1_000_000
        assert f'href="../downloads/{slug}.ipynb"' in page
        # the download stands alone: the page's own sentence, every view saved with its data
        nb = nbformat.read(str(site / "gallery" / "downloads" / f"{slug}.ipynb"), as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert f"text = {text!r}" in params.source and "mode = 'jupyter'" in params.source
        assert not [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        scripts = [o["data"]["application/javascript"] for c in nb.cells for o in c.get("outputs", [])
                   if "application/javascript" in o.get("data", {})]
        assert len(scripts) == 8  # 4 model views, 4 head views (trained, untrained, gained, lost)
        assert all('"attention"' in js for js in scripts)
        html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
        assert 'class="gallery-attention-data"' not in html and 'class="gallery-bertviz"' not in html
        assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    index = (site / "gallery" / "index.html").read_text()
    for slug, _, _ in rows:
        assert f'href="{slug}/"' in index
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index and "<script>alert(1)" not in index
    # the explorer: one row per sentence, its values the records' (web/overview.py)
    explore = index[index.index('class="gallery-explore"'):]
    for slug, text, label in rows:
        row = re.search(r'<tr data-i="\d+" data-gold="(\w+)"[^>]*data-search="([^"]*)"><td class="gallery-text-cell">'
                        rf'<a href="{slug}/"', explore)
        assert row and row.group(1) == label, slug
    # a sentence page enters the search index by its title and sentence alone: one entry each
    search = json.loads((site / "search" / "search_index.json").read_text())["docs"]
    for slug, text, label in rows:
        entries = [d for d in search if d["location"].startswith(f"gallery/{slug}/")]
        assert len(entries) == 1, (slug, [d["location"] for d in entries])
        assert "logit" not in entries[0]["text"] and len(entries[0]["text"]) < 600
    assert any(d["location"].startswith("gallery/findings/") for d in search)  # the other pages whole
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert not re.search(r"cdnjs|jsdelivr|unpkg|googleapis", text), page
    metrics = json.loads((site / "metrics.json").read_text())
    assert metrics["n"] == 3 and len(metrics["head_change"]) == 6 and len(metrics["head_change"][0]) == 12
    assert list(metrics["faithfulness"]) == sorted([*REGISTRY, "random"])  # json sorts keys
    # the findings over SST-2 dev (its first 8 sentences in the suite: conftest), with the probes' control
    f = metrics["findings"]
    assert f["set"] == {"name": "SST-2 dev (first 8)", "n": 8}
    assert [c["id"] for c in f["cards"]] == ["depth", "sinks", "sinks_norm", "heads", "entropy", "methods", "probe"]
    assert all(len(f["layer_change"][p]) == 6 for p in ("total", "direct", "inherited"))
    for c in f["cards"]:
        assert {"id", "claim", "source", "value", "ci95", "runs_sd", "rule", "verdict"} <= set(c) <= \
            {"id", "claim", "source", "value", "ci95", "runs_sd", "runs", "runs_verdicts", "rule", "verdict", "unit"}
        assert c["verdict"] in ("holds", "partly", "not")
        if c["id"] == "heads":  # a share of the 72 heads; its interval judges every head again on each resample
            assert 0 <= c["value"] <= 1 and 0 <= c["ci95"][0] <= c["ci95"][1] <= 1
        else:
            assert c["ci95"][0] <= c["value"] <= c["ci95"][1]
        # the three runs, each judged by the card's rule (heads and methods on the sample); the verdict stands
        # only where all give it
        assert sorted(c["runs"]) == ["0", "1", "2"] and c["runs_sd"] is not None and c["runs_sd"] >= 0
        if c.get("runs_verdicts"):
            v = set(c["runs_verdicts"].values())
            assert c["verdict"] == (v.pop() if len(v) == 1 else "partly")
    assert len(f["head_ablation"]["accuracy_drop"]) == 6 and len(f["method_tau"]["matrix"]) == len(REGISTRY)
    t = metrics["training"]
    assert [r["seed"] for r in t["runs"]] == [0, 1, 2] and len(t["head_change_seed_sd"]) == 6
    assert t["timeline"]["steps"][0] == 0 and t["timeline"]["steps"][-1] == t["steps"]
    assert all(len(f["sinks"][m][k]) == 6 for m in ("trained", "untrained") for k in ("cls", "sep", "punct"))
    assert len(f["entropy"]["trained"]) == 6 and len(f["sinks_norm"]["untrained"]["cls"]) == 6
    findings_page = (site / "gallery" / "findings" / "index.html").read_text()
    for c in f["cards"]:
        assert f'data-rule="findings.{c["id"]}" data-outcome="{c["verdict"]}"' in findings_page
    for cited in ("Kovaleva et al. 2019", "Hao et al. 2020", "Clark et al. 2019", "Kobayashi et al. 2020"):
        assert cited in findings_page
    # the reference sentences are classified correctly by the trained model
    tricky_page = (site / "gallery" / "tricky" / "index.html").read_text()
    assert "&lt;img src=x onerror=alert(1)&gt;" in tricky_page and "<img src=x" not in tricky_page

    # the download re-runs top to bottom in plain Jupyter (nbclient, a fresh kernel)
    from nbclient import NotebookClient

    nb = nbformat.read(str(site / "gallery" / "downloads" / "not-bad-at-all.ipynb"), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    rerun = [o["data"]["application/javascript"] for c in nb.cells for o in c.get("outputs", [])
             if "application/javascript" in o.get("data", {})]
    assert len(rerun) == 8  # a re-run in Jupyter draws the same views

    # determinism: a cold rebuild elsewhere gives byte-identical notebooks and pages
    build(sentences, "minilm-sst2", tmp_path / "site2", tmp_path / "cache2", quiet=True, progress=False)
    for rel in ["gallery/downloads/tricky.ipynb", "gallery/tricky/index.html", "gallery/index.html",
                "metrics.json", "gallery/heads/index.html", "gallery/findings/index.html"]:
        assert (site / rel).read_bytes() == (tmp_path / "site2" / rel).read_bytes(), rel


def test_warm_kernel_gives_each_notebook_a_clean_namespace():
    from attention_gallery.build.execute import NotebookFailure, WarmKernel
    from attention_gallery.build.runs import Run

    # a displayed result is kept by IPython's displayhook (_, __, ___, _N, and _iN for its
    # input): a warm kernel must not carry one notebook's results into the next (memory)
    first = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("leak = 42\nimport json"),
                                            nbformat.v4.new_code_cell("bytearray(4_000_000)")])
    second = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('leak' in globals(), 'json' in globals())"),
        nbformat.v4.new_code_cell("print([n for n in ('_1', '_2', '_i1', '_i2') if n in globals()],"
                                  " [n for n, v in globals().items() if isinstance(v, bytearray)], len(Out))"),
        nbformat.v4.new_code_cell("1 / 0")])
    with Run() as run, WarmKernel(run.connection_file(0)) as kernel:
        kernel.run(first)
        with pytest.raises(NotebookFailure) as err:
            kernel.run(second)
    assert second.cells[0].outputs[0]["text"] == "False False\n"
    assert second.cells[1].outputs[0]["text"] == "[] [] 0\n"
    assert err.value.cell_index == 2 and "ZeroDivisionError" in str(err.value)
