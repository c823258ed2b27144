"""The axon's science modules import only the cells stage and the checks (not io, plots)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "v1lab" / "axon"
SCIENCE = ("geometry", "cable", "_kernel", "measure", "sweeps", "lesions", "sound")
ALLOWED = ("v1lab.cells", "v1lab._validate", "v1lab.axon")


@pytest.mark.parametrize("module", SCIENCE)
def test_science_module_imports_only_cells_and_validate(module):
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name.startswith("v1lab"):
                assert name.startswith(ALLOWED), f"{module} imports {name}"
                assert not name.startswith("v1lab.axon.lab"), f"{module} imports the lab"
                assert not name.startswith(("v1lab.axon.figures", "v1lab.axon.reference"))
