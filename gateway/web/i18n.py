"""The pages' words, in French and English, from Babel message catalogues (gettext `.po` files
under `gateway/web/translations/`). The source text is English and is its own msgid.

The catalogues are read at start-up, straight from the `.po` files (compiled in memory): no
build step, and a changed catalogue shows at the next start. `tests/unit/test_web_i18n.py`
fails when a template or module uses a msgid a catalogue lacks. How to extract, update and
translate: README, "Web app".

The language of a request: `?lang=`, then the signed-in person's locale, then the browser's
Accept-Language; English otherwise.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import g, request

LANGUAGES = ("en", "fr")
CATALOGUES = Path(__file__).parent / "translations"
DOMAIN = "messages"


def po_path(language: str) -> Path:
    return CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations() -> dict[str, Translations]:
    loaded = {}
    for language in LANGUAGES:
        with po_path(language).open("rb") as po:
            catalogue = read_po(po, locale=language)
        mo = io.BytesIO()
        write_mo(mo, catalogue)
        mo.seek(0)
        loaded[language] = Translations(mo, domain=DOMAIN)
    return loaded


TRANSLATIONS = load_translations()


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
    return format_datetime(
        stamp.astimezone(UTC),
        "EEEE d MMMM y, HH:mm zzzz",
        tzinfo=zone_of(time_zone),
        locale=language(),
    )


def zone_of(time_zone: str) -> ZoneInfo:
    """A person's time zone; UTC when they have none or it is unknown."""
    try:
        return ZoneInfo(time_zone) if time_zone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
