"""Every service has the one layout (docs/adding-a-service.md), and no module grows past what a
person reads in one sitting: a file over 800 lines in services/ is split along its sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.kernel.registry import SERVICE_NAMES

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 800


def test_no_module_in_services_is_over_800_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "services").rglob("*.py")
        if "migrations" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these along their sections: {long}"


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_service_has_the_one_layout(name: str) -> None:
    home = ROOT / "services" / name
    for package in ("domain", "handlers", "storage"):
        assert (home / package / "__init__.py").is_file(), f"services/{name}/{package}/ (a package)"
    assert (home / "storage" / "tables.py").is_file(), f"services/{name}/storage/tables.py"
    assert (home / "storage" / "unit.py").is_file(), f"services/{name}/storage/unit.py"
    assert (home / "service.py").is_file()
    assert (home / "migrations" / "env.py").is_file()
    loose = sorted(
        p.name
        for p in home.glob("*.py")
        if p.name not in {"__init__.py", "service.py", "mails.py", "seed.py"}
    )
    assert not loose, f"services/{name}: modules beside the layout's packages: {loose}"
