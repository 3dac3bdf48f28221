"""Hostile pairs files, full disks and the watch server (issue 23): every fault a clear
line, nothing served that the site did not make. Each test attacks the real code on
real files (throwaway folders) as a hostile or careless user would."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from attention_gallery import config, pairs
from attention_gallery.build import build, outdir, serve
from attention_gallery.build.sentences import (
    SentenceSetError,
    check_text,
    parse_sentences,
)

REPO = config.REPO_ROOT
SCRIPT = str(REPO / "scripts" / "build_gallery.py")
TWO = [("one-good", "A good film", "positive"), ("two-bad", "A bad film", "negative")]


def cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, SCRIPT, "--quiet", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def refused_line(out: subprocess.CompletedProcess, *words) -> str:
    """The one line of a refusal (exit 2, no traceback), checked to hold ``words``."""
    assert out.returncode == 2, (out.returncode, out.stderr[-3000:])
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr[-3000:]
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def write_sentences(path: Path, rows) -> Path:
    path.write_text(yaml.safe_dump({"sentences": [
        {"slug": slug, "text": text, "label": label} for slug, text, label in rows]}))
    return path


def pairs_file(path: Path, slug: str, untrained: dict, trained: dict, **fields) -> Path:
    path.write_text(yaml.safe_dump({slug: {"title": "t", "untrained": untrained, "trained": trained, **fields}}))
    return path


# --- 1. every field of a pairs file is text wherever it reaches a page ------------------------

HOSTILE = "[click](javascript:alert('md')) <script>alert(1)</script> `x` *y* {: onclick=alert(2) } | a |"


def _render(markdown_text: str) -> str:
    """The page's HTML as MkDocs makes it: Python-Markdown with mkdocs.yml's extensions."""
    import markdown

    cfg = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)
    extensions = [e if isinstance(e, str) else next(iter(e)) for e in cfg["markdown_extensions"]]
    return markdown.markdown(markdown_text, extensions=extensions)


class _Tags(HTMLParser):
    """The elements, link targets, event-handler attributes and text of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.names, self.hrefs, self.handlers, self.parts = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.names.append(tag)
        self.hrefs += [v or "" for k, v in attrs if k in ("href", "src")]
        self.handlers += [k for k, _ in attrs if k.startswith("on")]

    def handle_data(self, data):
        self.parts.append(data)

    def text(self) -> str:
        return " ".join("".join(self.parts).split())

    @classmethod
    def of(cls, page: str) -> "_Tags":
        tags = cls()
        tags.feed(page)
        return tags


def test_pair_fields_reach_the_pages_as_text_never_as_links(tiny_dirs):
    from attention_gallery.web import pages

    untrained, trained = tiny_dirs
    spec = pairs.parse_pairs({"hostile": {
        "title": HOSTILE, "description": HOSTILE, "labels": [HOSTILE, "[p](javascript:x)"],
        "untrained": {"path": str(untrained), "name": HOSTILE},
        "trained": {"path": str(trained), "name": "[n](javascript:alert(3))"}}})["hostile"]
    arch = {"model_type": "x` [m](javascript:alert(4)) `", "layers": 2, "heads": 2, "hidden": 32, "init_std": 0.02}
    for markdown_text in (pages.pair_page(spec, None, arch), pages.index_page(spec, [])):
        tags = _Tags()
        tags.feed(_render(markdown_text))
        assert not [href for href in tags.hrefs if "javascript" in href.lower()], tags.hrefs
        assert "script" not in tags.names and "img" not in tags.names and not tags.handlers
        assert HOSTILE in tags.text()  # shown as written, whole
    assert "[n](javascript:alert(3))" in _Tags.of(_render(pages.pair_page(spec, None, arch))).text()
    # the live page's settings carry the names as inert JSON, read back unchanged
    from attention_gallery.explain import views

    blob = views.safe_json({"labels": list(spec.labels), "display": {"untrained": spec.untrained.display_name}})
    assert "<" not in blob and json.loads(blob)["display"]["untrained"] == HOSTILE


# --- 2. pair slugs follow the sentence slug rules; Windows device names are refused ---------

@pytest.mark.parametrize("slug", ["../escaped-x", "a/b", "Tiny", "x.y", "", "nul", "com1", "lpt9", "aux"])
def test_pair_slugs_are_refused_unless_they_are_slugs(slug, tiny_dirs):
    untrained, trained = tiny_dirs
    with pytest.raises(ValueError, match="pair slug"):
        pairs.parse_pairs({slug: {"title": "t", "untrained": {"path": str(untrained)},
                                  "trained": {"path": str(trained)}}})


def test_a_pairs_file_with_a_path_slug_is_one_line_and_writes_nothing(tmp_path, tiny_dirs):
    untrained, trained = tiny_dirs
    reg = pairs_file(tmp_path / "pairs.yaml", "../escaped-x", {"path": str(untrained)}, {"path": str(trained)})
    out = cli("--pair", "../escaped-x", "--sentences", str(write_sentences(tmp_path / "s.yaml", TWO)),
              "--out", str(tmp_path / "site"), "--cache", str(tmp_path / "cache" / "c"),
              env={"ATTENTION_GALLERY_PAIRS": str(reg)})
    refused_line(out, str(reg), "'../escaped-x'", "pair slug")
    assert not (tmp_path / "cache" / "escaped-x").exists() and not (tmp_path / "escaped-x").exists()


@pytest.mark.parametrize("slug", ["con", "nul", "aux", "prn", "com1", "com9", "lpt1", "lpt9"])
def test_windows_device_names_are_refused_as_sentence_slugs(slug):
    with pytest.raises(SentenceSetError, match=f"slug '{slug}' is reserved: Windows"):
        parse_sentences(yaml.safe_dump({"sentences": [{"slug": slug, "text": "Fine.", "label": "positive"}]}))
    parse_sentences(yaml.safe_dump({"sentences": [{"slug": f"{slug}-x", "text": "Fine.", "label": "positive"}]}))


# --- 3. a model path is checked before any kernel starts --------------------------------------

@pytest.fixture()
def not_models(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "plain").write_text("not a model")
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text("{}")
    (pickled / "pytorch_model.bin").write_bytes(b"\x80\x02pickle")
    no_weights = tmp_path / "no-weights"
    no_weights.mkdir()
    (no_weights / "config.json").write_text("{}")
    return tmp_path


@pytest.mark.parametrize("where, says", [
    ("/dev/zero", "is not a folder"), ("{tmp}/plain", "is not a folder"),
    ("{tmp}/empty", "config.json does not exist"), ("/proc/self", "config.json does not exist"),
    ("/usr", "config.json does not exist"), ("{tmp}/missing", "does not exist"),
    ("{tmp}/pickled", "pytorch_model.bin is a pickle checkpoint"), ("{tmp}/no-weights", "has no weights"),
])
def test_a_model_path_that_is_no_model_is_one_line(not_models, where, says):
    from attention_gallery.models import ModelUnavailableError, check_source

    path = where.format(tmp=not_models)
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match=re.escape(says)) as info:
        check_source(pairs.ModelSource(path=path), "the untrained model")
    assert time.perf_counter() - start < 1 and "\n" not in str(info.value)
    # the cache's fingerprint checks first: never a byte of /usr hashed
    from attention_gallery.build.cache import weights_fingerprint

    with pytest.raises(ModelUnavailableError):
        weights_fingerprint(pairs.ModelSource(path=path))


def test_model_paths_are_refused_by_the_build_before_a_kernel_starts(tmp_path, not_models, tiny_dirs):
    untrained, _ = tiny_dirs
    sentences = str(write_sentences(tmp_path / "s.yaml", TWO))
    cases = [({"path": "/usr"}, {"path": str(untrained)}, "/usr/config.json does not exist"),
             ({"path": str(not_models / "pickled")}, {"path": str(untrained)}, "convert it to safetensors"),
             ({"path": str(untrained)}, {"path": str(tmp_path / "gone")}, "the trained model of pair 'x'")]
    for bad_untrained, bad_trained, says in cases:
        reg = pairs_file(tmp_path / "pairs.yaml", "x", bad_untrained, bad_trained)
        start = time.perf_counter()
        out = cli("--pair", "x", "--sentences", sentences, "--out", str(tmp_path / "site"),
                  "--cache", str(tmp_path / "cache"), env={"ATTENTION_GALLERY_PAIRS": str(reg)})
        refused_line(out, says)
        assert time.perf_counter() - start < 30  # no kernel started, nothing hashed
        assert not (tmp_path / "site").exists() and not list((tmp_path / "cache").rglob("*.ipynb"))


# --- 5 and 9. one set of text rules for the build and the live page; SVG exports stay XML ------

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")
JS = REPO / "docs" / "assets" / "javascripts"

# live.js (the live page's entry, an ES module) run as the page runs it, on a stub of the few
# DOM calls it makes before a sentence is accepted: the refusal is said in #live-status; an
# accepted text disables the button
_LIVE_HARNESS = r"""
const fs = require("fs");
const { pathToFileURL } = require("url");
const [file, config, search, texts] = JSON.parse(fs.readFileSync(0, "utf8"));
const nodes = {};
function node() { return { value: "", textContent: "", disabled: false, hidden: false, style: {}, error: false,
  classList: { toggle(name, on) { if (name === "live-error") this.owner.error = !!on; }, add() {}, remove() {} },
  addEventListener() {}, setAttribute() {}, getAttribute() { return null; } }; }
global.document = { readyState: "complete", body: node(), addEventListener() {}, querySelectorAll() { return []; },
  querySelector() { return null; },
  getElementById(id) {
    if (id === "live-config") return { textContent: config };
    if (!nodes[id]) { nodes[id] = node(); nodes[id].classList.owner = nodes[id]; }
    return nodes[id]; } };
global.window = global;
global.addEventListener = () => {};
global.MutationObserver = class { observe() {} };
global.location = { search: search, hash: "", href: "http://127.0.0.1/gallery/live/" };
global.history = { replaceState() {} };
function outcome() {
  const s = nodes["live-status"], b = nodes["live-run"];
  const r = b.disabled ? null : (s.error ? s.textContent : "not refused: " + s.textContent);
  b.disabled = false; s.textContent = ""; s.error = false;
  return r;
}
function attempt(f) { try { f(); } catch (e) { /* an accepted text goes on to load the models: none here */ } }
(async () => {
  try { await import(pathToFileURL(file).href); } catch (e) { /* a shared text goes on to load the models */ }
  const shared = outcome();
  const results = texts.map(t => { attempt(() => window.LiveGallery.run(t)); return outcome(); });
  process.stdout.write(JSON.stringify({ shared: shared, results: results, box: (nodes["live-text"] || {}).value }));
  process.exit(0);
})();
"""

TEXTS = ["A good film", "tab\tok", "emoji 😀 東京 ok", "\x00 after NUL", "a\uffff", "a\ufffe b", "\ufdd0 x",
         "x \U0010ffff", "x \U0001fffe", "ok" * 1001, "ok\u202e", "line\nbreak", "bad \ud800 half", "\u3164",
         "\x7f del", "c1 \x85 nel", "   ", ""]


def _live(search: str, texts) -> dict:
    from attention_gallery import rules

    config_json = json.dumps({"text_rules": rules.load()["text"]})
    run = subprocess.run([NODE, "-e", _LIVE_HARNESS], input=json.dumps([str(JS / "live.js"), config_json, search,
                                                                        list(texts)]),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _what(message: str) -> str:
    return re.split(r"[,;:(]", message, maxsplit=1)[0].strip()


@needs_node
def test_the_live_page_refuses_exactly_what_the_build_refuses():
    results = _live("", TEXTS)["results"]
    for text, js in zip(TEXTS, results):
        accepted = check_text(text)
        assert (js is None) == (not accepted), (text[:20], js, accepted)
        if accepted:
            assert not js.startswith("not refused") and _what(js) == _what(accepted[0]), (js, accepted[0])


@needs_node
@pytest.mark.parametrize("shared, says", [
    ("%00%20after%20NUL", "text contains a control character, U+0000 at character 1"),
    ("ok" * 1001, "text is too long: 2002 characters; at most 2000"),
    ("a%EF%BF%BF", "text contains a noncharacter, U+FFFF at character 2"),
])
def test_a_shared_address_obeys_the_text_box_rules(shared, says):
    seen = _live("?text=" + shared, [])
    assert seen["shared"] is not None and seen["shared"].startswith(says), seen["shared"]


def test_noncharacters_are_refused_in_sentences_and_notes():
    for text in ("bad \uffff", "bad \ufffe", "bad \ufdd0", "bad \U0010ffff"):
        assert any("noncharacter" in p for p in check_text(text)), text
    with pytest.raises(SentenceSetError, match="note contains a noncharacter, U\\+FFFE"):
        parse_sentences(yaml.safe_dump({"sentences": [{"slug": "a", "text": "Fine.", "label": "positive",
                                                        "note": "x\ufffe"}]}))


def test_the_text_rules_are_one_set_of_data():
    """The build reads them from rules.json, and the live page gets the same object."""
    from attention_gallery import rules
    from attention_gallery.build import sentences

    text = rules.load()["text"]
    assert sentences.MAX_TEXT_CHARS == text["max_chars"]
    assert {f"{ord(c):04X}" for c in sentences._BIDI_CONTROLS} == set(text["bidi_controls"]["chars"])
    assert ["FFFE", "FFFF"] in text["noncharacters"]["ranges"]
    source = (REPO / "attention_gallery" / "live" / "page.py").read_text()
    assert '"text_rules": rules.load()["text"]' in source


@needs_node
def test_svg_export_drops_what_xml_cannot_carry():
    import xml.etree.ElementTree as ET

    # the exports' own function (lib/export.js), imported as the pages' bundle imports it
    module = (JS / "lib" / "export.js").as_uri()
    tokens = ["ok\uffff", "\ufffe", "c\x01d", "half \ud800", "<&\">", "東京 😀", "tab\tline"]
    run = subprocess.run([NODE, "--input-type=module", "-e",
                          f"import {{ xml }} from {json.dumps(module)};\nimport fs from 'node:fs';\n"
                          "process.stdout.write(JSON.stringify(JSON.parse(fs.readFileSync(0, 'utf8')).map(xml)));"],
                         input=json.dumps(tokens), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    svg = '<svg xmlns="http://www.w3.org/2000/svg">' + "".join(f"<text>{t}</text>" for t in shown) + "</svg>"
    root = ET.fromstring(svg.encode("utf-8", errors="surrogatepass"))
    assert [t.text for t in root] == ["ok", None, "cd", "half ", "<&\">", "東京 😀", "tab\tline"]


# --- 4. a full disk is one line naming the path and what the errno means; the site survives ---

def _old_site(out: Path) -> dict:
    out.mkdir(parents=True)
    (out / "index.html").write_text("<html><body>previous site</body></html>")
    outdir.write_marker(out, "site")
    return {p.name: p.read_bytes() for p in out.iterdir()}


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[1] if len(args) > 1 else args[0]))


@pytest.mark.parametrize("where", ["copytree", "copyfile"])
def test_a_full_disk_while_staging_the_site_is_one_line_and_the_site_survives(tmp_path, monkeypatch, where, tiny_spec):
    from attention_gallery.build.sentences import Sentence
    from attention_gallery.errors import BuildError

    out = tmp_path / "site"
    before = _old_site(out)
    plan = outdir.plan(out, tmp_path / "cache")
    build.prepare_staging(plan)
    entry = tmp_path / "entry.ipynb"
    entry.write_text("{}")
    ex = build.Execution({"a": None}, [], files={"a": entry})
    if where == "copytree":  # the docs copied into the staging folder
        monkeypatch.setattr(shutil, "copytree", _enospc)
    else:  # a notebook copied from the cache; then writing it out fails as well
        monkeypatch.setattr(shutil, "copyfile", _enospc)
        monkeypatch.setattr(build.notebook, "write", _enospc)
    with pytest.raises(BuildError) as info:
        build.publish(plan, [Sentence("a", "A film", "positive")], ex, tiny_spec)
    message = str(info.value)
    assert "\n" not in message and "No space left on device (ENOSPC)" in message, message
    assert str(plan.staging) in message and f"the site in {out} was not changed" in message
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_full_disk_while_writing_the_cache_is_one_line(tmp_path, monkeypatch, tiny_spec):
    import nbformat

    from attention_gallery.build import notebook
    from attention_gallery.build.cache import NotebookCache
    from attention_gallery.errors import BuildError

    cache = NotebookCache(tmp_path / "cache", tiny_spec, notebook.read_template(config.TEMPLATE))
    params = {"slug": "a", "text": "A film"}

    def full(fh_nb, fh, *args, **kwargs):  # the bytes of the notebook meet a full disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(nbformat, "write", full)
    with pytest.raises(BuildError) as info:
        cache.put(params, nbformat.v4.new_notebook())
    message = str(info.value)
    assert "\n" not in message and "cannot write the cache entry" in message
    assert "No space left on device (ENOSPC)" in message
    assert not list((tmp_path / "cache").rglob("*.ipynb")) and not list((tmp_path / "cache").rglob("*.tmp"))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_dev_full_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    """A real one-file write: the build's --timings file, pointed at /dev/full."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_gallery_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(build, "build", lambda *a, **k: build.BuildReport(site_dir=tmp_path / "site"))
    code = module.main(["--quiet", "--out", str(tmp_path / "site"), "--timings", "/dev/full"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "/dev/full: No space left on device (ENOSPC)" in lines[0], err


# --- 6. the watch server: regular files of the site only, its own Host, no tracebacks --------

@pytest.fixture()
def served(tmp_path):
    site = tmp_path / "site"
    (site / "gallery").mkdir(parents=True)
    (site / "index.html").write_text("<html><body>home</body></html>")
    (site / "style.css").write_text("body{}")
    (site / "gallery" / "index.html").write_text("<html><body>gallery</body></html>")
    outdir.write_marker(site, "site")
    (site / "passwd").symlink_to("/etc/passwd")
    (site / "etc").symlink_to("/etc")
    (site / "gallery" / "up").symlink_to(tmp_path)
    (tmp_path / "secret.txt").write_text("secret")
    state = serve.WatchState()
    state.published({})
    with serve.serving(site, state, 0) as url:
        yield site, state, int(url.rsplit(":", 1)[1].strip("/"))


def _raw(port: int, request: bytes, timeout: float = 10) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _get(port: int, path: str, host: str | None = None) -> tuple[int, bytes]:
    host = f"127.0.0.1:{port}" if host is None else host
    answer = _raw(port, f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_the_watch_server_serves_regular_files_of_the_site_only(served):
    site, _, port = served
    assert _get(port, "/")[0] == 200 and b"home" in _get(port, "/")[1]
    assert _get(port, "/style.css") == (200, b"body{}")
    assert _get(port, "/gallery")[0] == 301 and b"gallery" in _get(port, "/gallery/")[1]
    for path in ("/passwd", "/etc/", "/etc/passwd", "/etc/hostname", "/gallery/up/secret.txt", "/gallery/up/",
                 "/../secret.txt", "/%2e%2e/secret.txt", "/assets/", "/nothing.html"):
        status, body = _get(port, path)
        assert status == 404 and b"root:" not in body and b"secret" not in body, (path, status, body[:200])
    (site / "gallery" / "index.html").unlink()
    assert _get(port, "/gallery/")[0] == 404  # a folder without its page: no listing


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1", "127.0.0.1:1", "localhost.evil:{port}", ""])
def test_the_watch_server_answers_only_its_own_host(served, host):
    _, _, port = served
    assert _get(port, "/", host.format(port=port))[0] == 400
    for good in ("127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST:{port}"):
        assert _get(port, "/", good.format(port=port))[0] == 200


def test_the_watch_server_answers_400_to_a_nul_and_logs_a_disconnect_in_one_line(served, capfd):
    _, state, port = served
    assert _get(port, "/index.html%00.txt")[0] == 400
    (served[0] / "big.bin").write_bytes(b"x" * (64 << 20))
    for _ in range(3):  # ask for a big file and hang up at once
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.sendall(f"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            s.recv(10)
    time.sleep(1.0)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "ValueError" not in err, err[-2000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 3 and all(line.startswith("watch server: 127.0.0.1 went away") for line in lines), err


def test_the_watch_server_closes_idle_connections_and_polling_goes_on(served, monkeypatch):
    _, _, port = served
    assert serve.WatchHandler.timeout == serve.IDLE_S == 30
    monkeypatch.setattr(serve.WatchHandler, "timeout", 1)
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as idle:
        assert idle.recv(10) == b""  # the server hung up on a connection that said nothing
    assert time.perf_counter() - start < 10
    for _ in range(3):  # the pages' reload polling: one request per connection
        status, body = _get(port, serve.STATE_PATH)
        assert status == 200 and json.loads(body)["version"] == 1


def test_a_copy_of_the_live_site_leaves_planted_links_behind(served, tmp_path):
    from attention_gallery.build import incremental

    site = served[0]
    os.mkfifo(site / "pipe")
    incremental.copy_site(site, tmp_path / "copy")
    names = {p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*")}
    assert names == {"index.html", "style.css", "gallery", "gallery/index.html", outdir.MARKER}
    source = (REPO / "attention_gallery" / "build" / "watch.py").read_text()
    assert "copytree" not in source  # the live copy made while the kernels run is the same copy


# --- 7. another build's staging folder is no --out; an interrupted swap is restored ----------

def test_a_build_into_another_builds_staging_folder_is_refused(tmp_path):
    staging = tmp_path / ".site.staging"
    staging.mkdir()
    outdir.write_marker(staging, "staging")
    for out in (staging, tmp_path / ".site.old", tmp_path / ".other.staging"):
        with pytest.raises(outdir.Refusal, match="folder of a build into"):
            outdir.plan(out, tmp_path / "cache")
    marked = tmp_path / "odd-name"
    marked.mkdir()
    outdir.write_marker(marked, "staging")
    with pytest.raises(outdir.Refusal, match="staging folder"):
        outdir.plan(marked, tmp_path / "cache")
    out = cli("--out", str(staging), "--cache", str(tmp_path / "cache"))
    refused_line(out, str(staging), "staging folder of a build into")
    assert outdir.marker_kind(staging) == "staging"


def test_a_swap_interrupted_between_its_renames_is_restored_and_said(tmp_path, monkeypatch):
    out = tmp_path / "site"
    before = _old_site(out)
    new = tmp_path / "new"
    new.mkdir()
    (new / "index.html").write_text("new")
    renames = []
    real = Path.rename

    def interrupted(self, target):
        renames.append(self)
        if len(renames) == 2:
            raise KeyboardInterrupt  # between the two renames (as a signal arriving there)
        return real(self, target)

    monkeypatch.setattr(Path, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        outdir.swap(new, out, "site")
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # put back at once
    # what a kill there leaves (only .site.old) is restored by the next build, which says so
    out.rename(outdir.old_of(out))
    sentences = tmp_path / "bad.yaml"
    sentences.write_text("sentences: []\n")
    run = cli("--sentences", str(sentences), "--out", str(out), "--cache", str(tmp_path / "cache"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"restored {out} from {outdir.old_of(out)}" in run.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not outdir.old_of(out).exists()


# --- 8. a port that is no port --------------------------------------------------------------

@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_a_port_that_is_no_port_is_one_line(tmp_path, port):
    out = cli("--watch", "--port", port, "--out", str(tmp_path / "site"), "--cache", str(tmp_path / "c"), timeout=60)
    refused_line(out, f"--port {port} is not a port", "1 to 65535")
    with pytest.raises(serve.PortBusy, match="is not a port"):
        with serve.serving(tmp_path, serve.WatchState(), int(port)):
            pass


# --- 9. error lists are capped, on stderr, in the banner and in state.json -------------------

def _bomb(path: Path, entries: int = 60_000) -> Path:
    path.write_text("sentences:\n- &b {slug: X, text: '', label: nope}\n" + "- *b\n" * (entries - 1))
    return path


def test_a_file_of_60000_bad_entries_prints_the_first_20_and_a_count(tmp_path):
    bomb = _bomb(tmp_path / "bomb.yaml")
    out = cli("--sentences", str(bomb), "--out", str(tmp_path / "site"), "--cache", str(tmp_path / "c"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 22 and len(out.stderr) < 10_000, (len(lines), len(out.stderr))
    found = re.match(rf"error: {re.escape(str(bomb))}: (\d+) problems in the sentence set:$", lines[0])
    assert found and int(found.group(1)) > 60_000, lines[0]
    assert lines[-1] == f"  ... and {int(found.group(1)) - 20} more"


def test_the_watch_banner_and_state_carry_the_capped_list(tmp_path, served):
    site, state, port = served
    with pytest.raises(SentenceSetError) as info:
        from attention_gallery.build.sentences import load_sentences

        load_sentences(_bomb(tmp_path / "bomb.yaml"))
    more = f"... and {len(info.value.errors) - 20} more"
    state.failed(str(info.value))
    status, page = _get(port, "/")
    assert status == 200 and len(page) < 20_000 and more.encode() in page
    status, body = _get(port, serve.STATE_PATH)
    assert len(body) < 10_000 and json.loads(body)["error"].count("\n") == 21
