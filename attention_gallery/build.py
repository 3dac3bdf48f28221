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

import dataclasses
import hashlib
import json
import os
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import nbformat

from . import assets, config, notebook, outdir, record, runs
from .pairs import get_pair

CACHE_FORMAT = 1


class BuildError(RuntimeError):
    """A build that stopped; the message says why and what was kept."""


class BuildInterrupted(BuildError):
    """Ctrl-C (or a kernel that died) stopped the build; nothing was published."""


@dataclass
class BuildReport:
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    seconds_executing: float = 0.0
    seconds_total: float = 0.0
    site_dir: Path | None = None
    mkdocs_seconds: float = 0.0


def _hash_tree(h, folder: Path, label: str) -> None:
    """Feed every file under ``folder`` (names and bytes, sorted) into ``h``."""
    for p in sorted(q for q in folder.rglob("*") if q.is_file() and "__pycache__" not in q.parts):
        h.update(f"{label}/{p.relative_to(folder).as_posix()}\0".encode())
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)


def _hub_revision(source) -> str:
    """The commit a hub model resolves to in the local Hugging Face cache."""
    from huggingface_hub import snapshot_download

    try:
        path = snapshot_download(source.hub, revision=source.revision, local_files_only=True)
    except Exception:  # not cached: the kernel will fail to load it, with a clear message
        return f"uncached:{source.hub}@{source.revision}"
    return f"{source.hub}@{Path(path).name}"


def weights_fingerprint(source) -> str:
    """A content hash of the weights ``source`` loads (a hub model: its resolved commit)."""
    h = hashlib.sha256()
    if source.hub:
        h.update(_hub_revision(source).encode())
    else:
        folder = source.local_dir()
        if folder is None or not folder.is_dir():
            h.update(f"missing:{folder}".encode())
        else:
            _hash_tree(h, folder, "weights")
    return h.hexdigest()


def code_version(pair) -> str:
    """Everything an executed notebook depends on besides the sentence and the template:
    every file of the package (subpackages included), the pair's definition (whichever
    file declared it), the weights both models load, and the library versions."""
    h = hashlib.sha256()
    _hash_tree(h, config.PACKAGE_DIR, "package")
    h.update(json.dumps(dataclasses.asdict(pair), sort_keys=True, default=str).encode())
    for which in ("untrained", "trained"):
        h.update(f"{which}:{weights_fingerprint(getattr(pair, which))}".encode())
    libs = {name: version(name) for name in ("torch", "transformers", "peft", "captum", "bertviz")}
    h.update(json.dumps(libs, sort_keys=True).encode())
    return h.hexdigest()


def cache_key(sentence, pair_slug: str, template_bytes: bytes, code: str) -> str:
    payload = {"format": CACHE_FORMAT, "slug": sentence.slug, "text": sentence.text,
               "label": sentence.label, "note": sentence.note, "pair": pair_slug,
               "template": hashlib.sha256(template_bytes).hexdigest(), "code": code}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def title_of(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def read_record(nb, slug: str) -> record.SentenceRecord:
    """The sentence's record, validated and holding every registered method."""
    from .explain.methods import REGISTRY

    try:
        rec = record.read(nb, methods=list(REGISTRY))
    except record.RecordError as exc:
        raise BuildError(f"sentence {slug!r}: {exc}") from None
    if rec.slug != slug:
        raise BuildError(f"sentence {slug!r}: its notebook holds the record of {rec.slug!r}")
    return rec


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def read_cached(path: Path, slug: str):
    """The executed notebook of sentence ``slug`` cached at ``path``, or None: a missing
    entry, or one that is truncated, foreign or lacks a complete record (a warning names
    it, and the sentence runs again)."""
    if not path.exists():
        return None
    try:
        nb = nbformat.read(str(path), as_version=4)
        read_record(nb, slug)
    except Exception as exc:  # any unreadable entry is a miss, never a failed build
        print(f"warning: ignoring the unreadable cache entry {path} ({type(exc).__name__}); "
              "that sentence runs again", file=sys.stderr, flush=True)
        return None
    return nb


def execute_missing(sentences, pair, template, cache_dir: Path, run, quiet=False, progress=True,
                    jobs: int | None = None):
    """Run what the cache lacks in warm kernels whose sockets live in ``run`` (the
    build's :class:`~attention_gallery.runs.Run`). Returns ({slug: notebook}, executed
    slugs, seconds)."""
    from tqdm.auto import tqdm

    from .execute import KernelPool, KernelStopped, NotebookFailure

    template_bytes = nbformat.writes(template).encode()
    code = code_version(pair)
    notebooks, todo = {}, []
    for s in sentences:
        path = cache_dir / pair.slug / f"{cache_key(s, pair.slug, template_bytes, code)}.ipynb"
        nb = read_cached(path, s.slug)
        if nb is not None:
            notebooks[s.slug] = nb
        else:
            todo.append((s, path))
    failures, executed, seconds = [], [], 0.0
    if todo:
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        _log(f"executing {len(todo)} of {len(sentences)} sentences "
             f"({len(sentences) - len(todo)} unchanged, from the cache) in {jobs} warm kernel(s)", quiet)
        start = time.perf_counter()
        items = []
        for s, path in todo:
            params = {"text": s.text, "label": s.label, "note": s.note, "pair": pair.slug, "slug": s.slug, "title": title_of(s.slug), "mode": "gallery"}
            items.append(((s, path), notebook.parameterize(template, params, title=title_of(s.slug))))
        with KernelPool(jobs, run) as pool:
            results = pool.run_all(items)
            for (s, path), result in tqdm(results, total=len(items), desc="sentences", unit="sentence",
                                          disable=not progress):
                if isinstance(result, KernelStopped):
                    results.close()
                    raise BuildInterrupted(
                        f"{result} while running sentence {s.slug!r}: interrupted (or the kernel "
                        f"crashed); the site was not changed and the {len(executed)} sentence(s) "
                        "finished before are cached")
                if isinstance(result, NotebookFailure):
                    failures.append(f"sentence {s.slug!r} (line {s.line}): {result}")
                    continue
                if isinstance(result, Exception):
                    results.close()
                    raise result
                nb, noise = notebook.normalise(result)
                if noise:
                    failures.append(f"sentence {s.slug!r}: output on stderr: " + " | ".join(noise))
                    continue
                read_record(nb, s.slug)
                notebook.write(nb, path)
                notebooks[s.slug] = nb
                executed.append(s.slug)
        seconds = time.perf_counter() - start
        order = {s.slug: i for i, s in enumerate(sentences)}
        executed.sort(key=order.get)
        failures.sort()
    if failures:
        raise BuildError(
            f"{len(failures)} sentence(s) failed; the site was not changed and the "
            f"{len(executed)} sentence(s) that succeeded are cached:\n  " + "\n  ".join(failures))
    return notebooks, executed, seconds


def stage_docs(stage: Path, sentences, notebooks, pair, cache_dir: Path) -> None:
    """The docs under ``stage``: the static pages, and in ``gallery/`` the executed
    notebooks with the manifest the gallery plugin reads (it writes the rest)."""
    from .gallery.plugin import write_manifest

    shutil.copytree(config.DOCS_DIR, stage, ignore=shutil.ignore_patterns("gallery", ".*"))
    gallery = stage / "gallery"
    gallery.mkdir()
    for s in sentences:
        notebook.write(notebooks[s.slug], gallery / f"{s.slug}.ipynb")
    write_manifest(gallery, pair.slug, [(s.slug, title_of(s.slug)) for s in sentences], cache_dir)


@contextmanager
def _source_date_epoch():
    """``SOURCE_DATE_EPOCH`` (no build date in pages) set for the block only."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = before or _source_date()
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]


def mkdocs_build(docs: Path, site_dir: Path, quiet=False) -> None:
    """``mkdocs build --strict`` of ``docs`` into ``site_dir`` (the gallery plugin
    in mkdocs.yml adds the gallery's pages and nav)."""
    import logging

    from mkdocs.commands.build import build as mk_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, MkDocsException

    cfg = load_config(str(config.REPO_ROOT / "mkdocs.yml"), docs_dir=str(docs), site_dir=str(site_dir), strict=True)
    level = logging.getLogger("mkdocs").level
    if quiet:
        logging.getLogger("mkdocs").setLevel(logging.WARNING)
    try:
        with _source_date_epoch():
            mk_build(cfg)
    except (Abort, MkDocsException) as exc:
        raise BuildError(f"mkdocs build --strict failed: {exc}") from None
    finally:
        logging.getLogger("mkdocs").setLevel(level)


def _source_date() -> str:
    """The last commit's time (reproducible builds), or 0 outside a git checkout."""
    import subprocess

    try:
        out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=config.REPO_ROOT,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "0"
    except (OSError, subprocess.SubprocessError):
        return "0"


def build(sentences_path: Path = config.SENTENCES_FILE, pair_slug: str = config.DEFAULT_PAIR,
          out_dir: Path = config.SITE_DIR, cache_dir: Path = config.CACHE_DIR,
          quiet: bool = False, progress: bool = True, template: Path = config.TEMPLATE,
          jobs: int | None = None) -> BuildReport:
    """Build the gallery of ``sentences_path`` on ``pair_slug`` into ``out_dir``
    (``jobs`` warm kernels, default one per core).

    Before anything runs, every folder the build would replace is checked
    (:func:`attention_gallery.outdir.plan`: it only replaces folders it made), the
    output folder is locked against a second build, and what dead builds left is
    reaped; a refusal raises :class:`~attention_gallery.outdir.Refusal`."""
    from .models import load_tokenizer
    from .sentences import load_sentences

    start = time.perf_counter()
    report = BuildReport()
    plan = outdir.plan(out_dir, cache_dir, Path(sentences_path), Path(template))
    with runs.out_lock(plan.out):
        for line in runs.reap() + plan.notes:  # said even when quiet: they change files
            print(line, file=sys.stderr, flush=True)
        outdir.remove(plan.staging)  # a staging folder a killed build left (checked by plan)
        try:
            plan.staging.mkdir(parents=True)  # also proves the output folder can be written
        except OSError as exc:
            raise outdir.Refusal(f"--out {plan.out} cannot be written: {exc.strerror} "
                                 f"({exc.filename}); choose a folder you can write") from None
        try:
            outdir.write_marker(plan.staging, "staging")
            pair = get_pair(pair_slug)
            tokenizer = load_tokenizer(pair.untrained)
            sentences = load_sentences(sentences_path, tokenizer=tokenizer)
            template_nb = notebook.read_template(template)
            assets.ensure_vendor(quiet=quiet)
            with runs.Run() as run:
                notebooks, report.executed, report.seconds_executing = execute_missing(
                    sentences, pair, template_nb, plan.cache, run, quiet=quiet, progress=progress, jobs=jobs)
            report.cached = [s.slug for s in sentences if s.slug not in report.executed]
            stage_docs(plan.staging / "docs", sentences, notebooks, pair, plan.cache)
            t = time.perf_counter()
            mkdocs_build(plan.staging / "docs", plan.staging / "site", quiet=quiet)
            report.mkdocs_seconds = time.perf_counter() - t
            if plan.sources is not None:  # the default gallery: keep its sources too
                outdir.swap(plan.staging / "docs" / "gallery", plan.sources, "gallery-sources")
            outdir.swap(plan.staging / "site", plan.out, "site")
        finally:
            shutil.rmtree(plan.staging, ignore_errors=True)
    report.site_dir = plan.out
    report.seconds_total = time.perf_counter() - start
    return report
