"""Execute parameterised notebooks in warm kernels.

A fresh kernel per notebook pays for starting Python, importing torch and loading
both models every time (about 9 s a sentence on 2 cores). Here a warm kernel runs many
notebooks: the models load once (``models.load_pair`` caches them in the kernel) and
each notebook starts from an emptied namespace (like ``%reset -f``), so its cells see only
their own variables. nbclient runs the cells, as papermill would. ``KernelPool`` keeps
one such kernel per core, each on one thread, and hands notebooks to whichever is free
(one thread per kernel also makes the numbers independent of the pool's size).

Kernels talk over IPC sockets whose absolute paths lie in the build's run folder
(:mod:`attention_gallery.build.runs`), so a build works from any working directory and
beside another build; the pool closes its kernels on every exit path, and the next
build reaps what a killed one left.

Each notebook's wall time, and the CPU time its kernel spent on it, are measured in
the worker that runs it and handed back beside it (:class:`Timing`), never written
into the notebook (it must come out the same in every build): the build reports
them, and ``scripts/bench.py`` takes the cost of a sentence from them rather than from
the difference of two noisy build totals. CPU time barely moves when other programs
load the machine; wall time does.
"""

from __future__ import annotations

import copy
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

from .. import config

QUIET_ENV = {
    "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TQDM_DISABLE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONWARNINGS": "ignore",
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass
class NotebookFailure(Exception):
    """A cell raised: which cell, and the error's last line."""

    cell_index: int
    cell_source: str
    error: str

    def __str__(self) -> str:
        first = self.cell_source.strip().splitlines()[0] if self.cell_source.strip() else ""
        return f"cell {self.cell_index} ({first!r}) failed: {self.error}"


class KernelStopped(RuntimeError):
    """The kernel died mid-notebook: interrupted (Ctrl-C) or crashed."""


@dataclass(frozen=True)
class Timing:
    """How long one notebook took in its kernel (measured around ``WarmKernel.run``).

    ``first``: the kernel's first notebook, which also imports the libraries and loads
    the models (the one-time start), so it is not a sentence's own cost.
    ``finished``: seconds from the start of ``run_all`` until it ended.
    ``cpu``: CPU seconds the kernel process spent meanwhile (None if unknown)."""

    seconds: float
    first: bool
    finished: float
    cpu: float | None = None


class WarmKernel:
    """One Python kernel that executes many notebooks (a context manager)."""

    def __init__(self, connection_file: Path, timeout: int = 600, cwd: Path = config.REPO_ROOT,
                 env: dict | None = None, on_start=None, trim_memory: bool = True):
        self.connection_file = Path(connection_file).resolve()
        self.trim_memory = trim_memory  # hand freed heap back to the system before each notebook (TRIM)
        self.timeout = timeout
        self.cwd = cwd
        self.env = {**os.environ, **QUIET_ENV, **(env or {})}
        self.on_start = on_start  # called with (pid, connection file) once the kernel runs
        self.km = None
        self.kc = None
        self.notebooks_run = 0  # tried, failed ones included: the first loads the models

    def __enter__(self) -> "WarmKernel":
        # IPC sockets are named after the connection file: an absolute path of this build's own
        self.km = KernelManager(kernel_name="python3", transport="ipc",
                                connection_file=str(self.connection_file))
        self.km.start_kernel(env=self.env, cwd=str(self.cwd))
        if self.on_start is not None:
            self.on_start(self.km.provisioner.pid, self.connection_file)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km is not None:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
            self.km = None

    # What IPython's %reset does to the user's variables, without its full garbage
    # collection (half a second with two models in memory). Modules stay imported, so
    # the loaded models stay cached. The displayhook's references go too: ``_``,
    # ``__``, ``___`` and the numbered ``_N`` keep every displayed result of every
    # notebook the kernel ran (IPython culls them only after 1,000), and ``_iN`` its
    # input (IPython pushes them as hidden names); a warm kernel that ran hundreds of
    # notebooks otherwise holds them all.
    RESET = ("def _gallery_reset(ip=get_ipython()):\n"
             "    import re\n"
             "    for name in [n for n in ip.user_ns if not n.startswith('_') and n not in ip.user_ns_hidden]:\n"
             "        del ip.user_ns[name]\n"
             "    for name in [n for n in ip.user_ns if re.fullmatch(r'_i*\\d+', n)]:  # pushed as hidden\n"
             "        del ip.user_ns[name]\n"
             "        ip.user_ns_hidden.pop(name, None)\n"
             "    ip.user_ns.update({'_': '', '__': '', '___': '', '_i': '', '_ii': '', '_iii': ''})\n"
             "    ip.history_manager.output_hist.clear()\n"
             "_gallery_reset()\n"
             "del _gallery_reset\n")

    def cpu_seconds(self) -> float | None:
        """CPU time the kernel process has used so far (user + system), or None."""
        try:
            times = psutil.Process(self.km.provisioner.pid).cpu_times()
        except (psutil.Error, AttributeError):
            return None
        return times.user + times.system

    # glibc keeps the heap a notebook's tensors freed (of ever-changing sizes: every
    # sentence has its own length) and reuses little of it: a warm kernel's resident size
    # grew from 0.8 GB to 2 GB over 46 SST-2 dev notebooks, and past 3 GB over 700.
    # malloc_trim(0) hands the free pages back: it stayed at 0.86 GB (make bench-memory).
    # Elsewhere than glibc there is no malloc_trim, and nothing to do.
    TRIM = ("def _gallery_trim():\n"
            "    import ctypes\n"
            "    try:\n"
            "        ctypes.CDLL(None).malloc_trim(0)\n"
            "    except (OSError, AttributeError):\n"
            "        pass\n"
            "_gallery_trim()\n"
            "del _gallery_trim\n")

    def _reset(self) -> None:
        code = self.RESET + (self.TRIM if self.trim_memory else "")
        reply = self.kc.execute_interactive(code, timeout=60, output_hook=lambda msg: None,
                                            store_history=False)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"could not reset the kernel: {reply['content']}")

    def run(self, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        """Execute ``nb`` in place; raise NotebookFailure naming the failing cell."""
        if self.km is None:
            raise RuntimeError("WarmKernel is not started (use it as a context manager)")
        self._reset()
        self.notebooks_run += 1
        client = NotebookClient(nb, km=self.km, timeout=self.timeout, allow_errors=False,
                                record_timing=False, resources={"metadata": {"path": str(self.cwd)}})
        client.kc = self.kc
        try:
            client.execute()
        except CellExecutionError as exc:
            index, cell = _failed_cell(nb)
            raise NotebookFailure(index, cell.source if cell else "", f"{exc.ename}: {exc.evalue}") from None
        except (DeadKernelError, RuntimeError) as exc:
            if self.km is not None and self.km.is_alive():
                raise
            raise KernelStopped(f"the kernel stopped ({type(exc).__name__})") from None
        return nb


def _failed_cell(nb):
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return index, cell
    return -1, None


class KernelPool:
    """``jobs`` warm kernels executing notebooks in parallel (a context manager)."""

    def __init__(self, jobs: int, run, **kernel_kw):
        """``run``: the build's :class:`~attention_gallery.build.runs.Run` (sockets, kernel pids)."""
        self.kernels = [WarmKernel(run.connection_file(i), on_start=run.record_kernel, **kernel_kw)
                        for i in range(max(1, jobs))]

    def __enter__(self) -> "KernelPool":
        try:
            for kernel in self.kernels:  # one after the other: no port or file races
                kernel.__enter__()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for kernel in self.kernels:
            kernel.close()

    def warm_up(self, nb: nbformat.NotebookNode) -> None:
        """Run a copy of ``nb`` in every kernel that has not run a notebook yet, side by
        side, and drop the results: the libraries and models load now, not when the
        first sentence a reader is waiting for arrives (watch mode). A failure here is
        left for the real run to report."""
        def run(kernel: WarmKernel) -> None:
            try:
                kernel.run(copy.deepcopy(nb))
            except Exception:  # noqa: BLE001, S110  (the real run reports it, with its sentence)
                pass

        threads = [threading.Thread(target=run, args=(k,), daemon=True, name="warm-up")
                   for k in self.kernels if k.notebooks_run == 0]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def run_all(self, items):
        """Execute ``(key, notebook)`` items; yield ``(key, notebook or exception,
        Timing)`` as each finishes. Closing the generator stops handing out notebooks.

        The workers are daemon threads, one per kernel: on Ctrl-C the main thread
        closes the pool (killing the kernels) and exits without waiting for them."""
        tasks: queue.Queue = queue.Queue()
        results: queue.Queue = queue.Queue()
        for item in items:
            tasks.put(item)
        total = tasks.qsize()
        stop = threading.Event()
        began = time.perf_counter()

        def work(kernel: WarmKernel) -> None:
            while not stop.is_set():
                try:
                    key, nb = tasks.get_nowait()
                except queue.Empty:
                    return
                first, start, cpu = kernel.notebooks_run == 0, time.perf_counter(), kernel.cpu_seconds()
                try:
                    result = kernel.run(nb)
                except Exception as exc:  # reported by the caller, with its sentence
                    result = exc
                end, cpu_end = time.perf_counter(), kernel.cpu_seconds()
                used = cpu_end - cpu if cpu is not None and cpu_end is not None else None
                results.put((key, result, Timing(end - start, first, end - began, used)))

        for kernel in self.kernels:
            threading.Thread(target=work, args=(kernel,), daemon=True, name="kernel").start()
        try:
            for _ in range(total):
                yield results.get()
        finally:
            stop.set()
