"""The end-to-end modules that share a deployment per setting (tests/support/deployments.py:
`SHARED`) and the heavy units scheduled first (`HEAVY_SECONDS`) name what exists, and a module
that asks for a shared deployment is listed under one setting: otherwise it would run on another
worker than its setting's other modules, and start the deployment once more."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.deployments import HEAVY_SECONDS, SHARED, setting_of, unit_of

ROOT = Path(__file__).resolve().parents[2]
ASKS = re.compile(r"world_fixtures\.shared\b|\bshared_world\b")


def test_each_listed_module_exists_under_one_setting_and_asks_for_it() -> None:
    listed = [module for setting in SHARED.values() for module in setting.modules]
    assert len(listed) == len(set(listed)), "a module under two settings"
    for module in listed:
        assert ASKS.search((ROOT / module).read_text()), f"{module} does not use its setting"


def test_each_module_that_asks_for_a_shared_deployment_is_listed() -> None:
    for path in sorted((ROOT / "tests" / "e2e").rglob("test_*.py")):
        module = path.relative_to(ROOT).as_posix()
        if ASKS.search(path.read_text()):
            assert setting_of(module), f"{module}: list it in tests/support/deployments.SHARED"


def test_heavy_units_are_settings_or_modules() -> None:
    for unit in HEAVY_SECONDS:
        assert unit in SHARED or (ROOT / unit).is_file(), unit
    assert unit_of("tests/e2e/test_keys.py") == "witness"
    assert unit_of("tests/e2e/test_smoke.py") == "tests/e2e/test_smoke.py"
