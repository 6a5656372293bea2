"""The mails that tell a coachee their coaches changed (issue 19): in both languages, neutral,
and labelled with their language."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path

import pytest

from services.identity.service import MAIL_TEMPLATES
from services.kernel.runtime.mailer import DirectoryTransport, Mailer, Templates


@pytest.mark.parametrize("template", ["coach_changed", "coach_change_proposed"])
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_coach_change_mail_names_no_one_and_no_space(template: str, locale: str) -> None:
    assert (MAIL_TEMPLATES / f"{template}.{locale}.txt").exists()
    rendered = Templates(MAIL_TEMPLATES).render(
        template, locale, name="Ada", url="https://ecoach.example"
    )
    assert "Ada" in rendered.body and "https://ecoach.example" in rendered.body
    assert "$" not in rendered.body + rendered.subject
    assert "ecoach" in rendered.subject


def test_a_mail_says_its_language(tmp_path: Path) -> None:
    mailer = Mailer(
        DirectoryTransport(tmp_path), "ecoach <no-reply@ecoach.test>", Templates(MAIL_TEMPLATES)
    )
    mailer.send("ada@example.test", "fr", "coach_changed", name="Ada", url="https://e")
    [eml] = list(tmp_path.glob("*.eml"))
    parsed = message_from_bytes(eml.read_bytes(), policy=email_policy)
    assert parsed["Content-Language"] == "fr"
    assert parsed["Subject"] == "Un changement dans votre accompagnement ecoach"
