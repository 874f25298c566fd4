"""The package boundary and the layers of CONTRIBUTING.md's architecture table hold.

The table is the one source: this test reads it, so a module moved to another layer is moved in
the documentation, and every import of a `labutils` module goes to its own layer or one above.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "labutils"


def layers() -> dict[str, int]:
    """Module name -> layer number, from the table in CONTRIBUTING.md."""
    table = {}
    for line in (ROOT / "CONTRIBUTING.md").read_text().splitlines():
        row = re.match(r"\| (\d+)\. [^|]+\| ([^|]+)\|", line)
        if row:
            for name in re.findall(r"`(\w+)`", row.group(2)):
                table[name] = int(row.group(1))
    return table


def modules() -> dict[str, list[Path]]:
    """Top-level module name -> its source files (a package has several)."""
    found: dict[str, list[Path]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts != ("__init__",):
            found.setdefault(parts[0], []).append(path)
    return found


def imported_modules(path: Path) -> set[str]:
    """The top-level labutils modules that `path` imports (relative or absolute)."""
    depth = len(path.relative_to(PACKAGE).parts)  # 1 in labutils/, 2 in a subpackage
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == depth and node.module:  # from .models / from ..models
                names.add(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").startswith("labutils."):
                names.add(node.module.split(".")[1])
    return names


def test_every_module_has_a_layer():
    assert sorted(set(modules()) - set(layers())) == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_imports_go_to_the_same_layer_or_one_above(name):
    table = layers()
    for path in modules()[name]:
        for other in imported_modules(path) - {name}:
            assert table[other] <= table[name], f"{path.name} (layer {table[name]}) imports {other}"


@pytest.mark.parametrize("name", sorted(modules()))
def test_the_library_reads_no_environment_variable(name):
    for path in modules()[name]:
        assert "os.environ" not in path.read_text(), path.name


def third_party_imports(path: Path) -> set[str]:
    """The top-level names of the absolute imports in `path`."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("name", sorted(modules()))
def test_the_package_holds_no_build_or_test_tooling(name):
    tooling = {"papermill", "nbformat", "nbclient", "yaml", "sphinx", "pytest"}
    for path in modules()[name]:
        assert third_party_imports(path).isdisjoint(tooling), path.name
