"""Build the gallery: sentence set -> executed notebooks -> MkDocs site.

1. Check everything before running anything: every folder the build would replace
   (``outdir.plan``: only folders it made), the lock on the output folder
   (``runs.out_lock``), the pair, its tokenizer, the sentence set
   (``sentences.load_sentences``), the template.
2. Plan: a sentence whose cache key (sentence, pair definition, template, every
   package file, the weights' content, library versions) has a readable executed
   notebook in the cache is not run again.
3. Execute the rest in warm kernels (``execute.KernelPool``), with a progress
   bar. A failing sentence is reported (sentence and cell) after the others ran;
   the successes stay cached and the build stops before touching the site.
4. Stage the docs (static pages + generated gallery) and build them with
   ``mkdocs build --strict`` into a temporary folder, then swap it in: an error or
   an interrupt never leaves a half-built site or half-written page.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from tqdm.auto import tqdm

from .. import config
from ..errors import BuildError, BuildInterrupted, capped, disk_error
from ..explain.facts import catalog
from ..explain.methods import REGISTRY
from ..findings import stage as findings_stage
from ..fingerprint import hash_tree
from ..labelled import LabelledSetError
from ..live import export as live_export
from ..manifest import Manifest, write_manifest
from ..models import architecture, check_pair, load_tokenizer
from ..pairs import get_pair
from ..records import read_record
from . import assets, download, incremental, norms, notebook, outdir, runs
from .cache import NotebookCache
from .execute import KernelPool, KernelStopped, NotebookFailure
from .mkdocs_run import mkdocs_build, source_date
from .sentences import contrast_pairs, load_sentences
from .shards import MissingEntries, Shard, share

__all__ = ["BuildError", "BuildInterrupted", "BuildReport", "build"]


@dataclass
class BuildReport:
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    seconds_executing: float = 0.0
    seconds_total: float = 0.0
    site_dir: Path | None = None
    mkdocs_seconds: float = 0.0
    timings: dict = field(default_factory=dict)  # executed slug -> execute.Timing
    jobs: int = 0  # kernels that ran them
    up_to_date: bool = False  # nothing MkDocs reads changed: the site was left as it was


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


@dataclass
class Execution:
    """What :func:`execute_missing` gives back: every sentence's executed notebook and
    its cache entry (the same notebook written out: staged by a copy), the slugs it ran
    (set order), the seconds it spent and each run notebook's
    :class:`~.execute.Timing` (its own kernel time, not part of the notebook)."""

    notebooks: dict
    executed: list[str]
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    jobs: int = 0
    files: dict = field(default_factory=dict)


def fresh_kernels(run, jobs: int | None = None):
    """``kernels(n)`` for :func:`execute_missing`: a new pool of warm kernels (``jobs``,
    default one per core, never more than ``n``) whose sockets live in ``run``."""
    def kernels(n: int):
        return KernelPool(max(1, min(jobs or os.cpu_count() or 1, n)), run)
    return kernels


def execute_missing(sentences, pair, cache: NotebookCache, kernels, quiet=False, progress=True,
                    cached_only: bool = False) -> Execution:
    """The executed notebook of every sentence: from ``cache``, or run and cached
    (``cached_only``: never run; sentences without an entry raise :class:`~.shards.MissingEntries`).

    ``kernels(n)`` gives a context manager holding a started
    :class:`~.execute.KernelPool` for ``n`` notebooks: a build starts one
    (:func:`fresh_kernels`), watch mode hands in the pool it keeps warm."""
    params = {s.slug: notebook.parameters(s, pair.slug) for s in sentences}
    files = {s.slug: cache.path(params[s.slug]) for s in sentences}
    notebooks = {s.slug: nb for s in sentences if (nb := cache.get(params[s.slug])) is not None}
    todo = [s for s in sentences if s.slug not in notebooks]
    if not todo:
        return Execution(notebooks, [], files=files)
    if cached_only:
        raise MissingEntries([s.slug for s in todo], cache.dir)
    start = time.perf_counter()
    items = [(s, notebook.parameterize(cache.template, params[s.slug], title=params[s.slug]["title"]))
             for s in todo]
    executed, failures, timings = [], [], {}
    with kernels(len(todo)) as pool:
        _log(f"executing {len(todo)} of {len(sentences)} sentences ({len(sentences) - len(todo)} unchanged, "
             f"from the cache) in {len(pool.kernels)} warm kernel(s)", quiet)
        for s, outcome, timing in _run(items, pool, progress):
            timings[s.slug] = timing
            if isinstance(outcome, str):
                failures.append(f"sentence {s.slug!r} (line {s.line}): {outcome}")
                continue
            read_record(outcome, s.slug, REGISTRY)  # a notebook without its complete record stops the build
            cache.put(params[s.slug], outcome)
            notebooks[s.slug] = outcome
            executed.append(s.slug)
        jobs = len(pool.kernels)
    seconds = time.perf_counter() - start
    if failures:
        raise BuildError(
            f"{len(failures)} sentence(s) failed; the site was not changed and the "
            f"{len(executed)} sentence(s) that succeeded are cached:\n  " + "\n  ".join(capped(sorted(failures))))
    order = {s.slug: i for i, s in enumerate(sentences)}
    return Execution(notebooks, sorted(executed, key=order.get), seconds, timings, jobs, files)


def _run(items, pool, progress: bool):
    """Execute ``(sentence, notebook)`` items in ``pool``; yield ``(sentence,
    normalised notebook or why it failed, Timing)`` as each ends. A kernel that stops
    (Ctrl-C, a crash) stops the build."""
    done = 0
    results = pool.run_all(items)
    for s, result, timing in tqdm(results, total=len(items), desc="sentences", unit="sentence",
                                  disable=not progress):
        if isinstance(result, KernelStopped):
            results.close()
            raise BuildInterrupted(
                f"{result} while running sentence {s.slug!r}: interrupted (or the kernel crashed); "
                f"the site was not changed and the {done} sentence(s) finished before are cached")
        if isinstance(result, NotebookFailure):
            yield s, str(result), timing
            continue
        if isinstance(result, Exception):
            results.close()
            raise result
        nb, noise = notebook.normalise(result)
        done += not noise
        yield s, ("output on stderr: " + " | ".join(noise)) if noise else nb, timing


PUBLISHED = "published"  # <cache>/published/<out folder's hash>.json: the digest of the site there


def site_digest(sentences, ex: Execution, manifest: Manifest) -> str:
    """Everything a published site is made from: the manifest (findings, live files,
    evaluation ...), each sentence's notebook (its cache entry's content-addressed
    name), the static docs, mkdocs.yml, the whole package (the plugin, the theme, the
    downloads' code), the JavaScript bundler's inputs, the site's date and the versions
    of the libraries that render it. Equal digests give byte-identical sites."""
    h = hashlib.sha256(manifest.as_json().encode())
    for s in sentences:
        h.update(f"{s.slug}\0{Path(ex.files[s.slug]).name}\0".encode())  # the key decides the notebook
    hash_tree(h, config.DOCS_DIR, "docs", skip=lambda rel: rel.startswith("gallery/") or rel.startswith("."))
    hash_tree(h, config.PACKAGE_DIR, "package")
    for name in ("mkdocs.yml", "package-lock.json", "scripts/bundle_js.mjs"):
        path = config.REPO_ROOT / name
        h.update(f"{name}\0".encode() + (path.read_bytes() if path.is_file() else b"-"))
    libs = {n: version(n) for n in ("mkdocs", "mkdocs-material", "mkdocs-jupyter", "nbconvert", "bertviz")}
    h.update(json.dumps({"libs": libs, "date": source_date()}, sort_keys=True).encode())
    return h.hexdigest()


def _published(plan) -> Path:
    return plan.cache / PUBLISHED / f"{hashlib.sha256(str(plan.out).encode()).hexdigest()[:24]}.json"


def _stamp(plan) -> list:
    """What tells the site in ``plan.out`` is the one this build published: its
    marker's and its home page's size and modification time (and the docs/gallery
    sources' marker, where the build keeps them)."""
    files = [plan.out / outdir.MARKER, plan.out / "index.html"]
    if plan.sources is not None:
        files.append(plan.sources / outdir.MARKER)
    return [[f.stat().st_size, f.stat().st_mtime_ns] if f.is_file() else None for f in files] + [_tree(plan.out)]


def _tree(folder: Path) -> list:
    """How many files a folder holds, their bytes and the latest change: a page removed,
    added or edited by hand changes it."""
    count = size = latest = 0
    stack = [str(folder)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            else:
                st = e.stat(follow_symlinks=False)
                count, size, latest = count + 1, size + st.st_size, max(latest, st.st_mtime_ns)
    return [count, size, latest]


def up_to_date(plan, digest: str) -> bool:
    """The site in ``plan.out`` was published from exactly ``digest`` by this build and
    not touched since: MkDocs would write the same bytes, so it is skipped."""
    try:
        seen = json.loads(_published(plan).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stamp = _stamp(plan)
    return seen.get("digest") == digest and seen.get("stamp") == stamp and None not in stamp


def remember(plan, digest: str) -> None:
    """Record the published site's digest (atomically; a failure only costs the next
    no-op rebuild its MkDocs run)."""
    path = _published(plan)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"out": str(plan.out), "digest": digest, "stamp": _stamp(plan)}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def stage_docs(stage: Path, sentences, notebooks, pair, cache_dir: Path, files: dict | None = None,
               manifest: Manifest | None = None) -> None:
    """The docs under ``stage``: the static pages, and in ``gallery/`` the executed
    notebooks with the manifest the gallery plugin reads (it writes the rest).
    ``files``: each notebook's cache entry, copied rather than written out again
    (serialising and validating a notebook costs ten times as much)."""

    shutil.copytree(config.DOCS_DIR, stage, ignore=shutil.ignore_patterns("gallery", ".*"))
    gallery = stage / "gallery"
    gallery.mkdir()
    for s in sentences:
        try:
            shutil.copyfile((files or {})[s.slug], gallery / f"{s.slug}.ipynb")
        except (KeyError, OSError):  # no entry (or it went): write the notebook itself
            notebook.write(notebooks[s.slug], gallery / f"{s.slug}.ipynb")
    write_manifest(gallery, manifest or site_manifest(sentences, pair, cache_dir))


def site_manifest(sentences, pair, cache_dir: Path) -> Manifest:
    """What the site is told beyond the records: the set's order and contrasts, the
    kernel's catalog of methods, the base model's configuration, the pair's
    evaluation, the live page's files (its graph exported here, once per pair and
    cached: the site runs no model), the findings over SST-2 dev (measured here,
    cached by content) and how the trained model was trained (its ``training.json``)."""
    evaluation = config.WEIGHTS_DIR / pair.slug / "evaluation.json"
    training = config.PACKAGE_DIR / pair.trained.adapter / "training.json" if pair.trained.adapter else None
    return Manifest(
        pair=pair.slug,
        sentences=[{"slug": s.slug, "title": notebook.sentence_title(s), "group": s.group, "contrast": s.contrast,
                    "display": s.display} for s in sentences],
        contrasts=contrast_pairs(sentences), cache=str(cache_dir), catalog=catalog(),
        architecture=architecture(pair.untrained),
        evaluation=json.loads(evaluation.read_text(encoding="utf-8")) if evaluation.is_file() else None,
        live=live_export.published(pair, cache_dir),
        findings=findings_set(lambda: findings_stage.findings(pair, sentences, cache_dir)),
        training=json.loads(training.read_text(encoding="utf-8")) if training and training.is_file() else None)


def findings_set(step):
    """``step()``, a labelled set it cannot read being one line of :class:`BuildError`."""
    try:
        return step()
    except LabelledSetError as exc:
        raise BuildError(f"the findings' labelled set: {exc} (config.FINDINGS_SET, "
                         "$ATTENTION_GALLERY_FINDINGS_SET)") from None


def build(sentences_path: Path = config.SENTENCES_FILE, pair_slug: str = config.DEFAULT_PAIR,
          out_dir: Path = config.SITE_DIR, cache_dir: Path = config.CACHE_DIR,
          quiet: bool = False, progress: bool = True, template: Path = config.TEMPLATE,
          jobs: int | None = None, cached_only: bool = False) -> BuildReport:
    """Build the gallery of ``sentences_path`` on ``pair_slug`` into ``out_dir``
    (``jobs`` warm kernels, default one per core; ``cached_only``: execute nothing, the
    merge of sharded caches, :mod:`.shards`).

    Before anything runs, every folder the build would replace is checked
    (:func:`attention_gallery.build.outdir.plan`: it only replaces folders it made), the
    output folder is locked against a second build, and what dead builds left is
    reaped; a refusal raises :class:`~attention_gallery.build.outdir.Refusal`."""
    start = time.perf_counter()
    report = BuildReport()
    plan = outdir.plan(out_dir, cache_dir, Path(sentences_path), Path(template))
    with runs.out_lock(plan.out):
        for line in runs.reap() + plan.notes + outdir.recover(plan):  # said even when quiet: they change files
            print(line, file=sys.stderr, flush=True)
        prepare_staging(plan)
        try:
            pair = get_pair(pair_slug)
            check_pair(pair)  # both models' folders, before a kernel starts or a byte is hashed
            tokenizer = load_tokenizer(pair.untrained)
            sentences = load_sentences(sentences_path, tokenizer=tokenizer)
            findings_set(lambda: findings_stage.check(pair, tokenizer))
            cache = NotebookCache(plan.cache, pair, notebook.read_template(template))
            assets.ensure_vendor(quiet=quiet)
            with runs.Run() as run:
                ex = execute_missing(sentences, pair, cache, fresh_kernels(run, jobs), quiet=quiet,
                                     progress=progress, cached_only=cached_only)
            report.executed, report.seconds_executing = ex.executed, ex.seconds
            report.timings, report.jobs = ex.timings, ex.jobs
            report.cached = [s.slug for s in sentences if s.slug not in report.executed]
            manifest = site_manifest(sentences, pair, plan.cache)
            digest = site_digest(sentences, ex, manifest)
            report.up_to_date = up_to_date(plan, digest)
            if report.up_to_date:
                _log(f"nothing MkDocs reads changed: the site in {plan.out} is up to date", quiet)
            else:
                report.mkdocs_seconds, _ = publish(plan, sentences, ex, pair, quiet=quiet, manifest=manifest)
                remember(plan, digest)
        finally:
            shutil.rmtree(plan.staging, ignore_errors=True)
    report.site_dir = plan.out
    report.seconds_total = time.perf_counter() - start
    return report


def token_count(tokenizer):
    """``sentence -> its number of tokens``: a notebook's expected cost (:mod:`.shards`)."""
    return lambda s: len(tokenizer(s.text)["input_ids"])


def execute_shard(sentences_path: Path, pair_slug: str, cache_dir: Path, shard: Shard,
                  quiet: bool = False, progress: bool = True, template: Path = config.TEMPLATE,
                  jobs: int | None = None) -> BuildReport:
    """``--shard K/N``: execute shard K of the set's sentences into ``cache_dir`` (those
    not cached already) and stop before the site: no output folder is read or written,
    and nothing but new cache entries is made. The shards of one set together cover
    every sentence once (:func:`.shards.share`)."""
    start = time.perf_counter()
    if str(cache_dir).strip() == "":
        raise outdir.Refusal("--cache is empty (an unset shell variable?): name the cache folder")
    cache_dir = Path(cache_dir).expanduser().resolve()
    for line in runs.reap():
        print(line, file=sys.stderr, flush=True)
    pair = get_pair(pair_slug)
    check_pair(pair)
    tokenizer = load_tokenizer(pair.untrained)
    sentences = load_sentences(sentences_path, tokenizer=tokenizer)
    mine = share(sentences, shard, token_count(tokenizer))
    cache = NotebookCache(cache_dir, pair, notebook.read_template(template))
    _log(f"shard {shard}: {len(mine)} of the {len(sentences)} sentences", quiet)
    with runs.Run() as run:
        ex = execute_missing(mine, pair, cache, fresh_kernels(run, jobs), quiet=quiet, progress=progress)
    report = BuildReport(executed=ex.executed, cached=[s.slug for s in mine if s.slug not in ex.executed],
                         seconds_executing=ex.seconds, timings=ex.timings, jobs=ex.jobs)
    report.seconds_total = time.perf_counter() - start
    return report


def prepare_staging(plan) -> None:
    """An empty, marked staging folder beside the output folder (what a killed build
    left there is removed: :func:`outdir.plan` checked it is ours)."""
    outdir.remove(plan.staging, "site")
    try:
        plan.staging.mkdir(parents=True)  # also proves the output folder can be written
    except OSError as exc:
        raise outdir.Refusal(f"--out {plan.out} cannot be written: {exc.strerror} "
                             f"({exc.filename}); choose a folder you can write") from None
    outdir.write_marker(plan.staging, "staging")


def publish(plan, sentences, ex: Execution, pair, quiet=False, only=None, copied=False,
            generated_before=None, manifest: Manifest | None = None) -> tuple[float, str]:
    """Stage the docs of ``ex`` (:func:`execute_missing`) in ``plan.staging``
    (:func:`prepare_staging` made it), build the site there and swap it in; returns
    the seconds mkdocs took and which pages it rendered ("changed", or "all" and why).

    ``only``: the slugs whose notebooks changed since the site now in ``plan.out`` was
    built from the same sentences, template and docs: only their pages and the
    generated ones are rendered (:mod:`.incremental`, watch mode). Without it, or when
    that cannot give the same site as a full build, everything is rendered.
    ``copied``: ``plan.staging / "site"`` already holds a copy of the live site;
    ``generated_before``: the generated files' sources it was built from."""

    try:  # a full disk (or any refusing one) while staging or swapping is one line
        stage_docs(plan.staging / "docs", sentences, ex.notebooks, pair, plan.cache, ex.files, manifest)
        start = time.perf_counter()
        why = "all" if only is None else incremental.build_pages(
            plan.staging / "docs", plan.staging / "site", plan.out, only, quiet=quiet, copied=copied,
            generated_before=generated_before)
        if why:
            shutil.rmtree(plan.staging / "site", ignore_errors=True)
            mkdocs_build(plan.staging / "docs", plan.staging / "site", quiet=quiet)
        download.write_downloads(plan.staging / "docs" / "gallery", plan.staging / "site" / "gallery",
                                 plan.cache / download.STORE)
        norms.write_norms(plan.staging / "docs" / "gallery", plan.staging / "site" / "gallery")
        seconds = time.perf_counter() - start
        if plan.sources is not None:  # the default gallery: keep its sources too
            outdir.swap(plan.staging / "docs" / "gallery", plan.sources, "gallery-sources")
        outdir.swap(plan.staging / "site", plan.out, "site")
    except OSError as exc:
        raise disk_error(exc, "cannot write", f"the site in {plan.out} was not changed", plan.staging) from None
    return seconds, "changed" if not why else "all" if why == "all" else f"all ({why})"
