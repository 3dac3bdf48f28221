"""Serve the site that watch mode keeps rebuilding, and tell its pages when to reload.

A plain static server (``http.server``) on 127.0.0.1, reading the output folder on
every request, so a rebuild that swaps the folder is served at once. Two things are
added to every HTML page as it is sent, never written into the site:

* a small script that polls :data:`STATE_PATH` and reloads the page when the site was
  rebuilt or the error state changed (the writer sees a saved sentence without
  reloading by hand);
* while the last change could not be built, a banner saying the page is older than
  its source, with the error: the last good pages stay served, and they say so.

Before the first build has published anything, every page is a short placeholder:
the first build is running, or why it failed.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import stat
import sys
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

STATE_PATH = "/__watch__/state.json"
BANNER_ID = "gallery-watch-banner"
RELOAD_MS = 500


class PortBusy(Exception):
    """The port cannot be used (taken, or no port at all); the message says what to do."""


class WatchState:
    """What the pages are told: the site's version (one more on every publish), the
    error that keeps the pages older than their source (None: they are current) and
    the last rebuild's figures. Shared by the watch loop and the server's threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.version = 0
        self.error: str | None = None
        self.last: dict = {}
        self.ready = False  # the first build is done and the kernels are warm

    def warm(self) -> None:
        with self._lock:
            self.ready = True

    def published(self, figures: dict) -> None:
        with self._lock:
            self.version += 1
            self.error, self.last = None, figures

    def current(self) -> None:
        """The source is back to what the pages were built from."""
        with self._lock:
            self.error = None

    def failed(self, message: str) -> None:
        with self._lock:
            self.error = message

    def snapshot(self) -> dict:
        with self._lock:
            return {"version": self.version, "error": self.error, "last": self.last, "ready": self.ready}


def banner(error: str) -> str:
    """The banner of a page older than its source (inline styles: the site's own CSS
    knows nothing of it)."""
    return (f'<div id="{BANNER_ID}" role="alert" style="background:#b71c1c;color:#fff;padding:.8em 1.2em;'
            'font:15px/1.45 system-ui,sans-serif;position:relative;z-index:10">'
            "<strong>This page is older than its source.</strong> The last change could not be built, so "
            "the pages built before it are still served. Fix the file and save: this page reloads."
            '<pre style="white-space:pre-wrap;margin:.5em 0 0;font-size:13px;background:none;color:inherit">'
            f"{html.escape(error)}</pre></div>")


def reload_script(snapshot: dict) -> str:
    """Reload the page once the site's version or its error state differs from what
    this page was served with."""
    version, failing = snapshot["version"], json.dumps(snapshot["error"] is not None)
    poll = (f"fetch({json.dumps(STATE_PATH)},{{cache:'no-store'}}).then(function(r){{return r.json()}})"
            f".then(function(s){{if(s.version!=={version}||(s.error!==null)!=={failing})location.reload()}})"
            ".catch(function(){})")
    return f"<script>setInterval(function(){{{poll}}},{RELOAD_MS});</script>"


_BODY = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def decorate(page: str, snapshot: dict) -> str:
    """``page`` with the banner (while there is an error) and the reload script."""
    if snapshot["error"] is not None:
        body = _BODY.search(page)
        at = body.end() if body else 0
        page = page[:at] + banner(snapshot["error"]) + page[at:]
    end = page.lower().rfind("</body>")
    end = len(page) if end < 0 else end
    return page[:end] + reload_script(snapshot) + page[end:]


def placeholder(snapshot: dict) -> str:
    """The page served before the first build published anything."""
    what = "The first build is running; this page reloads when it is done." if snapshot["error"] is None \
        else "The first build failed; nothing has been built yet."
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Gallery</title></head><body>" \
           f"<p style='font:16px system-ui,sans-serif;margin:2em'>{what}</p></body></html>"


IDLE_S = 30  # a connection that sends nothing for this long is closed (the pages poll anew each time)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def site_file(root: Path, route: str):
    """What ``route`` (an unquoted URL path) names in the site at ``root``: a regular file
    inside it, reached through folders only, never through a symlink (a link planted in
    the output folder is not served, nor anything it points to); ``"/"`` appended where a
    folder is named without it (the caller redirects); None for anything else (a
    listing, a device, a link, a name with '..')."""
    parts = [part for part in route.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None
    current, st = Path(root), None
    try:
        for part in ["", *parts]:
            current = current / part if part else current
            st = os.lstat(current)
            if stat.S_ISLNK(st.st_mode):
                return None
        if stat.S_ISDIR(st.st_mode):
            if parts and not route.endswith("/"):
                return "/"
            current = current / "index.html"
            st = os.lstat(current)
    except (OSError, ValueError):  # missing, a file used as a folder, a name too long
        return None
    return current if stat.S_ISREG(st.st_mode) else None


class WatchHandler(SimpleHTTPRequestHandler):
    """Regular files of the output folder (nothing else: no listing, no link followed);
    HTML decorated; the state as JSON. Answers only requests addressed to this
    machine's loopback names with its port (a page of another site cannot reach it by
    a DNS name pointed at 127.0.0.1)."""

    timeout = IDLE_S

    def __init__(self, *args, state: WatchState, **kwargs):
        self.state = state
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args) -> None:  # the terminal is for the build's own lines
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError) as exc:  # a reader closed the tab mid-answer: one line
            self.close_connection = True
            _log(f"watch server: {self.client_address[0]} went away during "
                 f"{getattr(self, 'requestline', '') or 'a request'} ({type(exc).__name__})")

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a rebuilt page is never served from a cache
        super().end_headers()

    def list_directory(self, path):  # never a listing
        return self._send(404, "text/plain; charset=utf-8", "404: not found\n")

    def _host_ok(self) -> bool:
        port = self.server.server_address[1]
        return self.headers.get("Host", "").strip().lower() in {f"{h}:{port}" for h in LOCAL_HOSTS}

    def send_head(self):
        if not self._host_ok():
            return self._send(400, "text/plain; charset=utf-8", "400: this server answers only requests for "
                              f"{', '.join(LOCAL_HOSTS)} with its port\n")
        route = unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if "\0" in route:
            return self._send(400, "text/plain; charset=utf-8", "400: an address with a NUL character\n")
        if route == STATE_PATH:
            return self._send(200, "application/json", json.dumps(self.state.snapshot()))
        snapshot = self.state.snapshot()
        root = Path(self.directory)
        path = site_file(root, route)
        if path is None and snapshot["version"] == 0 and site_file(root, "/") is None:
            return self._send(503, "text/html; charset=utf-8", decorate(placeholder(snapshot), snapshot))
        if path == "/":
            self.send_response(301)
            self.send_header("Location", self.path.split("?", 1)[0] + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path is None:
            return self._send(404, "text/plain; charset=utf-8", "404: not found\n")
        try:
            fh = open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")
        except OSError:  # swapped away between the check and the open: ask again
            return self._send(503, "text/plain", "rebuilding; reload")
        if path.suffix == ".html":
            with fh:
                page = fh.read().decode("utf-8", errors="replace")
            return self._send(200, "text/html; charset=utf-8", decorate(page, snapshot))
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(os.fstat(fh.fileno()).st_size))
        self.end_headers()
        return fh

    def _send(self, status: int, kind: str, text: str):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # one line, never a traceback per request
        kind, exc, _ = sys.exc_info()
        _log(f"watch server: a request from {client_address[0]} failed ({kind.__name__}: {exc})")


@contextmanager
def serving(folder: Path, state: WatchState, port: int, host: str = "127.0.0.1"):
    """Serve ``folder`` on ``host:port`` in a background thread for the block; yields
    the URL. Raises :class:`PortBusy` when the port is taken."""
    if not isinstance(port, int) or not 0 <= port <= 65535:  # 0: any free port (the tests)
        raise PortBusy(f"--port {port} is not a port: give a number from 1 to 65535, e.g. make watch PORT=8001")
    try:
        server = _Server((host, port), partial(WatchHandler, directory=str(folder), state=state))
    except OSError as exc:
        raise PortBusy(f"port {port} on {host} cannot be used ({exc.strerror}): another `make serve` or "
                       f"`make watch`? Stop it, or choose another port, e.g. make watch PORT={port + 1}") from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="serve")
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
