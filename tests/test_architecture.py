"""The package's layout rules (README "Architecture"), checked on the source itself.

import-linter (``lint-imports``, run in CI) checks that stages import only down the
flow, that private modules stay inside their package and that no package's modules
import each other in a circle. What it cannot see is a private *name* imported across
modules (``from v1lab.x import _helper``): that is checked here, with the AST of every
module, as are the module sizes the layout allows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "v1lab"
MODULES = sorted(PACKAGE.rglob("*.py"))

#: Lines a module may have before its docstring must say why it is one job.
MAX_LINES = 800


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split("."))
    root = PACKAGE.parent
    return (root / rel).with_suffix(".py").exists() or (root / rel / "__init__.py").exists()


def _private_imports(path: Path) -> list[str]:
    """``from v1lab.x import _name`` where ``_name`` is a private name of another module.

    Importing a private *module* of one's own package (``from v1lab.cells import
    _kernels``) is allowed: import-linter's private-modules contract governs those.
    """
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    return _private_imports_in(path.read_text(encoding="utf-8"), here, package)


def _private_imports_in(source: str, here: str, package: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if not node.module.startswith("v1lab") or node.level:
            continue
        for alias in node.names:
            name = alias.name
            if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
                continue
            target = f"{node.module}.{name}"
            if _is_module(target) and node.module == package:
                continue  # a private module of the importer's own package
            found.append(f"{here}: from {node.module} import {name}")
    return found


def test_the_source_tree_was_found():
    assert len(MODULES) > 40


def test_no_module_imports_another_modules_private_names():
    offenders = [line for path in MODULES for line in _private_imports(path)]
    assert offenders == []


def test_the_check_catches_a_private_import():
    # The rule above could pass by finding nothing; show what it finds and allows.
    here, package = "v1lab.plots.tuning", "v1lab.plots"
    assert _private_imports_in("from v1lab.audio.mix import _private\n", here, package) == [
        "v1lab.plots.tuning: from v1lab.audio.mix import _private"
    ]
    lazy = "def f():\n    from v1lab.analysis import _helper\n"
    assert len(_private_imports_in(lazy, here, package)) == 1
    own_private_module = "from v1lab.cells import _kernels\n"
    assert _private_imports_in(own_private_module, "v1lab.cells.poisson", "v1lab.cells") == []
    assert _private_imports_in("from v1lab._version import __version__\n", here, package) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_long_module_says_why_it_is_one_job(path):
    lines = path.read_text(encoding="utf-8").count("\n")
    if lines <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    assert "one job" in docstring, f"{lines} lines and no note on why it is one job"


def test_test_files_have_unique_names():
    """pytest imports test files by basename (no __init__.py): two of one name collide."""
    names = [p.name for p in (PACKAGE.parent / "tests").rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []
