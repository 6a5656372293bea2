"""The pages' words, in French and English, from Babel message catalogues (gettext `.po` files
under `gateway/web/translations/`). The source text is English and is its own msgid.

The catalogues are read at start-up, straight from the `.po` files (compiled in memory), by the
kernel's one loader (services/kernel/i18n.py, ADR 0013). `tests/unit/test_web_i18n.py` fails
when a template or module uses a msgid a catalogue lacks. How to extract, update and translate:
README, "Translations".

The language of a request: `?lang=`, then the signed-in person's locale, then the browser's
Accept-Language; English otherwise.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import g, request

from services.kernel import i18n as shared
from services.kernel.i18n import LANGUAGES, zone_of

__all__ = ["LANGUAGES", "gettext", "local_time", "zone_of"]

CATALOGUES = Path(__file__).parent / "translations"


def po_path(language: str) -> Path:
    return shared.po_path(CATALOGUES, language)


TRANSLATIONS = shared.load_catalogues(CATALOGUES)


def choose_language(asked: str | None, person: str | None) -> str:
    if asked in LANGUAGES:
        return asked
    if person in LANGUAGES:
        return person
    best = request.accept_languages.best_match(LANGUAGES)
    return best if best in LANGUAGES else "en"


def language() -> str:
    return str(g.get("language") or "en")


def gettext(message: str, **values: object) -> str:
    text = TRANSLATIONS[language()].gettext(message)
    return text % values if values else text


_ = gettext


def local_time(stamp: datetime, time_zone: str) -> str:
    """An instant as the person reads it: their time zone (UTC if unknown), their language."""
    return shared.local_time(stamp, time_zone, language(), f"{shared.LONG_INSTANT} zzzz")
