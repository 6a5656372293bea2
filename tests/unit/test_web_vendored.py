"""Vendored browser code is exactly what its npm package held (version and hash recorded
beside it): htmx for the pages, axe-core for the browser tests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = [ROOT / "gateway" / "web" / "static" / "vendor", ROOT / "tests" / "e2e" / "vendor"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name + ":" + f.parent.name)
def test_every_vendored_file_has_its_recorded_hash(folder: Path) -> None:
    recorded = json.loads((folder / "VENDORED.json").read_text())
    scripts = {p.name for p in folder.glob("*.js")}
    assert scripts == set(recorded)
    for name, facts in recorded.items():
        assert facts["version"] in name
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == facts["sha256"], name


def test_the_pages_load_the_vendored_htmx() -> None:
    layout = (ROOT / "gateway" / "web" / "templates" / "layout.html").read_text()
    [name] = json.loads((FOLDERS[0] / "VENDORED.json").read_text())
    assert f"vendor/{name}" in layout
