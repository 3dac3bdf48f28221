"""Watch mode: a live preview for people writing sentences (``make watch``).

A one-sentence change through ``make gallery`` takes about 12 s, almost all of it
starting kernels and loading the models. Watch mode pays that once: it keeps a pool
of warm kernels (:class:`~.execute.KernelPool`, models loaded by a warm-up run),
serves the site (:mod:`.serve`), and every time the sentence file or the template is
saved it rebuilds what changed:

* the sentences and the template are read again (a problem is the same one-line
  refusal as a build's);
* sentences whose notebook is not cached run in the warm kernels; the others come
  from the cache (kept in memory for the session);
* when only some sentences changed (same slugs in the same order, same template) only
  their pages and the generated ones are rendered (:mod:`.incremental`); otherwise
  the whole site is;
* the site is published as a build publishes it: staged beside the output folder,
  swapped in whole, under the same lock and refusals (:mod:`.outdir`, :mod:`.runs`).

A change that cannot be built (a broken file, a failing sentence) is printed in the
terminal and shown as a banner on every served page; the last good pages stay
served, the one place where a page may be older than its source, and it says so.

Ctrl-C (or ``kill``) stops it: the kernels are shut down, the run folder removed,
the lock released; the last good site stays in the output folder. Changes to the
package's code need a restart (the kernels hold the code they imported).
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import sys
import threading
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .. import config
from ..errors import BuildError, BuildInterrupted
from ..explain.methods import REGISTRY
from ..models import check_pair, load_tokenizer
from ..pairs import get_pair
from ..records import read_record
from ..web.generated import generated_sources
from . import assets, download, incremental, notebook, outdir, runs
from .build import execute_missing, prepare_staging, publish
from .cache import NotebookCache
from .execute import KernelPool
from .sentences import SentenceSetError, load_sentences
from .serve import WatchState, serving
from .worker import Worker

POLL_S = 0.05  # how often the watched files are looked at
SETTLE_S = 0.05  # a save seen is read once it has not changed for this long (editors write in steps)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stamp(path: Path):
    """What tells a file changed: its modification time and size (None: missing)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


class Watcher:
    """Polls a few files; :meth:`wait` returns once one of them changed."""

    def __init__(self, paths):
        self.paths = [Path(p) for p in paths]
        self.seen = self._stamps()

    def _stamps(self):
        return [_stamp(p) for p in self.paths]

    def wait(self) -> None:
        while True:
            time.sleep(POLL_S)
            now = self._stamps()
            if now != self.seen:
                time.sleep(SETTLE_S)
                while (later := self._stamps()) != now:  # still being written
                    now = later
                    time.sleep(SETTLE_S)
                self.seen = now
                return


class SessionCache:
    """The notebook cache, with what this session read or ran kept in memory (a
    rebuild looks up every sentence; reading each notebook from disk again costs)."""

    def __init__(self, cache: NotebookCache):
        self.cache, self.template, self.memo = cache, cache.template, {}

    def path(self, params: dict) -> Path:
        return self.cache.path(params)

    def get(self, params: dict):
        key = self.cache.path(params)
        if key not in self.memo:
            nb = self.cache.get(params)
            if nb is None:
                return None
            self.memo[key] = nb
        return self.memo[key]

    def put(self, params: dict, nb) -> None:
        self.cache.put(params, nb)
        self.memo[self.cache.path(params)] = nb

    def keep_only(self, params_list) -> None:
        """Forget the notebooks of sentences no longer in the set (memory stays bounded)."""
        keep = {self.cache.path(p) for p in params_list}
        self.memo = {k: v for k, v in self.memo.items() if k in keep}


class _Copy(threading.Thread):
    """Copies a folder in the background; :meth:`join` says whether it all went."""

    def __init__(self, source: Path, target: Path):
        super().__init__(daemon=True, name="copy-live-site")
        self.source, self.target, self.ok = Path(source), Path(target), False
        self.start()

    def run(self) -> None:
        try:
            if outdir.has_marker(self.source):  # a site of ours (else the build starts afresh)
                incremental.copy_site(self.source, self.target)
                self.ok = True
        except OSError:
            shutil.rmtree(self.target, ignore_errors=True)  # the build copies it again

    def join(self, timeout=None) -> bool:
        super().join(timeout)
        return self.ok


@dataclass(frozen=True)
class Published:
    """What the live site was built from: decides what the next rebuild renders."""

    entries: tuple  # (slug, title, group, contrast) of each sentence, in order: what the nav and links show
    template: str  # hash of the template's bytes
    params: dict  # slug -> notebook parameters
    generated: dict = field(default_factory=dict)  # generated file -> hash of its source

    def changed(self, entries, template: str, params: dict):
        """The slugs whose pages alone changed, or None when the site must be built whole
        (other slugs, titles or order, so another navigation on every page; other groups
        or contrast pairs, so other links between pages; another template)."""
        if tuple(entries) != self.entries or template != self.template:
            return None
        return [slug for slug, *_ in entries if params[slug] != self.params[slug]]


class Session:
    """One watch session: the output folder (locked, checked), the pair, the warm
    kernels and what the live site was built from."""

    def __init__(self, plan, pair, tokenizer, sentences_path: Path, template: Path, pool, state: WatchState,
                 worker: Worker | None = None):
        self.plan, self.pair, self.tokenizer = plan, pair, tokenizer
        self.sentences_path, self.template_path = Path(sentences_path), Path(template)
        self.pool, self.state, self.worker = pool, state, worker
        self.caches: dict[str, SessionCache] = {}
        self.published: Published | None = None
        self.warm_params: dict | None = None

    def _cache(self, template_nb) -> tuple[SessionCache, str]:
        digest = hashlib.sha256(nbformat.writes(template_nb).encode()).hexdigest()
        if digest not in self.caches:
            self.caches = {digest: SessionCache(NotebookCache(self.plan.cache, self.pair, template_nb))}
        return self.caches[digest], digest

    def rebuild(self, rehearse: bool = False) -> dict | None:
        """Build what changed and publish it; returns the figures of what was done
        (None: nothing to do). A change that cannot be built raises the build's own
        errors; the live site is then left as it was.

        ``rehearse``: with nothing changed, render the first sentence's page as if it
        had, and publish the same site again: the first real edit then finds what a
        rebuild of one page needs (listings, trimmed stylesheets, compiled templates)
        ready, and costs what the later ones do."""
        if rehearse and self.published is None:
            return None
        start = time.perf_counter()
        sentences = load_sentences(self.sentences_path, tokenizer=self.tokenizer)
        cache, digest = self._cache(notebook.read_template(self.template_path))
        params = {s.slug: notebook.parameters(s, self.pair.slug) for s in sentences}
        entries = tuple((s.slug, notebook.sentence_title(s), s.group, s.contrast, s.display) for s in sentences)
        self.warm_params = params[sentences[0].slug]
        only = self.published.changed(entries, digest, params) if self.published else None
        if only == [] and rehearse:
            only = [sentences[0].slug]
        elif only == [] or rehearse:
            return None
        # checked again before every publish: a session lasts hours, and the folders
        # beside the output folder may have changed hands meanwhile
        self.plan = outdir.plan(self.plan.out, self.plan.cache, self.sentences_path, self.template_path)
        prepare_staging(self.plan)
        copy = None
        try:
            if only:  # the live site is copied while the kernels run (the dirty build starts from it)
                copy = _Copy(self.plan.out, self.plan.staging / "site")
            ex = execute_missing(sentences, self.pair, cache, lambda n: nullcontext(self.pool), quiet=True,
                                 progress=False)
            if self.worker is not None:  # the downloads, made beside the pages
                for slug in ex.executed:
                    record = read_record(ex.notebooks[slug], slug, REGISTRY)
                    self.worker.start(ex.files[slug], record)
            cache.keep_only(params.values())
            copied = copy is not None and copy.join()
            mkdocs_s, pages = publish(self.plan, sentences, ex, self.pair, quiet=True, only=only, copied=copied,
                                      generated_before=self.published.generated if self.published else None)
            generated = generated_sources()
        finally:
            if copy is not None:
                copy.join()
            shutil.rmtree(self.plan.staging, ignore_errors=True)
        self.published = Published(entries, digest, params, generated)
        return {"seconds": round(time.perf_counter() - start, 3), "mkdocs_seconds": round(mkdocs_s, 3),
                "pages": pages, "executed": ex.executed,
                "kernel_seconds": {slug: round(t.seconds, 3) for slug, t in ex.timings.items()}}

    def warm_up(self) -> None:
        """Load the models in every kernel that has not run a notebook yet, with a
        throwaway run of the set's first sentence, and meanwhile rehearse a rebuild
        (see :meth:`rebuild`): the first edit then costs what the later ones do."""
        if self.warm_params is None:
            return
        template = next(iter(self.caches.values())).template
        kernels = threading.Thread(target=self.pool.warm_up, daemon=True, name="warm-up",
                                   args=(notebook.parameterize(template, self.warm_params,
                                                               title=self.warm_params["title"]),))
        kernels.start()
        try:
            self.rebuild(rehearse=True)
        except BuildInterrupted:
            raise
        except Exception:  # noqa: BLE001, S110  (the live site stays; a real edit reports any problem)
            pass
        finally:
            kernels.join()

    def _failed(self, message: str) -> None:
        self.state.failed(message)
        _say(f"error: {message}")
        _say("  (the pages built before are still served, with a banner saying they are older than "
             "their source; save again to retry)")

    def step(self) -> None:
        """One rebuild, reported in the terminal and to the served pages. The garbage
        collector waits until the pages are out, not while a writer waits for them."""
        gc.disable()
        try:
            self._step()
        finally:
            gc.enable()

    def _step(self) -> None:
        try:
            figures = self.rebuild()
        except BuildInterrupted:
            raise
        except (SentenceSetError, BuildError, outdir.Refusal, assets.AssetError) as exc:
            self._failed(str(exc))
            return
        except Exception as exc:  # noqa: BLE001  (a bug: said in full, and the session goes on)
            traceback.print_exc()
            self._failed(f"unexpected {type(exc).__name__}: {exc}")
            return
        if figures is None:
            if self.state.snapshot()["error"] is not None:
                _say("fixed: the pages are current again")
            self.state.current()
            return
        self.state.published(figures)
        ran = ", ".join(f"{s} ({figures['kernel_seconds'][s]:.1f} s)" for s in figures["executed"])
        _say(f"rebuilt in {figures['seconds']:.1f} s: {ran or 'nothing executed'}; "
             f"{figures['pages']} pages rendered in {figures['mkdocs_seconds']:.1f} s")


def watch(sentences_path: Path = config.SENTENCES_FILE, pair_slug: str = config.DEFAULT_PAIR,
          out_dir: Path = config.SITE_DIR, cache_dir: Path = config.CACHE_DIR,
          template: Path = config.TEMPLATE, port: int = 8000, jobs: int | None = None) -> None:
    """Build, serve on 127.0.0.1:``port`` and rebuild on every save until Ctrl-C.

    Refuses, before anything runs, what a build refuses (:func:`outdir.plan`, the lock
    on the output folder, an unknown pair or missing model, a port in use)."""
    plan = outdir.plan(out_dir, cache_dir, Path(sentences_path), Path(template))
    with runs.out_lock(plan.out):
        for line in runs.reap() + plan.notes + outdir.recover(plan):
            _say(line)
        pair = get_pair(pair_slug)
        check_pair(pair)
        tokenizer = load_tokenizer(pair.untrained)
        assets.ensure_vendor(quiet=True)
        state = WatchState()
        with serving(plan.out, state, port) as url:
            _say(f"serving {plan.out} at {url} (Ctrl-C stops); starting the kernels ...")
            with runs.Run() as run, KernelPool(max(1, jobs or os.cpu_count() or 1), run) as pool, \
                    Worker(plan.cache / download.STORE) as worker:
                session = Session(plan, pair, tokenizer, sentences_path, template, pool, state, worker)
                session.step()
                session.warm_up()
                # what is loaded now (libraries, templates, the session's notebooks) stays:
                # the collector need not walk it again in every rebuild
                gc.collect()
                gc.freeze()
                state.warm()
                _say(f"watching {sentences_path} and {template}: save either to rebuild")
                watcher = Watcher([sentences_path, template])
                while True:
                    watcher.wait()
                    session.step()
