"""Watch mode's second process: a changed notebook's download, made beside the build.

After a save, the kernel runs the changed sentence and the build renders its pages,
one after the other, on one core; the machine's other core waits. The notebook's
download (:mod:`.download`: bertviz's own views saved into the notebook, about a
fifth of a page rebuild) depends on nothing but the executed notebook, so a
:class:`Worker` (a process of its own, started with the watch) makes it as soon as
the kernel is done, into the build's cache, while the build renders the pages.

The build waits for a download still being made (:func:`wait_for`) rather than make
it a second time; one that failed is made by the build as usual. The cache is keyed
on the notebook's bytes, so a download made here is the one the build would make.

(Rendering the notebook's page body here as well, into mkdocs-jupyter's cache, was
measured and left out: the build reaches that page about as soon as the kernel is
done, so it only waited for the worker instead of rendering it itself.)
"""

from __future__ import annotations

import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import download


def _preload() -> None:
    """Nothing to do: the worker imports this module to run it, and with it
    :mod:`.download`'s torch and bertviz, while the build goes on."""


def _started() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the watch, which shuts this down


class Worker:
    """The second process (a context manager), making downloads into ``store`` (a
    folder of the build's cache). It starts importing what it needs at once."""

    def __init__(self, store: Path):
        self.store = Path(store)
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_started)
        self.pool.submit(_preload)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        download.PENDING.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)  # the one download under way, at most

    def start(self, notebook: Path, rec) -> None:
        """Make the download of the executed ``notebook`` (its record ``rec``)."""
        entry = download.entry_path(notebook, self.store)
        if not entry.exists() and entry not in download.PENDING:
            download.PENDING[entry] = self.pool.submit(download.make_entry, Path(notebook), rec, self.store)
