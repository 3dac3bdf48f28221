"""Sharded execution (``--shard K/N``), merged caches (``--cached-only``) and the dev set."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from attention_gallery import config
from attention_gallery.build import devset, notebook
from attention_gallery.build.build import build, execute_shard
from attention_gallery.build.sentences import load_sentences
from attention_gallery.build.shards import (
    MissingEntries,
    Shard,
    ShardSpecError,
    assign,
    parse_shard,
)
from attention_gallery.labelled import read_tsv

REPO = config.REPO_ROOT


# --- the spec and the shares -------------------------------------------------

@pytest.mark.parametrize("spec, want", [("1/4", Shard(1, 4)), ("4/4", Shard(4, 4)), (" 2 / 3 ", Shard(2, 3)),
                                        ("1/1", Shard(1, 1))])
def test_a_shard_spec_is_k_of_n(spec, want):
    assert parse_shard(spec) == want


@pytest.mark.parametrize("spec", ["0/4", "5/4", "x", "1/0", "-1/4", "1/4/2", "", "1.5/4", "1/257"])
def test_a_bad_shard_spec_is_refused_in_one_line(spec):
    with pytest.raises(ShardSpecError) as exc:
        parse_shard(spec)
    assert "\n" not in str(exc.value) and "--shard" in str(exc.value) and "e.g." in str(exc.value)


@pytest.mark.parametrize("spec", ["0/4", "5/4", "x"])
def test_the_cli_refuses_a_bad_shard_with_exit_2_and_no_traceback(spec, tmp_path):
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "build_gallery.py"), "--shard", spec,
                          "--cache", str(tmp_path / "cache")], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --shard"), out.stderr
    assert not (tmp_path / "cache").exists()  # refused before anything is made


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16])
def test_shards_cover_every_sentence_exactly_once_and_are_balanced(n):
    rng = random.Random(n)
    for size in (0, 1, n - 1, n, 5 * n + 3, 100):
        costs = [rng.randint(3, 60) for _ in range(max(size, 0))]
        where = assign(costs, n)
        assert len(where) == len(costs) and all(0 <= w < n for w in where)
        assert where == assign(list(costs), n)  # deterministic
        loads = [sum(c for c, w in zip(costs, where) if w == k) for k in range(n)]
        if costs:
            assert max(loads) - min(loads) <= max(costs)  # longest first, to the lightest shard
        assert sum(loads) == sum(costs)


def test_shards_of_the_dev_set_by_token_count_are_within_a_sentence_of_each_other(default_pair):
    if not config.SST2_DEV.is_file():
        pytest.skip(f"{config.SST2_DEV} is missing")
    tokenizer = default_pair.tokenizer
    sentences = [text for _, text in read_tsv(config.SST2_DEV)]
    costs = [len(tokenizer(t)["input_ids"]) for t in sentences]
    where = assign(costs, 4)
    loads = [sum(c for c, w in zip(costs, where) if w == k) for k in range(4)]
    assert sorted(where.count(k) for k in range(4))[0] > 200  # 872 sentences, ~218 each
    assert max(loads) - min(loads) <= max(costs)


# --- the dev set ----------------------------------------------------------------

@pytest.mark.parametrize("sst, shown", [
    ("it 's a charming and often affecting journey . ", "It's a charming and often affecting journey."),
    ("unflinchingly bleak and desperate ", "Unflinchingly bleak and desperate"),
    ("i do n't think -lrb- or `` hope '' -rrb- so", "I don't think (or \u201chope\u201d) so"),
    ("it ca n't -- and wo n't -- work , i 'm sure", "It can't \u2014 and won't \u2014 work, I'm sure"),
    ("hit-and-miss , but `fun ' ...", "Hit-and-miss, but \u2018fun\u2019..."),
    ("costs $ 5 , 100 % worth it !", "Costs $5, 100% worth it!"),
])
def test_sst2_text_is_detokenised_for_display(sst, shown):
    assert devset.detokenise(sst) == shown


def test_the_dev_set_is_a_valid_sentence_set_fed_as_sst2_gives_it(tmp_path, default_pair):
    dev = tmp_path / "dev.tsv"
    dev.write_text("label\tcontent\n1\tit 's a charming and often affecting journey . \n"
                   "0\tthe acting , costumes , music , cinematography and sound are all astounding -lrb- not -rrb- .\n",
                   encoding="utf-8")
    path = devset.write_dev_set(tmp_path / "set.yaml", dev)
    got = load_sentences(path, tokenizer=default_pair.tokenizer)
    assert [s.slug for s in got] == ["dev-0001", "dev-0002"]
    assert got[0].text == "it 's a charming and often affecting journey ."  # what the model reads
    assert got[0].display == "It's a charming and often affecting journey."
    assert got[0].label == "positive" and got[1].label == "negative"
    assert "as SST-2 gives it" in got[0].note and got[0].text in got[0].note and got[0].display in got[0].note
    assert notebook.parameters(got[0], "x")["title"] == notebook.title_of(got[0].display)
    assert notebook.parameters(got[0], "x")["text"] == got[0].text
    before = path.stat().st_mtime_ns
    devset.write_dev_set(path, dev)
    assert path.stat().st_mtime_ns == before  # the same bytes are not written again


def test_a_missing_dev_file_is_one_line_naming_it(tmp_path):
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "gallery_dev.py"), "--dev",
                          str(tmp_path / "nowhere.tsv"), "--cache", str(tmp_path / "cache")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "nowhere.tsv" in out.stderr and "dev" in out.stderr


# --- sharded then merged = one machine ------------------------------------------

FOUR = [("one-good", "A good film", "positive"), ("two-bad", "A bad film, slow and long", "negative"),
        ("three-fine", "Fine, I guess", "positive"), ("four-dull", "Dull", "negative")]


def _set(path: Path) -> Path:
    path.write_text(yaml.safe_dump({"sentences": [{"slug": s, "text": t, "label": lab} for s, t, lab in FOUR]}))
    return path


def _files(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_sharded_then_merged_publishes_the_one_machine_site_byte_for_byte(tiny_registry, tmp_path):
    sentences = _set(tmp_path / "s.yaml")
    one = build(sentences, "tiny", tmp_path / "one", tmp_path / "cache-one", quiet=True, progress=False)
    assert len(one.executed) == 4

    shards = [execute_shard(sentences, "tiny", tmp_path / f"cache-{k}", Shard(k, 2), quiet=True, progress=False)
              for k in (1, 2)]
    mine = [set(r.executed) for r in shards]
    assert mine[0] | mine[1] == {s for s, *_ in FOUR} and not mine[0] & mine[1]
    assert not (tmp_path / "one.staging").exists() and not list(tmp_path.glob("site*"))  # no site made

    merged = tmp_path / "cache-merged"  # the merge job: copy the shards' folders into one
    for k in (1, 2):
        shutil.copytree(tmp_path / f"cache-{k}", merged, dirs_exist_ok=True)
    report = build(sentences, "tiny", tmp_path / "merged", merged, quiet=True, progress=False, cached_only=True)
    assert report.executed == [] and len(report.cached) == 4
    a, b = _files(tmp_path / "one"), _files(tmp_path / "merged")
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert differ == [], differ[:5]

    # two shard processes writing into one cache folder at once lose nothing
    shared = tmp_path / "cache-shared"
    procs = [subprocess.Popen([sys.executable, str(REPO / "scripts" / "build_gallery.py"), "--sentences",
                               str(sentences), "--pair", "tiny", "--cache", str(shared), "--shard", f"{k}/2",
                               "--quiet", "--jobs", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in (1, 2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(o.startswith(f"shard {k}/2: ") for k, (o, _) in zip((1, 2), outs))
    assert _files(shared / "tiny") == _files(merged / "tiny")
    assert not list(shared.rglob("*.tmp"))

    # a shard that died: the merge names its sentences and publishes nothing
    partial = tmp_path / "cache-partial"
    shutil.copytree(tmp_path / "cache-1", partial)
    (partial / "tiny" / ".half-written.ipynb.tmp").write_text("{")  # what a kill leaves: never an entry
    with pytest.raises(MissingEntries) as exc:
        build(sentences, "tiny", tmp_path / "merged", partial, quiet=True, progress=False, cached_only=True)
    assert sorted(exc.value.slugs) == sorted(mine[1]) and "\n" not in str(exc.value)
    assert _files(tmp_path / "merged") == b  # the site was not changed


def test_fetching_sst2_without_the_hub_or_datasets_is_one_line(tmp_path):
    """GitHub's runners fetch SST-2 through datasets (scripts/fetch_sst2.py); where that
    cannot work it says what to do in one line, exit 2, and writes nothing."""
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_sst2.py"), "--out", str(tmp_path / "sst2")],
                         capture_output=True, text=True, timeout=300, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error:") and "Traceback" not in out.stderr
    assert not (tmp_path / "sst2" / "dev.tsv").exists()
    (tmp_path / "sst2").mkdir(exist_ok=True)
    for name in ("train.tsv", "dev.tsv"):
        (tmp_path / "sst2" / name).write_text("label\tsentence\n1\tgood\n")
    again = subprocess.run([sys.executable, str(REPO / "scripts" / "fetch_sst2.py"), "--out", str(tmp_path / "sst2")],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "already" in again.stdout  # files there are left alone
