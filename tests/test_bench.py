"""``make bench``'s arithmetic: the cost of a sentence comes from the kernels' own
times, leaves out each kernel's first notebook, and noise in the totals cannot turn it
into nonsense."""

from __future__ import annotations

import importlib.util
import random

import pytest

from attention_gallery import config


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", config.REPO_ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timings(jobs: int, per: float, n: int, load: float, noise: float = 0.0, seed: int = 0,
            busy: float = 1.0) -> dict:
    """What ``build_gallery.py --timings`` writes for ``n`` notebooks on ``jobs``
    kernels: each kernel's first also loads the models (``load`` s); other programs
    stretch wall time by ``busy``, not CPU time."""
    rng = random.Random(seed)
    clock = [0.0] * jobs
    notebooks = {}
    for i in range(n):
        k = min(range(jobs), key=clock.__getitem__)
        first = clock[k] == 0.0
        cpu = per * (1 + rng.uniform(-noise, noise)) + (load if first else 0.0)
        clock[k] += cpu * busy
        notebooks[f"s-{i}"] = {"seconds": cpu * busy, "cpu": cpu, "first": first, "finished": clock[k]}
    return {"jobs": jobs, "notebooks": notebooks}


def test_cost_per_sentence_leaves_out_the_one_time_start(bench):
    got = bench.per_sentence(timings(jobs=2, per=1.2, n=12, load=9.0))
    assert got["cpu"] == pytest.approx(1.2) and got["wall"] == pytest.approx(1.2)
    assert len(got["cpus"]) == 10  # each kernel's first notebook left out
    assert got["fit"] == pytest.approx(0.6, rel=0.05)  # throughput: two kernels side by side


def test_a_busy_machine_stretches_wall_time_not_the_cpu_figure(bench):
    a = bench.per_sentence(timings(jobs=2, per=1.2, n=12, load=9.0, noise=0.3, seed=1))
    b = bench.per_sentence(timings(jobs=2, per=1.2, n=12, load=14.0, noise=0.3, seed=2, busy=2.5))
    assert bench.agreement(a["cpu"], b["cpu"]) <= 1.25
    assert bench.agreement(a["wall"], b["wall"]) > 2
    both = bench.pooled(a, b, "cpu")
    assert both["iqr"][0] <= both["median"] <= both["iqr"][1]
    assert both["range"][0] <= both["iqr"][0] and both["iqr"][1] <= both["range"][1]


def test_the_table_says_whether_the_runs_and_the_watch_targets_agree(bench):
    result = {"n": 12, "baseline_s_per_sentence": 8.6, "baseline_s_iqr": [8.4, 8.9], "cold_total_s": [20.0, 21.0],
              "baseline_cpu_s_per_sentence": 11.0, "kernels": 2, "cpu_s_per_sentence": 1.1,
              "cpu_s_iqr": [1.0, 1.2], "cpu_s_range": [0.9, 1.4], "cpu_s_per_sentence_runs": [1.1, 1.13],
              "runs_ratio": 1.03, "runs_agree_within_25pct": True, "speedup_cpu": 10.0,
              "kernel_s_per_notebook": 1.2, "kernel_s_iqr": [1.1, 1.3], "kernel_s_range": [1.0, 1.5],
              "cold_s_per_sentence": 0.6, "cold_s_per_sentence_runs": [0.6, 0.62], "runs_ratio_wall": 1.03,
              "throughput_fit_s_per_sentence": [0.61, None], "speedup": 14.3, "noop_rebuild_s": 4.0,
              "change1_rebuild_s": 11.0, "page_kb_median": 100.0, "page_kb_max": 180.0, "peak_rss_mb": 1500,
              "load_avg_1min": 1.0}
    rows = dict(bench.main_table(result))
    assert any("agree" in v and "1.03" in v for v in rows.values())
    assert not any("make watch" in k for k in rows)
    watched = dict(bench.main_table({**result, "watch_visible_s": [2.1, 2.4], "watch_kernel_s": [1.3, 2.5],
                                     "watch_target_s": [3.0, 3.5], "watch_met": True}))
    assert any("make watch" in k and "met" in v for k, v in watched.items())


def test_a_subset_of_the_set_drops_contrasts_to_sentences_left_out(bench, tmp_path):
    """The first N sentences of the gallery's set name contrast partners beyond N: the
    benchmark's file must still be one the build accepts."""
    from attention_gallery.build.sentences import load_sentences

    rows = [{"slug": "a-good-film", "text": "A good film.", "label": "positive", "contrast": "not-a-good-film"},
            {"slug": "fine", "text": "Fine.", "label": "positive", "contrast": "a-good-film"}]
    path = bench.write_set(rows, tmp_path / "set.yaml")
    loaded = load_sentences(path)
    assert [s.slug for s in loaded] == ["a-good-film", "fine"]
    assert "not-a-good-film" not in path.read_text() and "contrast: a-good-film" in path.read_text()
