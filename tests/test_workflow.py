"""The GitHub Actions workflows: valid against the published workflow schema
(check-jsonschema's vendored copy, no network) and doing what the gallery needs."""

from __future__ import annotations

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


def test_gallery_workflow_semantics():
    wf = load(GALLERY)
    on = wf["on"]
    assert on["push"]["branches"] == ["main"]
    for event in ("push", "pull_request"):
        for path in ("sentences/**", "notebooks/**", "attention_gallery/**", "mkdocs.yml",
                     "requirements.txt", ".github/workflows/**"):
            assert path in on[event]["paths"], (event, path)
    assert "workflow_dispatch" in on
    assert wf["permissions"] == {"contents": "read"}

    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    runs = "\n".join(s.get("run", "") for s in steps(build))
    uses = {s["uses"].split("@")[0]: s for s in steps(build) if "uses" in s}
    assert "make gallery" in runs and "make test" in runs
    assert runs.index("make gallery") < runs.index("make test")
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert uses["actions/setup-python"]["with"]["cache"] == "pip"
    cache = uses["actions/cache"]["with"]
    # the executed notebooks, with mkdocs-jupyter's render cache inside (web/plugin.py)
    assert cache["path"].split() == [str(config.CACHE_DIR.relative_to(config.REPO_ROOT))]
    assert "hashFiles(" in cache["key"] and cache["restore-keys"].strip()
    assert uses["actions/upload-pages-artifact"]["with"]["path"].rstrip("/") == "site"
    assert "pull_request" in uses["actions/upload-pages-artifact"].get("if", "")

    # Deploy: only after the build, only on a push to main, with the Pages permissions.
    assert deploy["needs"] == "build" or deploy["needs"] == ["build"]
    cond = deploy["if"].replace(" ", "")
    assert "github.event_name=='push'" in cond and "github.ref=='refs/heads/main'" in cond
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps(deploy))
    assert deploy["concurrency"]["group"] == "pages"
    # Nothing in the build job may deploy.
    assert not any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps(build))
