"""The GitHub Actions workflows: valid against the published workflow schema
(check-jsonschema's vendored copy, no network) and doing what the gallery needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from attention_gallery import config

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
GALLERY = REPO / ".github" / "workflows" / "gallery.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def check(path: Path) -> subprocess.CompletedProcess:
    if not CHECK_JSONSCHEMA.exists():
        pytest.fail(f"{CHECK_JSONSCHEMA} is missing: run `make setup` (requirements.txt pins check-jsonschema)")
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # PyYAML (YAML 1.1) reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_there_are_workflows():
    assert GALLERY in WORKFLOWS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_schema(path):
    result = check(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    """Negative control: the schema check can fail (a job without runs-on)."""
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: push\njobs:\n  build:\n    steps:\n      - run: echo hi\n")
    result = check(broken)
    assert result.returncode != 0
    assert "runs-on" in result.stdout + result.stderr


def uses_of(job: dict) -> dict:
    return {s["uses"].split("@")[0]: s for s in steps(job) if "uses" in s}


def runs_of(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def test_gallery_workflow_triggers_and_permissions():
    wf = load(GALLERY)
    on = wf["on"]
    assert on["push"]["branches"] == ["main"]
    for event in ("push", "pull_request"):
        for path in ("sentences/**", "notebooks/**", "attention_gallery/**", "mkdocs.yml",
                     "requirements.txt", ".github/workflows/**"):
            assert path in on[event]["paths"], (event, path)
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["shards"]["type"] == "number" and inputs["shards"]["default"] == 4
    assert inputs["dev_set"]["type"] == "boolean"
    assert wf["permissions"] == {"contents": "read"}
    assert "inputs.shards || 4" in wf["env"]["SHARDS"]


def test_gallery_workflow_plan_makes_the_matrix_of_n_shards(tmp_path):
    """The plan job's script, run as written, gives 1..N; the shard job's matrix reads it."""
    wf = load(GALLERY)
    script = runs_of(wf["jobs"]["plan"])
    for n, want in (("4", [1, 2, 3, 4]), ("1", [1])):
        out = tmp_path / f"out-{n}"
        got = subprocess.run(["bash", "-c", script], env={"SHARDS": n, "GITHUB_OUTPUT": str(out),
                             "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
        assert got.returncode == 0, got.stderr
        assert out.read_text().strip() == f"shards={json.dumps(want)}"
    bad = subprocess.run(["bash", "-c", script], env={"SHARDS": "0", "GITHUB_OUTPUT": str(tmp_path / "x"),
                         "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert bad.returncode != 0
    shard = wf["jobs"]["shard"]
    assert shard["needs"] == "plan"
    assert shard["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert shard["strategy"]["fail-fast"] is False
    assert wf["jobs"]["plan"]["outputs"]["shards"] == "${{ steps.matrix.outputs.shards }}"


def test_gallery_workflow_shards_execute_and_upload_with_unique_names():
    shard = load(GALLERY)["jobs"]["shard"]
    runs, uses = runs_of(shard), uses_of(shard)
    assert "build_gallery.py --shard ${{ matrix.shard }}/$SHARDS" in runs
    assert "gallery_dev.py --shard ${{ matrix.shard }}/$SHARDS" in runs
    assert "make test" not in runs and "--cached-only" not in runs
    restore = uses["actions/cache/restore"]["with"]
    assert restore["path"] == str(config.CACHE_DIR.relative_to(config.REPO_ROOT))
    assert restore["restore-keys"].strip() == "gallery-${{ runner.os }}-"
    upload = uses["actions/upload-artifact"]["with"]
    assert upload["name"] == "cache-shard-${{ matrix.shard }}"
    assert upload["path"].startswith(restore["path"] + "/")


def test_gallery_workflow_merges_then_builds_from_the_cache_only():
    jobs = load(GALLERY)["jobs"]
    site = jobs["site"]
    assert site["needs"] == "shard"
    names = [s.get("uses", "").split("@")[0] or s.get("run", "") for s in steps(site)]
    download = uses_of(site)["actions/download-artifact"]["with"]
    assert download["pattern"] == "cache-shard-*" and download["merge-multiple"] is True
    assert download["path"] == uses_of(jobs["shard"])["actions/upload-artifact"]["with"]["path"]
    runs = runs_of(site)
    assert "build_gallery.py --cached-only" in runs and "gallery_dev.py --cached-only" in runs
    assert "--shard" not in runs and "make test" not in runs
    order = [i for i, n in enumerate(names) if n == "actions/download-artifact"] + \
            [i for i, n in enumerate(names) if "--cached-only" in n]
    assert order == sorted(order) and len(order) == 3
    assert "cp -r site-dev site/dev" in runs  # the dev set under its own path
    save = uses_of(site)["actions/cache/save"]["with"]
    assert save["key"] == "gallery-${{ runner.os }}-${{ github.run_id }}"
    pages = uses_of(site)["actions/upload-pages-artifact"]
    assert pages["with"]["path"].rstrip("/") == "site" and "pull_request" in pages.get("if", "")
    # SST-2 through datasets where ../shared is missing, cached between runs
    assert uses_of(site)["actions/cache"]["with"]["path"] == "../shared/data/sst2"
    assert "scripts/fetch_sst2.py --out ../shared/data/sst2" in runs


def test_gallery_workflow_tests_in_a_job_of_their_own_and_deploys_after_both():
    jobs = load(GALLERY)["jobs"]
    assert "make test" in runs_of(jobs["test"])
    assert sum("make test" in runs_of(job) for job in jobs.values()) == 1
    assert uses_of(jobs["test"])["actions/setup-python"]["with"]["python-version"] == "3.11"
    deploy = jobs["deploy"]
    assert sorted(deploy["needs"]) == ["site", "test"]
    cond = deploy["if"].replace(" ", "")
    assert "github.event_name=='push'" in cond and "github.ref=='refs/heads/main'" in cond
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps(deploy))
    assert deploy["concurrency"]["group"] == "pages"
    for name, job in jobs.items():  # only deploy deploys
        if name != "deploy":
            assert not any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps(job))
