"""The build never destroys what it did not make, never serves a stale page, and
works from any directory (issue: "Never destroy"). Every case runs on throwaway
folders; the repository's own paths are replaced by a fake repository wherever a
broken guard could delete something real."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from attention_gallery import config, pairs
from attention_gallery.build import cache, outdir, runs
from attention_gallery.build.build import build

REPO = config.REPO_ROOT
SCRIPT = str(REPO / "scripts" / "build_gallery.py")
TWO = [("one-good", "A good film", "positive"), ("two-bad", "A bad film", "negative")]


def write_sentences(path: Path, rows) -> Path:
    path.write_text(yaml.safe_dump({"sentences": [
        {"slug": slug, "text": text, "label": label} for slug, text, label in rows]}))
    return path


def cli(*args, cwd=REPO, timeout=300, env=None):
    return subprocess.run([sys.executable, SCRIPT, "--quiet", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def assert_refused(out: subprocess.CompletedProcess, *words):
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture()
def fake_repo(tmp_path, monkeypatch):
    """config's repository paths pointed at a throwaway copy of the layout."""
    repo = tmp_path / "repo"
    for d in ("docs", "attention_gallery", ".git", "sentences"):
        (repo / d).mkdir(parents=True)
    (repo / "docs" / "index.md").write_text("# Home\n")
    (repo / "docs" / "reading.md").write_text("# Reading\n")
    (repo / "keep.txt").write_text("precious")
    for name, value in {"REPO_ROOT": repo, "DOCS_DIR": repo / "docs", "PACKAGE_DIR": repo / "attention_gallery",
                        "GALLERY_DIR": repo / "docs" / "gallery", "SITE_DIR": repo / "site",
                        "CACHE_DIR": repo / ".cache" / "gallery"}.items():
        monkeypatch.setattr(config, name, value)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return repo


def tree(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- 1. --out never deletes what the build did not make -------------------------------

def test_precious_file_survives_out_to_its_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("a week of work")
    out = cli("--out", str(folder), "--cache", str(tmp_path / "cache"))
    assert_refused(out, str(folder), "notes.txt", "choose a new or empty folder")
    assert (folder / "notes.txt").read_text() == "a week of work"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert not (tmp_path / "cache").exists()  # refused before anything ran


@pytest.mark.parametrize("where, why", [
    ("repo", "repository or a folder above it"),
    ("repo/docs", "inside docs/"),
    ("repo/docs/site", "inside docs/"),
    ("repo/docs/gallery", "inside docs/"),
    (".", "repository or a folder above it"),  # the parent of the repository
    ("home", "home directory"),
    ("repo/.git/site", "inside .git/"),
    ("repo/attention_gallery/site", "package"),
    ("repo/.cache/gallery", "inside the cache"),
    ("repo/.cache/gallery/pages", "inside the cache"),
])
def test_protected_folders_are_refused_before_anything_runs(fake_repo, tmp_path, where, why):
    target = tmp_path / where
    before = tree(tmp_path)
    with pytest.raises(outdir.Refusal, match=why):
        build(fake_repo / "sentences" / "none.yaml", "minilm-sst2", target, fake_repo / ".cache" / "gallery",
              quiet=True, progress=False)
    assert tree(tmp_path) == before


def test_empty_out_and_cache_arguments_are_refused(tmp_path):
    assert_refused(cli("--out", "", "--cache", str(tmp_path / "c")), "--out is empty")
    assert_refused(cli("--out", str(tmp_path / "s"), "--cache", ""), "--cache is empty")
    assert not (tmp_path / "c").exists() and not (tmp_path / "s").exists()


def test_cache_inside_out_and_out_inside_cache_are_refused(tmp_path):
    assert_refused(cli("--out", str(tmp_path / "s"), "--cache", str(tmp_path / "s" / "cache")),
                   "cache", "inside it")
    assert_refused(cli("--out", str(tmp_path / "c" / "site"), "--cache", str(tmp_path / "c")),
                   "inside the cache")
    assert not list(tmp_path.iterdir())


def test_out_holding_the_sentence_file_is_refused(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    sentences = write_sentences(folder / "s.yaml", TWO)
    (folder / ".attention-gallery").write_text(json.dumps({"made_by": "attention-gallery"}))
    with pytest.raises(outdir.Refusal, match="holds the sentence set"):
        outdir.plan(folder, tmp_path / "cache", sentences)


def test_staging_and_old_folders_with_user_files_are_refused(tmp_path):
    for name in (".site.staging", ".site.old"):
        other = tmp_path / name
        other.mkdir()
        (other / "mine.txt").write_text("x")
        with pytest.raises(outdir.Refusal, match=f"{name}.*mine.txt"):
            outdir.plan(tmp_path / "site", tmp_path / "cache")
        assert (other / "mine.txt").read_text() == "x"
        (other / "mine.txt").unlink()
        other.rmdir()
    outdir.plan(tmp_path / "site", tmp_path / "cache")  # nothing in the way: fine


def test_docs_gallery_with_user_files_is_refused_for_the_default_site(fake_repo):
    gallery = fake_repo / "docs" / "gallery"
    gallery.mkdir()
    (gallery / "index.md").write_text("# mine")
    (gallery / "draft.txt").write_text("mine")
    with pytest.raises(outdir.Refusal, match="docs/gallery.*draft.txt"):
        outdir.plan(fake_repo / "site", fake_repo / ".cache" / "gallery")
    (gallery / "draft.txt").unlink()  # only generated names now: recognised and adopted
    (gallery / "pair.md").write_text("# pair")
    (gallery / "x.ipynb").write_text("{}")
    plan = outdir.plan(fake_repo / "site", fake_repo / ".cache" / "gallery")
    assert plan.sources == gallery and any("adopting" in n and "docs/gallery" in n for n in plan.notes)


def test_unwritable_out_is_refused_before_anything_runs(tmp_path):
    parent = tmp_path / "a-file"
    parent.write_text("not a folder")
    out = cli("--out", str(parent / "site"), "--cache", str(tmp_path / "cache"))
    assert_refused(out, "cannot be created", "is a file")
    assert not (tmp_path / "cache").exists()


def test_a_file_or_symlink_as_out_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(outdir.Refusal, match="not a folder"):
        outdir.plan(tmp_path / "f", tmp_path / "cache")
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "mine.txt").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(outdir.Refusal, match="mine.txt"):  # resolved: the folder it points to
        outdir.plan(tmp_path / "link", tmp_path / "cache")


def test_a_site_built_before_markers_is_adopted_once(fake_repo, tmp_path):
    old = tmp_path / "old-site"
    (old / "gallery").mkdir(parents=True)
    (old / "assets").mkdir()
    for name in ("index.html", "metrics.json", "404.html", "gallery/index.html"):
        (old / name).write_text("x")
    (old / "reading").mkdir()
    plan = outdir.plan(old, tmp_path / "cache")
    assert [n for n in plan.notes if "adopting" in n and str(old) in n]
    new = tmp_path / "new"
    new.mkdir()
    (new / "index.html").write_text("new")
    outdir.swap(new, old, "site")
    assert outdir.has_marker(old) and (old / "index.html").read_text() == "new"
    assert outdir.plan(old, tmp_path / "cache").notes == []  # marked now: nothing to adopt
    # one user file among the site's files: not recognised, refused
    (old / outdir.MARKER).unlink()
    (old / "gallery").mkdir()
    (old / "gallery" / "index.html").write_text("x")
    (old / "metrics.json").write_text("{}")
    (old / "notes.txt").write_text("mine")
    with pytest.raises(outdir.Refusal, match="notes.txt"):
        outdir.plan(old, tmp_path / "cache")


def test_a_second_build_into_the_same_out_is_refused_naming_the_first(tmp_path):
    out = (tmp_path / "site").resolve()
    with runs.out_lock(out):
        with pytest.raises(runs.Busy, match=rf"another build \(pid {os.getpid()}\) is writing"):
            build(config.SENTENCES_FILE, "minilm-sst2", out, tmp_path / "cache", quiet=True, progress=False)
    assert not (tmp_path / "cache").exists() and not out.exists()
    with runs.out_lock(out):  # released: the next build may have it
        pass


# --- 2. the cache key covers everything that decides a page --------------------------------

def test_weights_content_decides_the_key(tiny_dirs, tmp_path):
    import shutil

    copy = tmp_path / "clf"
    shutil.copytree(tiny_dirs[1], copy)
    source = pairs.ModelSource(path=str(copy))
    before = cache.weights_fingerprint(source)
    weights = next(p for p in copy.iterdir() if p.suffix == ".safetensors")
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert cache.weights_fingerprint(source) != before


def test_every_package_file_decides_the_key_subpackages_included(tmp_path, monkeypatch, tiny_spec):
    package = tmp_path / "pkg"
    (package / "explain").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "explain" / "methods.py").write_text("SCALE = 1\n")
    monkeypatch.setattr(config, "PACKAGE_DIR", package)
    first = cache.code_version(tiny_spec)
    (package / "explain" / "methods.py").write_text("SCALE = 2\n")
    assert cache.code_version(tiny_spec) != first


def test_pair_definition_decides_the_key(tiny_spec):
    import dataclasses

    assert cache.code_version(tiny_spec) != cache.code_version(dataclasses.replace(tiny_spec, head_seed=7))


def _predictions(site: Path, slug: str) -> str:
    """The published notebook's predictions table (logits and probabilities of both models)."""
    import nbformat

    nb = nbformat.read(str(site / "gallery" / "downloads" / f"{slug}.ipynb"), as_version=4)
    tables = [o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", [])
              if "<th>logit " in o.get("data", {}).get("text/html", "")]
    assert len(tables) == 1
    return tables[0]


@pytest.mark.slow
def test_extra_pairs_seed_change_reexecutes(tiny_registry, tmp_path):
    sentences = write_sentences(tmp_path / "s.yaml", TWO[:1])
    first = build(sentences, "tiny", tmp_path / "site", tmp_path / "cache", quiet=True, progress=False, jobs=1)
    assert first.executed == ["one-good"]
    before = _predictions(tmp_path / "site", "one-good")
    raw = yaml.safe_load(tiny_registry.read_text())
    raw["tiny"]["head_seed"] = 7
    tiny_registry.write_text(yaml.safe_dump(raw))
    pairs.all_pairs.cache_clear()
    second = build(sentences, "tiny", tmp_path / "site", tmp_path / "cache", quiet=True, progress=False, jobs=1)
    assert second.executed == ["one-good"]
    assert _predictions(tmp_path / "site", "one-good") != before
    assert "seed 7" in (tmp_path / "site" / "gallery" / "one-good" / "index.html").read_text()
    assert not (tmp_path / "mkdocs-jupyter").exists()  # mkdocs-jupyter's cache stays inside ours


@pytest.mark.slow
def test_truncated_cache_entry_is_executed_again(tiny_registry, tmp_path, capfd):
    sentences = write_sentences(tmp_path / "s.yaml", TWO)
    build(sentences, "tiny", tmp_path / "site", tmp_path / "cache", quiet=True, progress=False, jobs=1)
    entry = next(p for p in (tmp_path / "cache" / "tiny").glob("*.ipynb") if "A bad film" in p.read_text())
    entry.write_bytes(entry.read_bytes()[:500])
    capfd.readouterr()
    report = build(sentences, "tiny", tmp_path / "site", tmp_path / "cache", quiet=True, progress=False, jobs=1)
    assert report.executed == ["two-bad"] and report.cached == ["one-good"]
    assert f"ignoring the unreadable cache entry {entry}" in capfd.readouterr().err
    assert "A bad film" in entry.read_text() and entry.read_text().rstrip().endswith("}")


# --- 3. kernels work from anywhere, side by side, and are reaped after a kill -------------

def _leftovers(pid: int | None = None) -> list[str]:
    """Run folders (of ``pid``, or any dead build) and kernel-ipc files in the repository."""
    found = [str(p) for p in REPO.glob("kernel-ipc-*")]
    for run in runs.root().glob("run-*"):
        if pid is not None and run.name.startswith(f"run-{pid}-"):
            found.append(str(run))
    return found


def _kernels_of(run_dir_prefix: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if run_dir_prefix.encode() in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


@pytest.mark.slow
def test_build_from_another_directory_and_two_builds_side_by_side(tiny_registry, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sentences = write_sentences(tmp_path / "s.yaml", TWO)
    procs = [subprocess.Popen([sys.executable, SCRIPT, "--quiet", "--sentences", str(sentences), "--pair", "tiny",
                               "--out", f"site-{i}", "--cache", f"cache-{i}", "--jobs", "1"],
                              cwd=elsewhere, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in (1, 2)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    for i in (1, 2):
        site = elsewhere / f"site-{i}"
        assert (site / "gallery" / "two-bad" / "index.html").is_file() and outdir.has_marker(site)
    assert sorted(p.name for p in elsewhere.iterdir()) == ["cache-1", "cache-2", "site-1", "site-2"]
    assert not list(REPO.glob("kernel-ipc-*"))
    assert not [p for p in runs.root().glob("run-*") if any(p.name.startswith(f"run-{q.pid}-") for q in procs)]


@pytest.mark.slow
def test_sigkill_leftovers_are_reaped_by_the_next_build(tiny_registry, tmp_path):
    many = [(f"s-{i}", f"Sentence number {i} is fine", "positive") for i in range(10)]
    sentences = write_sentences(tmp_path / "s.yaml", many)
    proc = subprocess.Popen([sys.executable, SCRIPT, "--quiet", "--sentences", str(sentences), "--pair", "tiny",
                             "--out", str(tmp_path / "site"), "--cache", str(tmp_path / "cache"), "--jobs", "2"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list((tmp_path / "cache" / "tiny").glob("*.ipynb")):
        time.sleep(0.2)
    prefix = str(runs.root() / f"run-{proc.pid}-")
    assert _kernels_of(prefix), "the build's kernels should be running"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert _leftovers(proc.pid), "a killed build leaves its run folder (that is what reaping is for)"
    report = build(sentences, "tiny", tmp_path / "site", tmp_path / "cache", quiet=True, progress=False, jobs=1)
    assert len(report.executed) + len(report.cached) == 10 and report.cached
    assert _leftovers(proc.pid) == []
    assert _kernels_of(prefix) == []
    assert not list(tmp_path.glob(".site.*")) and outdir.has_marker(tmp_path / "site")


def test_reaping_never_touches_a_live_build(tmp_path):
    with runs.Run() as live:
        (live.path / "kernels").write_text(f"{os.getpid()} {live.path / 'kernel-0.json'}\n")
        runs.reap(grace=0)
        assert live.path.is_dir() and (live.path / "kernels").exists()


def test_reaping_kills_only_the_dead_builds_kernel(tmp_path):
    dead = runs.root() / "run-999999999-test"
    dead.mkdir()
    (dead / "lock").write_text("999999999\n")
    conn = dead / "kernel-0.json"
    decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(conn)])
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    (dead / "kernels").write_text(f"{decoy.pid} {conn}\n{bystander.pid} {conn}\n")
    try:
        done = runs.reap()
        assert any("run-999999999-test" in line and "1 kernel(s) stopped" in line for line in done)
        assert decoy.wait(timeout=10) == -signal.SIGKILL
        assert bystander.poll() is None  # its command line names no connection file of that build
        assert not dead.exists()
    finally:
        bystander.kill()
        decoy.kill()


# --- 4. every other refusal is one line, exit 2, no traceback ---------------------------------

def test_broken_pairs_file_is_one_line(tmp_path):
    bad = tmp_path / "pairs.yaml"
    bad.write_text("tiny: {title: [unclosed\n")
    env = {**os.environ, "ATTENTION_GALLERY_PAIRS": str(bad)}
    assert_refused(cli("--out", str(tmp_path / "s"), "--cache", str(tmp_path / "c"), env=env),
                   str(bad), "not valid YAML")
    bad.write_text("tiny:\n  title: x\n  untrained: {path: /x}\n")
    assert_refused(cli("--out", str(tmp_path / "s"), "--cache", str(tmp_path / "c"), env=env),
                   str(bad), "missing key 'trained'")


@pytest.mark.parametrize("ensure, first", [("ensure_vendor", "onnxruntime-web@1.30.0"),
                                            ("ensure_bench_vendor", "requirejs@2.3.6")])
def test_npm_that_hangs_or_is_missing_is_one_clear_error(tmp_path, monkeypatch, ensure, first):
    from attention_gallery.build import assets

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text("#!/bin/sh\nexec /bin/sleep 30\n")
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(assets, "NPM_TIMEOUT", 1)
    start = time.time()
    with pytest.raises(assets.AssetError, match=f"npm pack {first} got no answer in 1 s"):
        getattr(assets, ensure)(tmp_path / "vendor", quiet=True)
    assert time.time() - start < 10
    (bin_dir / "npm").unlink()
    with pytest.raises(assets.AssetError, match="npm is not installed"):
        getattr(assets, ensure)(tmp_path / "vendor2", quiet=True)


def test_a_missing_or_broken_template_is_one_line(tmp_path):
    sentences = write_sentences(tmp_path / "s.yaml", TWO)
    args = ("--sentences", str(sentences), "--out", str(tmp_path / "site"), "--cache", str(tmp_path / "c"))
    assert_refused(cli(*args, "--template", str(tmp_path / "none.ipynb")), "cannot read the template", "none.ipynb")
    (tmp_path / "bad.ipynb").write_text("{}")
    assert_refused(cli(*args, "--template", str(tmp_path / "bad.ipynb")), "is not a notebook")
    import nbformat

    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), str(tmp_path / "t.ipynb"))
    assert_refused(cli(*args, "--template", str(tmp_path / "t.ipynb")), "has no cell tagged 'parameters'")
    assert not (tmp_path / "site").exists() and not list(tmp_path.glob(".site.*"))


def test_site_only_files_do_not_decide_the_key_and_the_kernel_never_imports_them(tmp_path, monkeypatch, tiny_spec):
    """Changing a page generator or the plugin re-renders the site, not every sentence;
    which is only safe if nothing that runs in a kernel imports those modules: the
    import-linter contract on the kernel forbids every one of them (tests/test_architecture.py
    runs it)."""
    import tomllib

    package = tmp_path / "pkg"
    for folder in ("web", "build"):
        (package / folder).mkdir(parents=True)
    (package / "web" / "pages.py").write_text("A = 1\n")
    (package / "build" / "watch.py").write_text("W = 1\n")
    (package / "build" / "notebook.py").write_text("B = 1\n")
    monkeypatch.setattr(config, "PACKAGE_DIR", package)
    first = cache.code_version(tiny_spec)
    (package / "web" / "pages.py").write_text("A = 2\n")
    (package / "build" / "watch.py").write_text("W = 2\n")
    assert cache.code_version(tiny_spec) == first
    (package / "build" / "notebook.py").write_text("B = 2\n")  # it writes the notebook: it counts
    assert cache.code_version(tiny_spec) != first
    monkeypatch.undo()
    contracts = tomllib.loads((config.REPO_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    kernel = next(c for c in contracts if c["name"].startswith("The kernel never imports"))
    assert "attention_gallery.explain" in kernel["source_modules"]
    forbidden = kernel["forbidden_modules"]
    site_only = [f"attention_gallery.{p.removesuffix('.py').replace('/', '.')}" for p in cache.SITE_ONLY
                 if p.endswith(".py")] + [f"attention_gallery.{d.rstrip('/')}" for d in cache.SITE_ONLY_DIRS
                                          if any((config.PACKAGE_DIR / d).glob("*.py"))]  # not theme/, probes/: data
    uncovered = [m for m in site_only if not any(m == f or m.startswith(f + ".") for f in forbidden)]
    assert not uncovered, f"site-only modules the kernel's contract does not forbid: {uncovered}"


def test_every_package_file_is_kernel_side_or_site_only_by_name():
    """A new file of the package must be classified: site-only (``cache.SITE_ONLY``:
    changing it re-executes no notebook) or kernel-side (imported by the notebook, that
    is by ``explain.page`` or what it imports, with their packages; or named in
    ``cache.KERNEL_SIDE_UNIMPORTED`` with why; or data the kernel reads,
    ``cache.KERNEL_DATA``; or an adapter's files under weights/). An unclassified one
    would silently count as kernel-side, and adding it would re-execute every sentence
    of every cache (a 872-sentence build was lost to exactly that). And no module the
    notebook imports may be site-only."""
    import grimp

    graph = grimp.build_graph("attention_gallery")
    imported = graph.find_upstream_modules("attention_gallery.explain.page") | {"attention_gallery.explain.page"}
    packages = {".".join(m.split(".")[:i]) for m in imported for i in range(1, m.count(".") + 1)}
    root = config.PACKAGE_DIR

    def module(rel: str) -> str:
        name = "attention_gallery." + rel.removesuffix(".py").replace("/", ".")
        return name.removesuffix(".__init__")

    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts)
    unclassified, both = [], []
    for rel in files:
        kernel = (rel.endswith(".py") and module(rel) in imported | packages) or rel in cache.KERNEL_SIDE_UNIMPORTED \
            or rel in cache.KERNEL_DATA or (rel.startswith("weights/") and not cache.site_only(rel))
        if cache.site_only(rel) and kernel:
            both.append(rel)
        elif not cache.site_only(rel) and not kernel:
            unclassified.append(rel)
    assert not both, f"site-only, yet the notebook imports or reads them: {both}"
    assert not unclassified, ("neither site-only nor kernel-side by name: add each to cache.SITE_ONLY or, "
                              f"with why, to cache.KERNEL_SIDE_UNIMPORTED: {unclassified}")
    # the lists name real files: a renamed one would leave its entry behind
    stale = sorted((set(cache.SITE_ONLY) | set(cache.KERNEL_SIDE_UNIMPORTED) | cache.KERNEL_DATA) - set(files))
    assert not stale, f"cache's lists name files the package does not have: {stale}"
