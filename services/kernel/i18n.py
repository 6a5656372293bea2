"""What people read, in French and English, from Babel message catalogues (gettext `.po` files).

One mechanism for every text a person reads (ADR 0013): the web pages' words
(`gateway/web/translations/`) and the services' and the gateway's words (the API's localized
error messages, field problems: `services/kernel/translations/`) are both gettext catalogues,
loaded here. The source text is English and is its own msgid.

A catalogue is read at start-up straight from its `.po` file and compiled in memory: no build
step, and a changed catalogue shows at the next start. How to extract, update and translate:
README, "Translations"; `tests/unit/test_i18n.py` fails when a msgid in use lacks a French
translation.
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

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"
CATALOGUES = Path(__file__).parent / "translations"


def po_path(folder: Path, language: str) -> Path:
    return folder / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalogues(folder: Path) -> dict[str, Translations]:
    """Every language's catalogue under `folder`, compiled in memory from its `.po` file."""
    loaded = {}
    for language in LANGUAGES:
        with po_path(folder, language).open("rb") as po:
            catalogue = read_po(po, locale=language)
        mo = io.BytesIO()
        write_mo(mo, catalogue)
        mo.seek(0)
        loaded[language] = Translations(mo, domain=DOMAIN)
    return loaded


def language_of(locale: str | None) -> str:
    """The catalogue's language for a locale or Accept-Language value ('fr-FR', 'fr;q=0.9'…)."""
    asked = (locale or "").strip().lower()[:2]
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


_TRANSLATIONS: dict[str, Translations] = {}


def _translations(language: str) -> Translations:
    if not _TRANSLATIONS:
        _TRANSLATIONS.update(load_catalogues(CATALOGUES))
    return _TRANSLATIONS[language_of(language)]


def gettext(locale: str | None, message: str, **values: object) -> str:
    """`message` in the locale's language (English when it has none), `values` filled in."""
    text = _translations(language_of(locale)).gettext(message)
    return text % values if values else text


def ngettext(locale: str | None, singular: str, plural: str, n: int, **values: object) -> str:
    """The singular or plural form for `n`, in the locale's language; `n` is among the values."""
    text = _translations(language_of(locale)).ngettext(singular, plural, n)
    return text % {"n": n, **values}


def zone_of(time_zone: str) -> ZoneInfo:
    """A person's time zone; UTC when they have none or it is unknown."""
    try:
        return ZoneInfo(time_zone) if time_zone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# A date and time as people read them: "jeudi 10 décembre 2026, 14:00", in their language.
LONG_INSTANT = "EEEE d MMMM y, HH:mm"


def local_time(
    stamp: datetime, time_zone: str, locale: str | None, pattern: str = LONG_INSTANT
) -> str:
    """An instant in the person's time zone (UTC if unknown) and language (Babel's patterns)."""
    return format_datetime(
        stamp.astimezone(UTC), pattern, tzinfo=zone_of(time_zone), locale=language_of(locale)
    )


def N_(message: str) -> str:  # the gettext convention: "mark now, translate later"
    """Marks a msgid for extraction where it is defined; translated where it is shown."""
    return message
