"""The package's layers, written down in pyproject.toml ([tool.importlinter]) and
checked: no upward import, no cycle between sibling modules (function-local
imports count: grimp sees them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, env=None) -> subprocess.CompletedProcess:
    exe = str(LINT) if LINT.exists() else shutil.which("lint-imports")
    return subprocess.run([exe, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_the_package_keeps_its_layers_and_has_no_cycle():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "2 kept, 0 broken" in out.stdout


def test_the_contract_catches_a_cycle_hidden_in_a_function(tmp_path):
    """The same contracts on a small package whose two modules import each other,
    one of them inside a function (as the gallery once hid its cycles)."""
    pkg = tmp_path / "toy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from .high import g\n    return g\n")
    (pkg / "high.py").write_text("from .low import f\n\ndef g():\n    return f\n")
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""
        [tool.importlinter]
        root_package = "toy"

        [[tool.importlinter.contracts]]
        name = "Layers"
        type = "layers"
        layers = ["toy.high", "toy.low"]

        [[tool.importlinter.contracts]]
        name = "No cycles"
        type = "acyclic_siblings"
        ancestors = ["toy"]
    """))
    import os

    out = _lint(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert out.returncode != 0 and "0 kept, 2 broken" in out.stdout, out.stdout[-3000:]
