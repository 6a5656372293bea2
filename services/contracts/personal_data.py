"""The personal-data contract every service keeping something about people implements
(docs/personal-data.md): its export document, and the erasures identity coordinates and each
such service completes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from services.kernel.validation import OPAQUE

from .base import Contract, Id, PageRequest


class PersonalDataExport(Contract):
    """One service's document of the caller's personal data (the personal-data contract)."""

    service: str
    exported_at: datetime
    data: dict[str, Any]


class ErasureRef(Contract):
    erasure_id: Id


class ErasureReceiptRef(Contract):
    receipt: str = Field(min_length=1, max_length=200)


class ListErasuresRequest(PageRequest):
    pass


class ReplayErasuresRequest(Contract):
    """After restoring a service's backup taken at `since`: ask again for every erasure made
    since then."""

    since: datetime


class ReplayErasuresResponse(Contract):
    replayed: int


class ErasureStep(Contract):
    service: str
    completed_at: datetime | None = None


class Erasure(Contract):
    """An erasure and where each service holding personal data stands with it."""

    erasure_id: str
    person_id: str
    requested_at: datetime
    requested_by: Literal["person", "operator"]
    completed_at: datetime | None = None  # when the last service reported
    steps: list[ErasureStep]
    receipt: str = ""  # given once, to the person: it shows them the status later


class ErasureList(Contract):
    erasures: list[Erasure]
    next_page_token: str = ""


class EraseMyDataRequest(Contract):
    current_password: Annotated[str, OPAQUE] = Field(min_length=1, max_length=1024)
