"""Issue 10.2 (the edges this branch fixed): lower stages never import higher ones."""

import ast
from pathlib import Path

import pytest

import toolkit

PACKAGE = Path(toolkit.__file__).parent


def imported_modules(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("toolkit."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names if a.name.startswith("toolkit."))
    return names


@pytest.mark.parametrize(("module", "forbidden"), [
    ("model", {"errors", "normalize", "read", "validate", "count", "codes", "duplicates"}),
    ("codes", {"model", "normalize", "read", "validate", "count"}),
    ("normalize", {"read", "validate", "count", "duplicates"}),
    ("duplicates", {"read", "validate", "count"}),
    ("validate", {"read", "pipeline", "build", "render", "cli"}),
    ("count", {"read", "validate", "pipeline", "build", "render", "cli"}),
    ("stats_book", {"validate"}),
    ("jsonsafe", {"cli", "read", "validate", "count"}),
])
def test_no_back_edges(module, forbidden):
    assert not imported_modules(module) & forbidden


def test_severity_names_are_defined_once():
    owners = [p.name for p in PACKAGE.glob("*.py")
              if 'INFO: "提示"' in p.read_text(encoding="utf-8")]
    assert owners == ["model.py"]
