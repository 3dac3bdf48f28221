"""The cache of executed notebooks: what decides a notebook, and its entries.

An entry is ``<cache>/<pair>/<key>.ipynb``, the executed, normalised notebook. Its key
hashes everything that decides the notebook (jupyter-cache hashes only code cells;
the rest matters here): every notebook parameter (the sentence's fields, the pair,
the title, the display mode), the template's bytes and :func:`code_version`. An entry
that cannot be read back whole, with its sentence's complete record, is a miss.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from importlib.metadata import version
from pathlib import Path

import nbformat

from .. import config
from ..errors import disk_error
from ..explain.methods import REGISTRY
from ..fingerprint import ADAPTER_FILES, hash_tree, weights_fingerprint
from ..pairs import ModelSource
from ..records import read_record
from . import notebook

CACHE_FORMAT = 2


# Files of the package that only make the site from executed notebooks (web/: the
# MkDocs plugin and its pages; the build's orchestration, sentence sets, shards,
# downloads, output folders; the records' reader, the intervals, the fingerprints'
# code; the theme): they never run in a kernel, so changing them must not re-execute
# every sentence. Everything else counts, and every file is one or the other by name:
# tests/test_never_destroy.py fails on a file of the package that is neither site-only
# nor imported by the notebook (``explain.page`` and all it imports), nor listed below
# as kernel-side for another reason, and checks that no kernel-side module imports a
# site-only one.
SITE_ONLY = frozenset({
    "build/__init__.py", "build/assets.py", "build/build.py", "build/devset.py", "build/download.py",
    "build/download_params.js", "build/incremental.py", "build/mkdocs_run.py", "build/norms.py",
    "build/outdir.py", "build/runs.py", "build/sentences.py", "build/serve.py", "build/shards.py",
    "build/watch.py", "build/worker.py", "build/yamlinput.py",
    "errors.py", "fingerprint.py", "intervals.py", "labelled.py", "manifest.py", "records.py",
    "references.json",
})
# Kernel-side although the notebook does not import them: they decide what a notebook
# is, or how it runs, or are the kernel package's own (why, for each).
KERNEL_SIDE_UNIMPORTED = {
    "build/cache.py": "it decides the key itself: what is hashed, the entry format",
    "build/execute.py": "it runs the notebooks: how a warm kernel is reset decides what a cell sees",
    "build/notebook.py": "it writes the notebook a kernel runs (its parameters cell, its title)",
    "explain/facts.py": "the registry's facts for the manifest, in the kernel's package (it imports explain)",
    "catalog.py": "what explain/facts.py describes the registry with",
}
# Data files the kernel reads (pairs.py, rules.py, explain/views.py)
KERNEL_DATA = frozenset({"pairs.yaml", "rules.json", "views.json"})
# web/: the site; live/: the live page; training/: how the committed adapter was made
# (its weights, hashed as weights, are what a notebook depends on); findings/ and
# probes/: the set-wide findings the build measures itself: no notebook imports them
SITE_ONLY_DIRS = ("theme/", "web/", "live/", "training/", "findings/", "probes/")


def site_only(relative: str) -> bool:
    # weights/: a notebook loads an adapter's two files (hashed with the pair's weights and
    # checkpoints); how it was trained, its evaluation and the other runs' adapters are the site's
    if relative.startswith("weights/"):
        return "/seeds/" in relative or relative.rsplit("/", 1)[-1] not in ADAPTER_FILES
    return relative in SITE_ONLY or relative.startswith(SITE_ONLY_DIRS)


def code_version(pair) -> str:
    """Everything an executed notebook depends on besides the sentence and the template:
    every file of the package (subpackages included) but the site-only ones
    (:data:`SITE_ONLY`), the pair's definition (whichever
    file declared it), the weights both models load (and the trained model's
    checkpoints), and the library versions."""
    h = hashlib.sha256()
    hash_tree(h, config.PACKAGE_DIR, "package", skip=site_only)
    h.update(json.dumps(dataclasses.asdict(pair), sort_keys=True, default=str).encode())
    for which in ("untrained", "trained"):
        h.update(f"{which}:{weights_fingerprint(getattr(pair, which))}".encode())
    for step, adapter in pair.checkpoints:  # the timeline runs them (they may lie outside the package)
        h.update(f"checkpoint {step}:{weights_fingerprint(ModelSource(adapter=adapter))}".encode())
    libs = {name: version(name) for name in ("torch", "transformers", "peft", "captum", "bertviz")}
    h.update(json.dumps(libs, sort_keys=True).encode())
    return h.hexdigest()


class NotebookCache:
    """The entries of one pair and template (a key's fixed parts computed once)."""

    def __init__(self, root: Path, pair, template: nbformat.NotebookNode):
        self.dir = Path(root) / pair.slug
        self.template = template
        self._fixed = {"format": CACHE_FORMAT, "code": code_version(pair),
                       "template": hashlib.sha256(nbformat.writes(template).encode()).hexdigest()}

    def path(self, params: dict) -> Path:
        payload = json.dumps({**self._fixed, "parameters": params}, sort_keys=True, ensure_ascii=False)
        return self.dir / f"{hashlib.sha256(payload.encode()).hexdigest()[:32]}.ipynb"

    def get(self, params: dict):
        """The executed notebook for ``params``, or None: a missing entry, or one that is
        truncated, foreign or lacks its sentence's complete record (a warning names it,
        and the sentence runs again)."""
        path = self.path(params)
        if not path.exists():
            return None
        try:
            nb = nbformat.read(str(path), as_version=4)
            read_record(nb, params["slug"], REGISTRY)
        except Exception as exc:  # any unreadable entry is a miss, never a failed build
            print(f"warning: ignoring the unreadable cache entry {path} ({type(exc).__name__}); "
                  "that sentence runs again", file=sys.stderr, flush=True)
            return None
        return nb

    def put(self, params: dict, nb: nbformat.NotebookNode) -> None:
        """Write the entry (atomically); a disk that refuses is one line (BuildError)."""
        path = self.path(params)
        try:
            notebook.write(nb, path)
        except OSError as exc:
            raise disk_error(exc, "cannot write the cache entry", "the site was not changed", path) from None
