"""Documentation that must not drift from the code."""

from __future__ import annotations

from pathlib import Path

from services.kernel.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented_in_the_readme_with_its_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [
        f"ECOACH_{name.upper()}"
        for name in Settings.model_fields
        if f"`ECOACH_{name.upper()}`" not in readme
    ]
    assert missing == []


def test_the_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("## Architecture")
    assert readme.index("make test") < readme.index("## Architecture")


def test_make_run_starts_every_service_and_the_procfile_knows_each() -> None:
    from ecoach_dev.cli import SERVICES
    from ecoach_dev.run import processes

    procfile = {
        line.split(":", 1)[0]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line and not line.startswith("#")
    }
    started = set(processes())
    assert set(SERVICES) <= started, "make run must start every service"
    assert started <= procfile, f"not in the Procfile: {started - procfile}"
