"""A small harness to check the built gallery in headless Chromium (not a test module).

    from tests.browser import serve, launch, visit, crawl

    with serve("site") as base, launch() as browser:
        report = visit(browser, base + "gallery/")        # one page, one fresh context
        site = crawl(browser, base)                        # every HTML page of the site
        print(site.summary())

``visit`` records what a reader would run into: console errors and uncaught
exceptions, failed requests (network errors and HTTP status >= 400), every request
and the ones that left 127.0.0.1, dialogs (auto-dismissed, for injection checks),
the bertviz placeholders (``.gallery-bertviz``) and how many drew something,
whether the document scrolls sideways, and the page's same-origin links.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``make browser``); the
harness never downloads a browser. Run it by hand with

    .venv/bin/python tests/browser.py site/                          # crawl, print a summary
    .venv/bin/python tests/browser.py site/ --shot gallery/ out.png  # screenshot one page
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

CHROMIUM = Path(os.environ.get("GALLERY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Other hosts never resolve, so a stray request fails at once instead of waiting on
# (or leaking to) the network; the Watcher still records it. (A Playwright route
# would do the same but turns the HTTP cache off.)
OFFLINE_ARGS = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
NON_NETWORK_SCHEMES = {"data", "blob", "about", "javascript"}
# Links to these are downloads (checked for status 200), never opened as pages.
DOWNLOAD_SUFFIXES = (".ipynb", ".json", ".xml", ".gz", ".txt", ".zip", ".png", ".svg", ".csv")
VIEW_TIMEOUT_S = 60.0  # views draw in slices, and the machine may be shared
DESKTOP = (1280, 900)
PHONE = (390, 844)


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright is missing."""


# --------------------------------------------------------------------------- server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yields the base
    URL (ending in '/'); the server is shut down on exit."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"nothing to serve: {directory} is not a folder")
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="gallery-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- browser


@contextlib.contextmanager
def launch(headless: bool = True):
    """Headless Debian Chromium through Playwright's sync API; yields a Browser.

    Raises BrowserUnavailable (a clear message, never a skip) when Chromium or
    Playwright is missing: ``make test`` installs Chromium, so a missing browser is
    a broken set-up, not a reason to pass."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        raise BrowserUnavailable(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
            "(run `make browser`, or `apt-get install chromium`; set GALLERY_CHROMIUM to use "
            "another binary). Never `playwright install`: the harness uses the system browser.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - requirements.txt pins it
        raise BrowserUnavailable(f"the Python package playwright is missing ({exc}); run `make setup`") from exc
    # A plain launch runs on a fresh temporary profile of its own (Playwright makes
    # and removes it), so no state leaks between runs.
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=headless,
                                     args=CHROMIUM_ARGS + OFFLINE_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --------------------------------------------------------------------------- one page


@dataclass
class PageReport:
    url: str
    status: int | None = None
    title: str = ""
    width: int = 0
    scheme: str = "light"
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    placeholders: int = 0
    drawn: int = 0
    views: list[dict] = field(default_factory=list)  # per placeholder: id, view, drawn, svg nodes
    palette: str | None = None  # body[data-md-color-scheme]: default | slate
    scroll_width: int = 0
    client_width: int = 0
    inner_width: int = 0
    wide_elements: list[str] = field(default_factory=list)  # what sticks out, when it scrolls
    injected: list[str] = field(default_factory=list)  # img[src=x], [onerror], <script>alert(
    links: list[str] = field(default_factory=list)  # same-origin, absolute, no fragment
    seconds: float = 0.0

    @property
    def horizontal_scroll(self) -> bool:
        """The document itself scrolls sideways. Compared with the layout viewport
        (``clientWidth``, scrollbar excluded), which is what decides whether a
        horizontal scrollbar appears; ``innerWidth`` includes the vertical scrollbar."""
        return self.scroll_width > self.client_width + 1

    @property
    def all_drawn(self) -> bool:
        return self.drawn == self.placeholders

    def problems(self, views: bool = True, scroll: bool = True) -> list[str]:
        """Everything a reader would notice, one line each (empty when all is well)."""
        where = f"{self.url} [{self.width}px {self.scheme}]"
        out = [f"{where}: console error: {e}" for e in self.console_errors]
        out += [f"{where}: failed request: {r}" for r in self.failed_requests]
        out += [f"{where}: request to another host: {r}" for r in self.external_requests]
        out += [f"{where}: dialog opened: {d}" for d in self.dialogs]
        out += [f"{where}: injected markup in the DOM: {i}" for i in self.injected]
        if self.status is not None and self.status >= 400:
            out.append(f"{where}: HTTP {self.status}")
        if views and not self.all_drawn:
            empty = [v["id"] or v["view"] for v in self.views if not v["drawn"]]
            out.append(f"{where}: {self.placeholders - self.drawn} of {self.placeholders} views "
                       f"not drawn: {empty}")
        if scroll and self.horizontal_scroll:
            out.append(f"{where}: document scrolls sideways (scrollWidth {self.scroll_width} > "
                       f"clientWidth {self.client_width}); widest: {self.wide_elements}")
        return out


# Start drawing every view now (the poll below waits for them).
_DRAW_ALL = """() => { if (window.GalleryViews) window.GalleryViews.drawAll(); return true; }"""

_DOM_STATE = """() => {
  const els = Array.from(document.querySelectorAll('.gallery-bertviz'));
  const views = els.map(el => {
    const nodes = el.querySelectorAll('svg *, canvas').length;
    // drawn: the view says so (data-drawn, set once its lines are on the page) and shows something
    return {id: el.id, view: el.getAttribute('data-view'),
            attention: el.getAttribute('data-attention'),
            drawnScheme: el.getAttribute('data-drawn'), svgNodes: nodes,
            canvases: el.querySelectorAll('canvas').length,
            drawn: el.hasAttribute('data-drawn') && nodes > 0};
  });
  return {placeholders: els.length, drawn: views.filter(v => v.drawn).length, views};
}"""

_PAGE_FACTS = """() => {
  const de = document.documentElement;
  const cw = de.clientWidth;
  const wide = [];
  if (de.scrollWidth > cw + 1) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.width && r.right > cw + 1) {
        let parent = el.parentElement, inside = false;
        while (parent && parent !== document.body) {   // skip what a scroll frame clips
          const ox = getComputedStyle(parent).overflowX;
          if (ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip') { inside = true; break; }
          parent = parent.parentElement;
        }
        if (!inside) {
          const cls = (typeof el.className === 'string' && el.className) ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
          wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' right=' + Math.round(r.right));
          if (wide.length >= 8) break;
        }
      }
    }
  }
  const links = new Set();
  for (const a of document.querySelectorAll('a[href]')) {
    const u = new URL(a.href, location.href);
    if (u.origin !== location.origin) continue;
    u.hash = '';
    links.add(u.href);
  }
  // Markup a sentence could smuggle in (the gallery's injection sentence uses these).
  const jsTypes = ['', 'text/javascript', 'application/javascript', 'module'];
  const injected = [];
  for (const el of document.querySelectorAll('img[src="x"]')) injected.push('img[src="x"]');
  for (const el of document.querySelectorAll('[onerror]')) injected.push(el.tagName.toLowerCase() + '[onerror]');
  for (const el of document.querySelectorAll('script')) {
    const type = (el.getAttribute('type') || '').trim().toLowerCase();
    if (jsTypes.includes(type) && /alert\\s*\\(/.test(el.textContent)) injected.push('script: ' + el.textContent.slice(0, 60));
  }
  return {injected, scrollWidth: de.scrollWidth, clientWidth: cw, innerWidth: window.innerWidth,
          wide, links: Array.from(links), title: document.title,
          palette: document.body ? document.body.getAttribute('data-md-color-scheme') : null};
}"""


def is_external(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in NON_NETWORK_SCHEMES:
        return False
    return (parsed.hostname or "") not in LOCAL_HOSTS


class Watcher:
    """Listens to one page from the moment it is attached; ``report()`` reads the
    DOM and returns what was seen so far (it survives navigations, e.g. a click)."""

    def __init__(self, page):
        self.page = page
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.pending: set = set()  # requests in flight
        self.closed = False
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self._add(self.console_errors, f"uncaught: {exc}"))
        page.on("request", self._request)
        page.on("requestfinished", lambda req: self.pending.discard(req))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        page.on("dialog", self._dialog)

    def _add(self, bucket, item):
        if not self.closed:
            bucket.append(item)

    def _request(self, req):
        self.pending.add(req)
        self._add(self.requests, req.url)

    def _request_failed(self, req):
        self.pending.discard(req)
        self._add(self.failed, f"{req.url} ({req.failure or 'failed'})")

    def settle(self, timeout: float = 3.0) -> None:
        """Wait (briefly) until no request is in flight, e.g. d3 and jQuery that
        require.js loads while the views draw."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)

    def _console(self, msg):
        if msg.type == "error":
            loc = msg.location or {}
            where = f" at {loc.get('url', '')}:{loc.get('lineNumber', '')}" if loc.get("url") else ""
            self._add(self.console_errors, f"{msg.text}{where}")

    def _response(self, resp):
        if resp.status >= 400:
            self._add(self.failed, f"{resp.url} (HTTP {resp.status})")

    def _dialog(self, dialog):
        self._add(self.dialogs, f"{dialog.type}: {dialog.message}")
        with contextlib.suppress(Exception):
            dialog.dismiss()

    def report(self, status=None, width=0, scheme="light", started=None,
               view_timeout: float = VIEW_TIMEOUT_S) -> PageReport:
        state = wait_for_views(self.page, view_timeout)
        self.settle()
        facts = self.page.evaluate(_PAGE_FACTS)
        self.closed = True  # what happens after (closing the page aborts requests) is not the page's fault
        return PageReport(
            url=self.page.url, status=status, title=facts["title"], width=width, scheme=scheme,
            console_errors=list(self.console_errors), failed_requests=list(self.failed),
            requests=list(self.requests),
            external_requests=[u for u in self.requests if is_external(u)],
            dialogs=list(self.dialogs), placeholders=state["placeholders"], drawn=state["drawn"],
            views=state["views"], palette=facts["palette"], scroll_width=facts["scrollWidth"],
            client_width=facts["clientWidth"], inner_width=facts["innerWidth"],
            wide_elements=facts["wide"], injected=facts["injected"], links=facts["links"],
            seconds=time.perf_counter() - started if started else 0.0)


def wait_for_views(page, timeout: float = VIEW_TIMEOUT_S, force: bool = True) -> dict:
    """Poll until every bertviz placeholder has drawn (or ``timeout`` seconds);
    returns the last state (placeholders, drawn, per-view details). Views are drawn
    as they near the viewport; ``force`` asks the page to draw them all now
    (``GalleryViews.drawAll()``), as a reader scrolling through would."""
    deadline = time.monotonic() + timeout
    if force:
        page.evaluate(_DRAW_ALL)
    while True:
        state = page.evaluate(_DOM_STATE)
        if state["drawn"] == state["placeholders"] or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    return state


def new_context(browser, width=DESKTOP[0], height=DESKTOP[1], scheme="light"):
    """A fresh context (own storage, so Material's palette follows the media query)."""
    return browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme,
                               service_workers="block")


@contextlib.contextmanager
def open_page(target, width=DESKTOP[0], height=DESKTOP[1], scheme="light"):
    """A page with a Watcher. ``target`` is a Browser (a fresh context is made and
    closed) or a BrowserContext (a new page in it, sized and coloured as asked)."""
    owned = None
    if hasattr(target, "new_context"):
        owned = target = new_context(target, width, height, scheme)
    page = target.new_page()
    if owned is None:
        page.set_viewport_size({"width": width, "height": height})
        page.emulate_media(color_scheme=scheme)
    watcher = Watcher(page)
    try:
        yield page, watcher
    finally:
        page.close()
        if owned is not None:
            owned.close()


def visit(target, url, width=DESKTOP[0], height=DESKTOP[1], scheme="light",
          view_timeout: float = VIEW_TIMEOUT_S) -> PageReport:
    """Open ``url`` in a Browser (fresh context) or BrowserContext and report on it."""
    started = time.perf_counter()
    with open_page(target, width, height, scheme) as (page, watcher):
        response = page.goto(url, wait_until="load")
        return watcher.report(status=response.status if response else None, width=width,
                              scheme=scheme, started=started, view_timeout=view_timeout)


# --------------------------------------------------------------------------- accessibility

AXE_VERSION = "4.14.1"  # axe-core from the npm registry (npm pack), cached, never committed
AXE_CACHE = Path(os.environ.get("GALLERY_AXE_CACHE", Path(__file__).resolve().parent.parent / ".cache" / "axe"))
# what "no serious or critical violation" allows: Material's own search dialog, which
# no theme override names (aria-dialog-name, on the element below only)
AXE_ALLOWED = {("aria-dialog-name", ".md-search")}


def axe_source(version: str = AXE_VERSION, cache: Path = AXE_CACHE) -> str:
    """axe-core's ``axe.min.js``: fetched once with ``npm pack`` (as the site's vendor
    scripts are, see attention_gallery/build/assets.py) into ``cache``."""
    import shutil
    import subprocess
    import tarfile

    script = cache / f"axe-core-{version}.min.js"
    if not script.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise BrowserUnavailable("npm is missing: the accessibility tests fetch axe-core with it "
                                     "(apt-get install npm)")
        cache.mkdir(parents=True, exist_ok=True)
        out = subprocess.run([npm, "pack", f"axe-core@{version}", "--pack-destination", str(cache)],
                             check=False, capture_output=True, text=True, cwd=cache, timeout=180)
        tarball = cache / f"axe-core-{version}.tgz"
        if out.returncode != 0 or not tarball.is_file():
            raise BrowserUnavailable(f"npm pack axe-core@{version} failed: {out.stderr.strip()[-300:]}")
        with tarfile.open(tarball) as tar:
            data = tar.extractfile("package/axe.min.js").read()
        tmp = script.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(script)
        tarball.unlink()
    return script.read_text(encoding="utf-8")


def axe_check(page, source: str | None = None) -> list[dict]:
    """Run axe-core (every rule it runs by default: WCAG 2.0/2.1 A and AA and best
    practices) on ``page``; returns the violations, each {id, impact, help, nodes:
    [{target, summary}]}."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(content=source or axe_source())
    return page.evaluate("""async () => {
      const r = await axe.run(document, {resultTypes: ['violations']});
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: (n.failureSummary || '').slice(0, 300),
                                  html: n.html.slice(0, 160)}))}));
    }""")


def serious(violations: list[dict], allowed=AXE_ALLOWED) -> list[str]:
    """The serious and critical violations, one line per element, less ``allowed``
    ((rule, CSS selector the element matches) pairs)."""
    out = []
    for v in violations:
        if v["impact"] not in ("serious", "critical"):
            continue
        for n in v["nodes"]:
            if any(v["id"] == rule and sel in n["target"] for rule, sel in allowed):
                continue
            out.append(f"{v['impact']} {v['id']} ({v['help']}): {n['target']} {n['html']}")
    return out


# --------------------------------------------------------------------------- whole site


@dataclass
class SiteReport:
    base_url: str
    pages: dict[str, PageReport] = field(default_factory=dict)  # url -> report
    downloads: dict[str, int] = field(default_factory=dict)  # url -> status
    link_status: dict[str, int] = field(default_factory=dict)  # every same-origin link -> status
    linked_from: dict[str, str] = field(default_factory=dict)  # link -> first page linking it

    def problems(self, views: bool = True, scroll: bool = True) -> list[str]:
        out = [p for r in self.pages.values() for p in r.problems(views=views, scroll=scroll)]
        out += [f"broken link {u} (HTTP {s}) on {self.linked_from.get(u, '?')}"
                for u, s in self.link_status.items() if s != 200]
        return out

    @property
    def views_drawn(self) -> int:
        return sum(r.drawn for r in self.pages.values())

    @property
    def requests(self) -> int:
        return sum(len(r.requests) for r in self.pages.values())

    @property
    def external_requests(self) -> list[str]:
        return [u for r in self.pages.values() for u in r.external_requests]

    def summary(self) -> str:
        placeholders = sum(r.placeholders for r in self.pages.values())
        return (f"{len(self.pages)} pages, {self.views_drawn}/{placeholders} views drawn, "
                f"{self.requests} requests ({len(self.external_requests)} to other hosts), "
                f"{len(self.link_status)} links checked, {len(self.downloads)} downloads")


def _is_download(url: str) -> bool:
    return urlparse(url).path.lower().endswith(DOWNLOAD_SUFFIXES)


def crawl(target, base_url, width=DESKTOP[0], height=DESKTOP[1], scheme="light",
          max_pages: int = 200, view_timeout: float = VIEW_TIMEOUT_S) -> SiteReport:
    """Visit every HTML page reachable from ``base_url`` by same-origin links, each
    in a fresh page; downloads (.ipynb, .json, ...) and every other link are checked
    with a request (status must be 200) but not opened. ``target``: Browser or
    BrowserContext."""
    site = SiteReport(base_url)
    owned = None
    if hasattr(target, "new_context"):
        owned = target = new_context(target, width, height, scheme)
    try:
        queue, seen = [base_url], {base_url}
        site.link_status[base_url] = 0
        while queue:
            if len(site.pages) >= max_pages:
                raise RuntimeError(f"crawl of {base_url} passed {max_pages} pages; a link loop?")
            url = queue.pop(0)
            if _is_download(url):
                resp = target.request.get(url)
                site.downloads[url] = site.link_status[url] = resp.status
                continue
            head = target.request.get(url)
            site.link_status[url] = head.status
            if head.status != 200 or "text/html" not in head.headers.get("content-type", ""):
                continue
            report = visit(target, url, width, height, scheme, view_timeout)
            site.pages[url] = report
            for link in report.links:
                link = urldefrag(link)[0]
                if link.startswith(base_url) and link not in seen:
                    seen.add(link)
                    site.linked_from[link] = url
                    queue.append(link)
    finally:
        if owned is not None:
            owned.close()
    return site


# --------------------------------------------------------------------------- for humans


def screenshot(url, path, scheme="light", width=DESKTOP[0], height=DESKTOP[1], full_page=True,
               browser=None) -> Path:
    """Save a (full-page) screenshot of ``url`` once its views drew. Uses ``browser``
    when given (one launch per process: Playwright's sync API does not nest), else
    launches its own."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if browser is None:
            browser = stack.enter_context(launch())
        page, _ = stack.enter_context(open_page(browser, width, height, scheme))
        page.goto(url, wait_until="load")
        wait_for_views(page)
        page.screenshot(path=str(path), full_page=full_page)
    return path


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Crawl a built gallery in headless Chromium.")
    ap.add_argument("site", type=Path, help="a built site folder (e.g. site/)")
    ap.add_argument("--width", type=int, default=DESKTOP[0])
    ap.add_argument("--scheme", choices=("light", "dark"), default="light")
    ap.add_argument("--shot", nargs=2, metavar=("PAGE", "PNG"), help="screenshot PAGE (relative URL) to PNG")
    args = ap.parse_args(argv)
    with serve(args.site) as base:
        if args.shot:
            print(screenshot(urljoin(base, args.shot[0]), args.shot[1], args.scheme, args.width))
            return 0
        with launch() as browser:
            site = crawl(browser, base, width=args.width, scheme=args.scheme)
    for line in site.problems():
        print(line)
    print(site.summary())
    return 1 if site.problems() else 0


if __name__ == "__main__":
    raise SystemExit(main())
