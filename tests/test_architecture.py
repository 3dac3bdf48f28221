"""The package's layers, written down in pyproject.toml ([tool.importlinter]) and
checked: no upward import, no cycle between sibling modules (function-local
imports count: grimp sees them), and a site side (web/, the live page's markup, the
manifest, the records' reader) that imports no torch and no model code."""

from __future__ import annotations

import ast
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
    assert "4 kept, 0 broken" in out.stdout


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


def test_the_site_contract_catches_torch_reached_through_the_kernel(tmp_path):
    """The real package and contracts, with one page module importing a kernel module
    that needs torch: the site's contract breaks (and only it), naming the chain."""
    import os

    shutil.copytree(ROOT / "attention_gallery", tmp_path / "attention_gallery",
                    ignore=shutil.ignore_patterns("__pycache__", "weights"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    pages = tmp_path / "attention_gallery" / "web" / "teaching.py"
    pages.write_text(pages.read_text() + "\nfrom ..explain import removal  # noqa\n")
    out = _lint(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert out.returncode != 0 and "3 kept, 1 broken" in out.stdout, out.stdout[-3000:]
    assert "attention_gallery.web is not allowed to import torch" in out.stdout
    assert "attention_gallery.web.teaching -> attention_gallery.explain.removal" in out.stdout


def test_the_manifest_carries_the_kernels_catalog_in_registry_order_and_refuses_an_old_one(tmp_path):
    """The site learns the methods from the manifest: what the build writes reads back
    equal, in the registry's order (pages list methods in it); a manifest of another
    format, or one missing a field, is one error naming the file and the command."""
    import json

    import pytest
    from conftest import site_manifest
    from mkdocs.exceptions import PluginError

    from attention_gallery.explain.methods import REGISTRY
    from attention_gallery.manifest import MANIFEST, read_manifest, write_manifest

    m = site_manifest([], [{"slug": "a", "title": "A", "group": "", "contrast": "b"},
                           {"slug": "b", "title": "B", "group": "", "contrast": ""}])
    write_manifest(tmp_path, m)
    back = read_manifest(tmp_path)
    assert back == m and list(back.catalog.methods) == list(REGISTRY) and back.contrasts == [("a", "b")]
    assert back.catalog.titles()["random"] and back.catalog.in_browser()
    data = json.loads((tmp_path / MANIFEST).read_text())
    for broken in ({**data, "format": 2}, {k: v for k, v in data.items() if k != "catalog"}):
        (tmp_path / MANIFEST).write_text(json.dumps(broken))
        with pytest.raises(PluginError, match=r"gallery\.json .*make gallery"):
            read_manifest(tmp_path)


def test_the_site_shows_tokens_as_bertviz_does_without_importing_it():
    from bertviz.util import format_special_chars

    from attention_gallery.explain.views import display_tokens

    tokens = ["[CLS]", "\u0120the", "\u2581film", "good</w>", "##s", "\u0120\u2581</w>x", "[SEP]"]
    assert display_tokens(tokens) == format_special_chars(tokens)


def _local_imports(tree) -> list:
    """Every import statement inside a function or class body of ``tree``."""
    found = []

    def visit(node, inside):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)) and inside:
                found.append(child)
            visit(child, inside or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))
    visit(tree, False)
    return found


def test_a_function_local_import_says_why():
    """The contract sees imports inside functions too, but a reader does not: one is
    kept only for a dependency some runs never need (a hub, an adapter pair, captum
    before IG runs, scipy before an interval is asked for), and says so in a comment
    on its line or above its block of imports."""
    package = Path(__file__).resolve().parents[1] / "attention_gallery"
    unexplained, kept = [], 0
    for path in sorted(package.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in _local_imports(ast.parse("\n".join(lines))):
            above = node.lineno - 2  # the line above, past the imports of the same block
            while above > 0 and lines[above].strip().startswith(("import ", "from ")):
                above -= 1
            said = "#" in lines[node.lineno - 1] or lines[above].strip().startswith("#")
            kept += 1
            if not said:
                unexplained.append(f"{path.relative_to(package)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    assert not unexplained, unexplained
    assert kept <= 13, f"{kept} function-local imports (13 before): each one hides a dependency from a reader"

    # the check can fail: an import inside a function without a word of why
    tree = ast.parse("def f():\n    import os\n    return os\n")
    assert [n.lineno for n in _local_imports(tree)] == [2]
