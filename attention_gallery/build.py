"""Build the gallery: sentence set -> executed notebooks -> MkDocs site.

1. Check everything before running anything: the pair, its tokenizer, the sentence
   set (``sentences.load_sentences``), the template.
2. Plan: a sentence whose cache key (sentence, pair, template, code and model
   version) has an executed notebook in the cache is not run again.
3. Execute the rest in one warm kernel (``execute.WarmKernel``), with a progress
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

import nbformat

from . import assets, config, notebook, record, site
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


def _hash_files(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(config.REPO_ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def code_version(pair) -> str:
    """What the executed notebooks depend on besides the sentence: the package's
    code, the pair registry, the pair's committed weights and library versions."""
    files = [p for p in config.PACKAGE_DIR.glob("*.py") if p.name != "mkdocs_hooks.py"]
    files.append(config.PAIRS_FILE)
    if pair.trained.adapter:
        files += [p for p in (config.PACKAGE_DIR / pair.trained.adapter).glob("*") if p.is_file()]
    libs = {name: version(name) for name in ("torch", "transformers", "peft", "captum", "bertviz")}
    return hashlib.sha256((_hash_files(files) + json.dumps(libs, sort_keys=True)).encode()).hexdigest()


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


def execute_missing(sentences, pair, template, cache_dir: Path, quiet=False, progress=True,
                    jobs: int | None = None):
    """Run what the cache lacks. Returns ({slug: notebook}, executed slugs, seconds)."""
    from tqdm.auto import tqdm

    from .execute import KernelPool, KernelStopped, NotebookFailure

    template_bytes = nbformat.writes(template).encode()
    code = code_version(pair)
    notebooks, todo = {}, []
    for s in sentences:
        path = cache_dir / pair.slug / f"{cache_key(s, pair.slug, template_bytes, code)}.ipynb"
        if path.exists():
            notebooks[s.slug] = nbformat.read(str(path), as_version=4)
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
        with KernelPool(jobs) as pool:
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


def stage_docs(stage: Path, sentences, notebooks, pair) -> dict:
    """Static pages + generated gallery under ``stage``; returns metrics."""
    shutil.copytree(config.DOCS_DIR, stage, ignore=shutil.ignore_patterns("gallery", ".*"))
    gallery = stage / "gallery"
    gallery.mkdir()
    records = []
    for s in sentences:
        nb = notebooks[s.slug]
        notebook.write(nb, gallery / f"{s.slug}.ipynb")
        records.append(read_record(nb, s.slug))
    metrics = site.aggregate(records)
    eval_file = config.WEIGHTS_DIR / pair.slug / "evaluation.json"
    evaluation = json.loads(eval_file.read_text()) if eval_file.exists() else None
    pages = {
        "index.md": site.index_page(pair, records),
        "pair.md": site.pair_page(pair, evaluation),
        "heads.md": site.heads_page(metrics),
        "faithfulness.md": site.faithfulness_page(metrics),
        "disagreements.md": site.disagreements_page(records),
    }
    for name, text in pages.items():
        (gallery / name).write_text(text, encoding="utf-8")
    (stage / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n")
    return metrics


def mkdocs_build(docs: Path, site_dir: Path, sentences, quiet=False, cache_dir: Path = config.CACHE_DIR) -> None:
    """``mkdocs build --strict`` of ``docs`` into ``site_dir``.

    The sentences are listed in the nav when there are at most
    :data:`~attention_gallery.config.NAV_SENTENCES_MAX` of them; otherwise the
    gallery's overview page (which links every sentence) stands for them.
    """
    import logging

    from mkdocs.commands.build import build as mk_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, MkDocsException

    listed = len(sentences) <= config.NAV_SENTENCES_MAX
    # pages left out of the nav on purpose are not "omitted files" (a strict failure)
    extra = {} if listed else {"not_in_nav": "/gallery/*.ipynb"}
    cfg = load_config(str(config.REPO_ROOT / "mkdocs.yml"), docs_dir=str(docs),
                      site_dir=str(site_dir), strict=True, **extra)
    # mkdocs-jupyter's cache of rendered notebooks sits beside ours
    cfg.plugins["mkdocs-jupyter"].config["cache_dir"] = str(Path(cache_dir).resolve().parent / "mkdocs-jupyter")
    nav = []
    for item in cfg["nav"]:
        if isinstance(item, dict) and item.get("Gallery") == "gallery/index.md" and listed:
            item = {"Gallery": [{"Overview": "gallery/index.md"}] +
                    [{title_of(s.slug): f"gallery/{s.slug}.ipynb"} for s in sentences]}
        nav.append(item)
    cfg["nav"] = nav
    os.environ.setdefault("SOURCE_DATE_EPOCH", _source_date())  # no build date in pages
    level = logging.getLogger("mkdocs").level
    if quiet:
        logging.getLogger("mkdocs").setLevel(logging.WARNING)
    try:
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


def _swap(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` (both on one file system) in two renames."""
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    new.rename(target)
    if old.exists():
        shutil.rmtree(old)


def build(sentences_path: Path = config.SENTENCES_FILE, pair_slug: str = config.DEFAULT_PAIR,
          out_dir: Path = config.SITE_DIR, cache_dir: Path = config.CACHE_DIR,
          quiet: bool = False, progress: bool = True, template: Path = config.TEMPLATE,
          jobs: int | None = None) -> BuildReport:
    """Build the gallery of ``sentences_path`` on ``pair_slug`` into ``out_dir``
    (``jobs`` warm kernels, default one per core)."""
    from .models import load_tokenizer
    from .sentences import load_sentences

    start = time.perf_counter()
    report = BuildReport()
    pair = get_pair(pair_slug)
    tokenizer = load_tokenizer(pair.untrained)
    sentences = load_sentences(sentences_path, tokenizer=tokenizer)
    template = notebook.read_template(template)
    assets.ensure_vendor(quiet=quiet)

    notebooks, report.executed, report.seconds_executing = execute_missing(
        sentences, pair, template, Path(cache_dir), quiet=quiet, progress=progress, jobs=jobs)
    report.cached = [s.slug for s in sentences if s.slug not in report.executed]

    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        stage_docs(staging / "docs", sentences, notebooks, pair)
        t = time.perf_counter()
        mkdocs_build(staging / "docs", staging / "site", sentences, quiet=quiet, cache_dir=cache_dir)
        report.mkdocs_seconds = time.perf_counter() - t
        if out_dir == config.SITE_DIR.resolve():  # the default gallery: keep its sources too
            _swap(staging / "docs" / "gallery", config.GALLERY_DIR)
        _swap(staging / "site", out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report.site_dir = out_dir
    report.seconds_total = time.perf_counter() - start
    return report
