"""A build's run folder: its lock, its kernels' sockets, and reaping dead builds.

Each build gets a folder of its own in the temporary directory,
``<tmp>/attention-gallery/run-<pid>-<random>/``, holding

* ``lock``: the build's process id, locked with ``flock`` while the build lives (the
  kernel releases the lock when the process dies, even on SIGKILL);
* the kernels' connection files and IPC sockets (absolute paths, so kernels work from
  any working directory and side by side);
* ``kernels``: one line per kernel, ``<pid> <connection file>``.

:func:`reap` (called as a build starts) removes the folders of builds that are gone:
it kills the kernels they left (only a process whose command line names that build's
connection file) and deletes the folder. A live build's folder is never touched.

:func:`out_lock` keeps two builds from writing the same output folder at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT_NAME = "attention-gallery"


class Busy(Exception):
    """Another live build holds the lock; the message names it."""


def root() -> Path:
    path = Path(tempfile.gettempdir()) / ROOT_NAME
    path.mkdir(parents=True, exist_ok=True)
    return path


def _try_lock(path: Path):
    """An open file holding an exclusive lock on ``path``, or None if another holds it."""
    fh = open(path, "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def _kill_kernel(pid: int, connection_file: str) -> bool:
    """Kill ``pid`` if it is the kernel of ``connection_file`` (never another process)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if connection_file.encode() not in cmdline:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def reap(grace: float = 60.0) -> list[str]:
    """Clean up after builds that died (kernels, sockets, connection files).

    Returns what was done, one line each. A folder whose lock is held is a live build's
    and left alone; a folder with no lock file yet is left alone for ``grace`` seconds
    (its build may be starting)."""
    done = []
    for run in sorted(root().glob("run-*")):
        lock = run / "lock"
        if not lock.exists():
            try:
                if time.time() - run.stat().st_mtime < grace:
                    continue
            except OSError:
                continue
        else:
            fh = _try_lock(lock)
            if fh is None:
                continue  # alive
            fh.close()
        killed = 0
        try:
            lines = (run / "kernels").read_text().splitlines()
        except OSError:
            lines = []
        for line in lines:
            pid, _, conn = line.partition(" ")
            if pid.isdigit() and _kill_kernel(int(pid), conn):
                killed += 1
        shutil.rmtree(run, ignore_errors=True)
        done.append(f"cleaned up after a build that died ({run.name}, pid {_holder(lock) if lock.exists() else '?'}): "
                    f"{killed} kernel(s) stopped, its sockets and connection files removed")
    return done


class Run:
    """This build's run folder (a context manager): locked while the build lives,
    removed on every exit path that runs Python code."""

    def __init__(self):
        self.path: Path | None = None
        self._lock = None

    def __enter__(self) -> "Run":
        self.path = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=root()))
        self._lock = _try_lock(self.path / "lock")
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"{os.getpid()}\n")
        self._lock.flush()
        return self

    def connection_file(self, index: int) -> Path:
        return self.path / f"kernel-{index}.json"

    def record_kernel(self, pid: int, connection_file: Path) -> None:
        with open(self.path / "kernels", "a") as fh:
            fh.write(f"{pid} {connection_file}\n")

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            self._lock.close()


@contextmanager
def out_lock(out: Path):
    """Hold the lock on output folder ``out`` (raise :class:`Busy` if a live build has it)."""
    locks = root() / "locks"
    locks.mkdir(exist_ok=True)
    path = locks / (hashlib.sha256(str(out).encode()).hexdigest()[:16] + ".lock")
    fh = _try_lock(path)
    if fh is None:
        raise Busy(f"another build (pid {_holder(path).split()[0]}) is writing {out}; wait for it to "
                   "finish, or build into another --out")
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()} {out}\n")
        fh.flush()
        yield
    finally:
        fh.close()
