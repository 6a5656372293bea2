"""The services' and the gateway's message catalogue (services/kernel/i18n.py, ADR 0013): every
msgid the code uses is in the English and the French catalogue, translated in French with the
same placeholders; field problems reach the caller in their language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from pydantic import Field, ValidationError

from gateway.api.errors import described
from gateway.web import i18n as web_i18n
from services.contracts.base import Contract
from services.identity.mails import MAILS as identity_mails
from services.kernel import i18n
from services.kernel.errors import FieldViolation, Problem, from_wire, invalid
from services.kernel.i18n_extract import fstrings
from services.kernel.mail import Mail
from services.kernel.runtime.mailer import Templates
from services.kernel.validation import validation_error
from services.scheduling.mails import MAILS as scheduling_mails
from services.scheduling.mails import when

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("services", "gateway/api", "gateway/httpjson", "ecoach_cli")
METHODS = [(f"{folder}/**.py", "services.kernel.i18n_extract:extract") for folder in SCANNED]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_msgids() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), METHODS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_code_uses_messages() -> None:
    assert {
        "The email or password is incorrect.",  # services/kernel/messages.py
        "is required",  # invalid(...)
        "at most %(n)s characters",  # Problem(...)
        "must not contain a NUL character (U+%(code)s at position %(position)s)",  # N_(...)
        "has more than %(max_length)s characters",  # pydantic's errors, said again
    } <= used_msgids()


def test_every_catalogue_has_every_msgid_used() -> None:
    used = used_msgids()
    for language in i18n.LANGUAGES:
        with i18n.po_path(i18n.CATALOGUES, language).open("rb") as po:
            catalogue = read_po(po, locale=language)
        missing = sorted(m for m in used if m not in catalogue)
        assert missing == [], f"{language} catalogue lacks {missing} (README: Translations)"
        if language != "en":
            for msgid in used:
                text = catalogue[msgid].string
                assert text and not catalogue[msgid].fuzzy, (language, msgid)
                assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), msgid


def test_no_field_problem_is_an_f_string() -> None:
    """An f-string cannot be a msgid: its text changes with its values (write a Problem)."""
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in fstrings(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_gettext_by_locale_with_english_fallback() -> None:
    assert i18n.gettext("fr-FR", "is required") == "est obligatoire"
    assert i18n.gettext("fr", "at most %(n)s characters", n=5) == "au plus 5 caractères"
    assert i18n.gettext("de", "is required") == "is required"
    assert i18n.gettext(None, "is required") == "is required"
    assert i18n.gettext("fr", "a text no catalogue has") == "a text no catalogue has"
    assert i18n.ngettext("en", "%(n)s session", "%(n)s sessions", 2) == "2 sessions"
    assert i18n.language_of("FR;q=0.8") == "fr" and i18n.language_of("") == "en"


def test_the_web_pages_use_the_shared_loader() -> None:
    assert set(web_i18n.TRANSLATIONS) == set(i18n.LANGUAGES)
    assert web_i18n.po_path("fr") == i18n.po_path(web_i18n.CATALOGUES, "fr")
    assert web_i18n.TRANSLATIONS["fr"].gettext("My space") != "My space"


def test_a_problem_is_its_english_text_and_keeps_its_template() -> None:
    problem = Problem("at most %(n)s characters", n=200)
    assert problem == "at most 200 characters"
    error = invalid(title=problem, body="is required")
    by_field = {f.field: f for f in error.fields}
    assert by_field["title"] == FieldViolation(
        "title", "at most 200 characters", "at most %(n)s characters", (("n", "200"),)
    )
    assert by_field["body"].msgid == "is required"
    # The template and values cross the RPC boundary.
    assert from_wire(error.to_wire()).fields == error.fields
    assert described(by_field["title"], "fr") == "au plus 200 caractères"
    assert described(by_field["title"], "en-GB") == "at most 200 characters"
    assert described(by_field["body"], "fr") == "est obligatoire"


def test_an_old_wire_field_without_template_is_still_read() -> None:
    error = from_wire(
        {
            "code": "INVALID_ARGUMENT",
            "reason": "INVALID_ARGUMENT",
            "message": "Some fields are invalid: email",
            "fields": [{"field": "email", "description": "must be an email address"}],
            "metadata": {},
        }
    )
    assert described(error.fields[0], "fr") == "doit être une adresse e-mail"


def test_a_translation_whose_placeholders_do_not_match_falls_back_to_english() -> None:
    odd = FieldViolation("x", "at most 3 characters", "at most %(n)s characters", (("m", "3"),))
    assert described(odd, "fr") == "at most 3 characters"


class _Request(Contract):
    name: str = Field(max_length=10)
    count: int = Field(ge=1)


@pytest.mark.parametrize(
    ("data", "field", "english", "french"),
    [
        (
            {"name": "a\x00b", "count": 1},
            "name",
            "must not contain a NUL character (U+0000 at position 1)",
            "ne doit pas contenir de caractère NUL (U+0000 à la position 1)",
        ),
        (
            {"name": "x" * 11, "count": 1},
            "name",
            "has more than 10 characters",
            "a plus de 10 caractères",
        ),
        ({"name": "x", "count": 0}, "count", "must be 1 or more", "doit valoir 1 ou plus"),
        ({"name": "x"}, "count", "is required", "est obligatoire"),
        (
            {"name": "x", "count": 1, "extra": 1},
            "extra",
            "is not a field of this request",
            "n'est pas un champ de cette requête",
        ),
    ],
)
def test_contract_problems_are_said_in_the_callers_language(
    data: dict[str, object], field: str, english: str, french: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _Request.from_request(data)
    (violation,) = validation_error(refused.value).fields
    assert violation.field == field
    assert violation.description == english
    assert described(violation, "en") == english
    assert described(violation, "fr-FR") == french


@pytest.mark.parametrize(
    "mails", [identity_mails, scheduling_mails], ids=["identity", "scheduling"]
)
def test_every_mail_is_written_in_french_and_english(mails: dict[str, Mail]) -> None:
    templates = Templates(mails)
    for name, mail in mails.items():
        names = set(PLACEHOLDER.findall(mail.subject + mail.body))
        values = {placeholder: f"<{placeholder}>" for placeholder in names}
        english = templates.render(name, "en", **values)
        french = templates.render(name, "fr-FR", **values)
        assert french.subject != english.subject and french.body != english.body, name
        for rendered in (english, french):
            assert all(v in rendered.subject + rendered.body for v in values.values() if v)
            assert rendered.body.endswith("\n-- \necoach\n") and "%(" not in rendered.body


def test_mail_dates_are_in_the_persons_zone_and_language() -> None:
    at = datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    assert when(at, "Europe/Paris", "fr") == "jeudi 10 décembre 2026, 14:00 (Europe/Paris)"
    assert when(at, "America/New_York", "en") == (
        "Thursday 10 December 2026, 08:00 (America/New_York)"
    )
    assert when(at, "", "de") == "Thursday 10 December 2026, 13:00 (UTC)"  # none: UTC, English
