"""The package's import arrows point one way: ui -> annotation -> tracking -> io."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "napari_siamtrack"
#: What each subpackage may import from the rest of the package (besides itself).
ALLOWED = {
    "io": set(),
    "tracking": {"io"},
    "annotation": {"io", "tracking", "metrics"},
    "ui": {"io", "tracking", "annotation"},
    "training": {"io", "tracking"},
    "bench": {"io", "tracking", "annotation", "metrics"},
    "batch": {"io", "tracking", "annotation"},
}


def _imports(path: Path) -> set[str]:
    """Top-level package parts that ``path`` imports (relative imports resolved)."""
    module = path.relative_to(PACKAGE).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(module[: len(module) - node.level])
                target = base + (node.module.split(".") if node.module else [a.name for a in node.names][:1])
            elif node.module and node.module.startswith("napari_siamtrack."):
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                found.add(target[0])
    return found


@pytest.mark.parametrize("subpackage", sorted(ALLOWED))
def test_imports_point_down(subpackage):
    wrong = {}
    for path in (PACKAGE / subpackage).rglob("*.py"):
        bad = _imports(path) - ALLOWED[subpackage] - {subpackage}
        if bad:
            wrong[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert not wrong


def test_core_imports_no_qt_and_no_napari():
    for sub in ("io", "tracking", "annotation", "training", "bench", "batch"):
        for path in (PACKAGE / sub).rglob("*.py"):
            tree = ast.parse(path.read_text())
            names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
            assert not {m for m in names if m.split(".")[0] in ("napari", "qtpy", "PyQt5", "PySide2", "magicgui")}, path
