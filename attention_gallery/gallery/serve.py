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
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STATE_PATH = "/__watch__/state.json"
BANNER_ID = "gallery-watch-banner"
RELOAD_MS = 500


class PortBusy(Exception):
    """The port is taken; the message says what to do."""


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


class WatchHandler(SimpleHTTPRequestHandler):
    """Static files from the output folder; HTML decorated; the state as JSON."""

    def __init__(self, *args, state: WatchState, **kwargs):
        self.state = state
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args) -> None:  # the terminal is for the build's own lines
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")  # a rebuilt page is never served from a cache
        super().end_headers()

    def send_head(self):
        if self.path.split("?", 1)[0] == STATE_PATH:
            return self._send(200, "application/json", json.dumps(self.state.snapshot()))
        path = self.translate_path(self.path)
        if os.path.isdir(path) and self.path.split("?", 1)[0].endswith("/"):
            path = os.path.join(path, "index.html")
        if path.endswith(".html") and os.path.isfile(path):
            try:
                page = Path(path).read_text(encoding="utf-8")
            except OSError:  # swapped away between the check and the read: ask again
                return self._send(503, "text/plain", "rebuilding; reload")
            return self._send(200, "text/html; charset=utf-8", decorate(page, self.state.snapshot()))
        snapshot = self.state.snapshot()
        if snapshot["version"] == 0 and not os.path.exists(self.directory + "/index.html"):
            return self._send(503, "text/html; charset=utf-8", decorate(placeholder(snapshot), snapshot))
        return super().send_head()

    def _send(self, status: int, kind: str, text: str):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@contextmanager
def serving(folder: Path, state: WatchState, port: int, host: str = "127.0.0.1"):
    """Serve ``folder`` on ``host:port`` in a background thread for the block; yields
    the URL. Raises :class:`PortBusy` when the port is taken."""
    try:
        server = ThreadingHTTPServer((host, port), partial(WatchHandler, directory=str(folder), state=state))
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
