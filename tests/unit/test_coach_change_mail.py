"""The mails that tell a coachee their coaches changed (issue 19): in both languages, neutral,
labelled with their language, and never about a draft the coachee does not see."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import pytest

from services.contracts import spaces as sc
from services.identity.handlers.coaching import send_coach_change_mail
from services.identity.mails import MAILS
from services.kernel.runtime.mailer import DirectoryTransport, Mailer, Templates


@pytest.mark.parametrize("template", ["coach_changed", "coach_change_proposed"])
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_coach_change_mail_names_no_one_and_no_space(template: str, locale: str) -> None:
    rendered = Templates(MAILS).render(template, locale, name="Ada", url="https://ecoach.example")
    assert "Ada" in rendered.body and "https://ecoach.example" in rendered.body
    assert "%(" not in rendered.body + rendered.subject
    assert "ecoach" in rendered.subject


def test_a_mail_says_its_language(tmp_path: Path) -> None:
    mailer = Mailer(DirectoryTransport(tmp_path), "ecoach <no-reply@ecoach.test>", Templates(MAILS))
    mailer.send("ada@example.test", "fr", "coach_changed", name="Ada", url="https://e")
    [eml] = list(tmp_path.glob("*.eml"))
    parsed = message_from_bytes(eml.read_bytes(), policy=email_policy)
    assert parsed["Content-Language"] == "fr"
    assert parsed["Subject"] == "Un changement dans votre accompagnement ecoach"


def test_the_coachee_of_a_draft_is_not_told_they_cannot_see_it_yet() -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"{name} used for a draft")

    event = sc.CoCoachChanged(
        space_id="spc_1",
        tenant_id="ten_1",
        status=sc.SpaceStatus.DRAFT,
        coachee_person_id="per_1",
        coach_person_id="per_2",
        co_coach_person_id="per_3",
        cadence="weekly",
        sessions_planned=4,
        starts_on=date(2027, 1, 4),
        updated_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    nothing: Any = Untouchable()
    send_coach_change_mail(nothing, nothing, nothing, event)
