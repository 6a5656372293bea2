"""The web pages' message catalogues: every msgid the templates and modules use is in the
English and the French catalogue, translated in French, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from gateway.web.i18n import LANGUAGES, po_path

WEB = Path(__file__).resolve().parents[2] / "gateway" / "web"
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_msgids() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(WEB), METHODS, OPTIONS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_pages_use_messages() -> None:
    assert {"Skip to the content", "My space", "This page does not exist."} <= used_msgids()


def test_every_catalogue_has_every_msgid_used() -> None:
    used = used_msgids()
    for language in LANGUAGES:
        with po_path(language).open("rb") as po:
            catalogue = read_po(po, locale=language)
        missing = sorted(m for m in used if m not in catalogue)
        assert missing == [], f"{language} catalogue lacks {missing} (README: Web app, i18n)"
        if language != "en":
            for msgid in used:
                text = catalogue[msgid].string
                assert text and not catalogue[msgid].fuzzy, (language, msgid)
                assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid))
