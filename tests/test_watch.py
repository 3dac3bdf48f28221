"""Watch mode (``make watch``): the served site follows the sentence file, a broken
file shows a banner over the last good pages, the incremental site is the full
build's, the build's refusals hold, and Ctrl-C leaves no kernel behind. No browser:
the served HTML is read over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

from attention_gallery import config
from attention_gallery.build import incremental, outdir, runs, serve
from attention_gallery.build.watch import Published, Watcher

REPO = config.REPO_ROOT
SERVED_WITHIN_S = 60.0  # the target is 3 s (scripts/bench.py measures it); generous for a shared machine


def write_set(path: Path, rows) -> Path:
    path.write_text(yaml.safe_dump({"sentences": [
        {"slug": slug, "text": text, "label": label} for slug, text, label in rows]}))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


def wait_for(check, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"not within {timeout:.0f} s: {what}")


# --- the pieces, without kernels ----------------------------------------------------

def test_merged_search_index_replaces_the_rendered_pages_in_the_live_order():
    cfg = {"lang": ["en"]}
    live = {"config": cfg, "docs": [
        {"location": "", "title": "Home", "text": "h"}, {"location": "#intro", "title": "Intro", "text": "i"},
        {"location": "gallery/a/", "title": "A", "text": "old a"},
        {"location": "gallery/a/#views", "title": "Views", "text": "old"},
        {"location": "gallery/b/", "title": "B", "text": "b"}]}
    rendered = {"config": cfg, "docs": [{"location": "gallery/a/", "title": "A", "text": "new a"}]}
    merged = json.loads(incremental.merge_search_index(json.dumps(live), json.dumps(rendered)))
    assert [d["text"] for d in merged["docs"]] == ["h", "i", "new a", "b"]
    stranger = {"config": cfg, "docs": [{"location": "gallery/c/", "title": "C", "text": "c"}]}
    assert incremental.merge_search_index(json.dumps(live), json.dumps(stranger)) is None


def test_only_changed_sentences_are_rendered_alone():
    entries = (("a", "A", "", ""), ("b", "B", "negation", "a"))
    before = Published(entries, "t1", {"a": {"text": "x"}, "b": {"text": "y"}})
    assert before.changed(entries, "t1", {"a": {"text": "x"}, "b": {"text": "z"}}) == ["b"]
    assert before.changed(entries, "t1", {"a": {"text": "x"}, "b": {"text": "y"}}) == []
    assert before.changed(entries[::-1], "t1", {"a": {"text": "x"}, "b": {"text": "y"}}) is None  # the nav changed
    assert before.changed(entries, "t2", {"a": {"text": "x"}, "b": {"text": "y"}}) is None  # the template
    # another group or contrast pair changes the overview's sections and the links
    # between sentence pages, not one page: everything is rendered again
    regrouped = (("a", "A", "", ""), ("b", "B", "double negation", "a"))
    assert before.changed(regrouped, "t1", {"a": {"text": "x"}, "b": {"text": "y"}}) is None
    uncontrasted = (("a", "A", "", ""), ("b", "B", "negation", ""))
    assert before.changed(uncontrasted, "t1", {"a": {"text": "x"}, "b": {"text": "y"}}) is None
    # a page's title is in every page's navigation: a new title renders everything
    retitled = (("a", "A", "", ""), ("b", "B, now longer", "negation", "a"))
    assert before.changed(retitled, "t1", {"a": {"text": "x"}, "b": {"text": "z"}}) is None


def test_served_pages_carry_the_banner_only_while_the_source_is_broken():
    page = "<html><body class='md'><p>page</p></body></html>"
    good = serve.decorate(page, {"version": 2, "error": None, "last": {}})
    assert serve.BANNER_ID not in good and serve.STATE_PATH in good and "<p>page</p>" in good
    bad = serve.decorate(page, {"version": 2, "error": "s.yaml: <oops>", "last": {}})
    assert bad.index(serve.BANNER_ID) < bad.index("<p>page</p>")
    assert "older than its source" in bad and "&lt;oops&gt;" in bad and "<oops>" not in bad


def test_watcher_sees_a_save(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("a")
    watcher = Watcher([path])
    seen = threading.Event()
    threading.Thread(target=lambda: (watcher.wait(), seen.set()), daemon=True).start()
    time.sleep(0.3)
    assert not seen.is_set()
    path.write_text("ab")
    assert seen.wait(5)


def _watch_cmd(sentences: Path, out: Path, cache: Path, port: int, pair: str = "tiny") -> list[str]:
    return [sys.executable, "scripts/build_gallery.py", "--watch", "--port", str(port), "--sentences", str(sentences),
            "--pair", pair, "--out", str(out), "--cache", str(cache)]


def test_watch_refuses_what_a_build_refuses_in_one_line(tmp_path):
    sentences = write_set(tmp_path / "s.yaml", [("one-good", "A good film", "positive")])
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    out = subprocess.run(_watch_cmd(sentences, foreign, tmp_path / "cache", free_port(), pair="minilm-sst2"),
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "thesis.tex" in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert (foreign / "thesis.tex").read_text() == "precious"


def test_watch_refuses_an_output_folder_a_build_is_writing(tmp_path):
    sentences = write_set(tmp_path / "s.yaml", [("one-good", "A good film", "positive")])
    with runs.out_lock((tmp_path / "site").resolve()):
        out = subprocess.run(_watch_cmd(sentences, tmp_path / "site", tmp_path / "cache", free_port(),
                                        pair="minilm-sst2"), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "another build" in out.stderr and "Traceback" not in out.stderr


def test_watch_refuses_a_port_in_use(tiny_registry, tmp_path):
    sentences = write_set(tmp_path / "s.yaml", [("one-good", "A good film", "positive")])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(_watch_cmd(sentences, tmp_path / "site", tmp_path / "cache", port), cwd=REPO,
                             capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert out.returncode == 2 and f"port {port}" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "site").exists()


# --- a watch session, with kernels ----------------------------------------------------

def _kernel_pids(pid: int) -> list[int]:
    found = []
    for folder in runs.root().glob(f"run-{pid}-*"):
        try:
            found += [int(line.split()[0]) for line in (folder / "kernels").read_text().splitlines()]
        except OSError:
            pass
    return found


def _read(log) -> str:
    log.flush()
    log.seek(0)
    return log.read()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.mark.slow
def test_watch_follows_the_file_shows_a_banner_and_stops_cleanly(tiny_registry, tmp_path):
    from attention_gallery.build.build import build

    # long sentences: an edit past the title's 40 columns leaves every page's navigation
    # as it was, so the changed page alone is rendered (an edit of a title renders all)
    good_text, bad_text = "A good film, and one that I would gladly see", "A bad film, and one that I would never want to see"
    rows = [("one-good", good_text, "positive"), ("two-bad", bad_text, "negative")]
    sentences = write_set(tmp_path / "s.yaml", rows)
    site, cache, port = tmp_path / "site", tmp_path / "cache", free_port()
    base = f"http://127.0.0.1:{port}/"
    log = open(tmp_path / "watch.log", "w+")
    proc = subprocess.Popen(_watch_cmd(sentences, site, cache, port), cwd=REPO, env=dict(os.environ),
                            stdout=log, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # Ctrl-C reaches it
    try:
        def state():
            status, body = get(base + serve.STATE_PATH.lstrip("/"))
            return json.loads(body) if status == 200 else None

        wait_for(lambda: (s := state()) and s["version"] >= 1, 300, "the first build")
        assert bad_text in get(base + "gallery/two-bad/")[1]
        kernels = _kernel_pids(proc.pid)
        assert kernels and all(_alive(k) for k in kernels)
        helpers = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        assert len(helpers) > len(kernels)  # the kernels and the worker making downloads

        # a second build into the same folder is refused while watch holds it
        other = subprocess.run([sys.executable, "scripts/build_gallery.py", "--sentences", str(sentences),
                                "--pair", "tiny", "--out", str(site), "--cache", str(cache), "--quiet"],
                               cwd=REPO, capture_output=True, text=True, timeout=120, env=dict(os.environ))
        assert other.returncode == 2 and "another build" in other.stderr

        # a changed sentence is served, rendered alone, and the site is the full build's
        write_set(sentences, [rows[0], ("two-bad", bad_text + ", truly dreadful", "negative")])
        wait_for(lambda: "truly dreadful" in get(base + "gallery/two-bad/")[1], SERVED_WITHIN_S,
                 "the changed sentence served")
        last = wait_for(lambda: (s := state()) and s["version"] >= 2 and s["last"], 10, "the state")  # set after the swap
        assert last["pages"] == "changed" and last["executed"] == ["two-bad"], _read(log)
        assert "truly dreadful" in get(base + "gallery/")[1]  # the overview too
        build(sentences, "tiny", tmp_path / "full", cache, quiet=True, progress=False)
        files = sorted(p.relative_to(site) for p in site.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(tmp_path / "full") for p in (tmp_path / "full").rglob("*") if p.is_file())
        for rel in files:
            assert (site / rel).read_bytes() == (tmp_path / "full" / rel).read_bytes(), rel

        # a broken file: a banner over the last good pages, one error in the terminal
        good = sentences.read_text()
        sentences.write_text(good.replace("slug: two-bad", "slug: Two Bad"))
        wait_for(lambda: serve.BANNER_ID in get(base + "gallery/two-bad/")[1], SERVED_WITHIN_S, "the banner")
        page = get(base + "gallery/two-bad/")[1]
        assert "older than its source" in page and "truly dreadful" in page and "Two Bad" in page
        assert serve.BANNER_ID in get(base)[1]  # every page says so
        assert outdir.has_marker(site) and "truly dreadful" in (site / "gallery/two-bad/index.html").read_text()

        # fixed: the banner goes
        sentences.write_text(good)
        wait_for(lambda: serve.BANNER_ID not in get(base + "gallery/two-bad/")[1], SERVED_WITHIN_S,
                 "the banner gone")

        # the build's refusals hold on every rebuild: a folder of someone else's where
        # the staging folder goes is left alone, and said so on the pages
        staging = tmp_path / ".site.staging"
        staging.mkdir()
        (staging / "notes.txt").write_text("mine")
        write_set(sentences, [rows[0], ("two-bad", bad_text + ", truly dreadful, refused", "negative")])
        wait_for(lambda: "notes.txt" in get(base + "gallery/two-bad/")[1], SERVED_WITHIN_S, "the refusal shown")
        assert (staging / "notes.txt").read_text() == "mine"
        assert "dreadful, refused" not in (site / "gallery/two-bad/index.html").read_text()
        (staging / "notes.txt").unlink()
        staging.rmdir()
        # (both sentences this time: the first is the one "How to read the views" draws)
        write_set(sentences, [("one-good", good_text + ", I mean it", "positive"),
                              ("two-bad", bad_text + ", truly dreadful, once more", "negative")])
        wait_for(lambda: "once more" in (page := get(base + "gallery/two-bad/")[1]) and serve.BANNER_ID not in page,
                 SERVED_WITHIN_S, "served again, without the banner")
        # after many rebuilds in one process, still the full build's site
        wait_for(lambda: (s := state()) and s["error"] is None and s["last"]["pages"] == "changed", 10, "the state")
        build(sentences, "tiny", tmp_path / "full2", cache, quiet=True, progress=False)
        for rel in files:
            assert (site / rel).read_bytes() == (tmp_path / "full2" / rel).read_bytes(), rel
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    output = _read(log)
    assert proc.returncode == 0, output
    assert "error: " in output and "Two Bad" in output and "Traceback" not in output
    assert "stopped" in output
    assert not any(_alive(k) for k in kernels)
    wait_for(lambda: not any(_alive(p) for p in helpers), 10, "the worker process gone")
    assert not list(runs.root().glob(f"run-{proc.pid}-*"))
    assert not list(tmp_path.glob(".site.*"))  # no staging or old folder left
    assert get(base)[0] == 0  # nothing serves any more
