"""The modules shipped with ecoach, written for it in French and English: one folder per module
in the folder format (docs/content/module-format.md). Every coach of every tenant may
recommend them; a change to one is published with the next version.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from services.kernel.errors import NotFound

from ..adapters.module_folder import read_folder
from ..domain.modules import Module

FOLDER = Path(__file__).parent


@cache
def shipped() -> tuple[Module, ...]:
    """Every shipped module, by slug, each checked."""
    found = [read_folder(path) for path in FOLDER.iterdir() if (path / "module.md").is_file()]
    return tuple(sorted(found, key=lambda m: m.slug))


def shipped_module(slug: str) -> Module:
    found = next((m for m in shipped() if m.slug == slug), None)
    if found is None:
        raise NotFound("No shipped module has this slug.", reason="MODULE_NOT_FOUND")
    return found
