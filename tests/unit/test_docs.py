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


def test_every_page_size_is_documented_with_the_bounds_the_contract_applies() -> None:
    from services.contracts.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest

    [ceiling] = [m.le for m in PageRequest.model_fields["page_size"].metadata if hasattr(m, "le")]
    said = (
        f"{DEFAULT_PAGE_SIZE} when 0 (unset); at most {MAX_PAGE_SIZE} (a larger value gives "
        f"{MAX_PAGE_SIZE}); negative or above {ceiling:,}: INVALID_ARGUMENT"
    )
    undocumented = []
    for proto in sorted((ROOT / "protos" / "ecoach" / "v1").glob("*.proto")):
        lines = proto.read_text().splitlines()
        for n, line in enumerate(lines):
            if line.strip().startswith("int32 page_size"):
                comment = " ".join(x.strip().removeprefix("//").strip() for x in lines[n - 2 : n])
                if said not in comment:
                    undocumented.append(f"{proto.name}:{n + 1}")
    assert undocumented == []
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert (
        f"0 or unset gives {DEFAULT_PAGE_SIZE} per page, at most {MAX_PAGE_SIZE} (a larger value "
        f"gives {MAX_PAGE_SIZE}), and a negative one or one above {ceiling:,} is `INVALID_ARGUMENT`"
    ) in readme
