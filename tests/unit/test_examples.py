"""The examples are for integrators outside the platform: each stands alone, importing nothing
of the project (they may only use what they say in their README: kombu, cryptography...)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECT_PACKAGES = {"services", "gateway", "ecoach_dev", "ecoach_ops", "ecoach_cli", "tests"}
SCRIPTS = sorted(EXAMPLES.rglob("*.py"))


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import"
            found.add((node.module or "").split(".")[0])
    return found


def test_there_are_examples() -> None:
    assert SCRIPTS and (EXAMPLES / "README.md").is_file()


@pytest.mark.parametrize("path", SCRIPTS, ids=[str(p.relative_to(EXAMPLES)) for p in SCRIPTS])
def test_an_example_imports_nothing_of_the_project(path: Path) -> None:
    assert _imported(path) & PROJECT_PACKAGES == set()
    assert (path.parent / "README.md").is_file(), f"{path.parent} needs a README"
