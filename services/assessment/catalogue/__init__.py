"""The built-in catalogue: instruments written for ecoach, in French and English, one YAML
document per instrument in this folder (the format of services/contracts/assessment.py).
Every coach of every tenant reads them; a change to one is published with the next version.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from services.kernel.errors import NotFound

from ..adapters.documents import read_instrument
from ..domain.instruments import Instrument

FOLDER = Path(__file__).parent


@cache
def catalogue() -> tuple[Instrument, ...]:
    """Every catalogue instrument, by slug, each checked."""
    found = [read_instrument(path.read_text(encoding="utf-8")) for path in FOLDER.glob("*.yaml")]
    return tuple(sorted(found, key=lambda i: i.slug))


def from_catalogue(slug: str) -> Instrument:
    found = next((i for i in catalogue() if i.slug == slug), None)
    if found is None:
        raise NotFound("No catalogue instrument has this slug.", reason="INSTRUMENT_NOT_FOUND")
    return found
