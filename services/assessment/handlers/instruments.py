"""Instruments: the built-in catalogue (read by every coach and coachee of every tenant: a
cross-tenant read, ADR 0014) and coaches' own, versioned, private or shared in their tenant."""

from __future__ import annotations

from dataclasses import replace

from services.contracts import assessment as c
from services.kernel.caller import Caller, PersonClaims, require_person
from services.kernel.crypto import MasterKey
from services.kernel.errors import InvalidArgument, NotFound, PermissionDenied, invalid
from services.kernel.ids import new_id

from ..adapters.documents import instrument_of
from ..catalogue import catalogue, from_catalogue
from ..domain.instruments import Instrument
from ..storage.instruments import StoredInstrument
from ..storage.unit import AssessmentUnit, Db
from .access import access
from .views import built_in_view, custom_view


def reader(caller: Caller) -> PersonClaims:
    """A coach or coachee signed in to a tenant."""
    who = require_person(caller)
    if who.tenant_id is None or not (who.has_role("coach") or who.has_role("coachee")):
        raise PermissionDenied(
            "Only a tenant's coaches and coachees read instruments.",
            reason="COACH_OR_COACHEE_ONLY",
        )
    return who


def _coach(caller: Caller) -> PersonClaims:
    who = require_person(caller)
    if who.tenant_id is None or not who.has_role("coach"):
        raise PermissionDenied("Only a coach writes instruments.", reason="COACH_ONLY")
    return who


def _not_found() -> NotFound:
    return NotFound("No such instrument.", reason="INSTRUMENT_NOT_FOUND")


def visible(stored: StoredInstrument | None, who: PersonClaims) -> StoredInstrument:
    """A coach's instrument as this person may see it: their own, or shared in their tenant."""
    if stored is None or stored.tenant_id != who.tenant_id:
        raise _not_found()
    if not stored.shared and stored.owner_person_id != who.person_id:
        raise _not_found()
    return stored


def resolve(uow: AssessmentUnit, who: PersonClaims, instrument_id: str, version: int) -> Instrument:
    """The domain's instrument for a reference the person may read (NOT_FOUND otherwise)."""
    if not instrument_id.startswith("ins_"):
        found = from_catalogue(instrument_id)
        if version and version != found.version:
            raise _not_found()
        return found
    stored = visible(uow.instruments.get(instrument_id, version), who)
    return instrument_of(c.InstrumentDocument.model_validate(stored.document))


def list_instruments(db: Db, caller: Caller, request: c.ListInstrumentsRequest) -> c.InstrumentList:
    who = reader(caller)
    every = [built_in_view(i, with_document=False) for i in catalogue()]
    with db.read_only() as uow:
        assert who.tenant_id is not None
        every += [
            custom_view(s, with_document=False)
            for s in uow.instruments.latest_visible_to(who.tenant_id, who.person_id)
        ]
    start = 0
    if request.page_token:
        if not request.page_token.isdigit():
            raise invalid(page_token="is not a token this list returned")  # noqa: S106
        start = int(request.page_token)
    end = start + request.effective_page_size()
    return c.InstrumentList(
        instruments=every[start:end], next_page_token=str(end) if end < len(every) else ""
    )


def get_instrument(
    db: Db, master: MasterKey, caller: Caller, request: c.InstrumentRef
) -> c.Instrument:
    """The catalogue's and the instruments the caller may see; through an assignment, the
    version it uses, for the people of its space (NOT_FOUND for anyone else, and for an
    instrument or version the assignment does not use)."""
    who = reader(caller)
    if request.assignment_id is not None:
        return _through_assignment(db, master, who, request)
    if not request.instrument_id.startswith("ins_"):
        found = from_catalogue(request.instrument_id)
        if request.version and request.version != found.version:
            raise _not_found()
        return built_in_view(found, with_document=True)
    with db.read_only() as uow:
        stored = visible(uow.instruments.get(request.instrument_id, request.version), who)
    return custom_view(stored, with_document=True)


def _write(
    uow: AssessmentUnit,
    who: PersonClaims,
    instrument_id: str,
    version: int,
    document: c.InstrumentDocument,
    shared: bool,
) -> StoredInstrument:
    document = document.model_copy(update={"version": version})
    try:
        instrument_of(document)  # the rules a schema cannot say
    except InvalidArgument as exc:  # named as the request names them: document.<field>
        fields = [replace(f, field=f"document.{f.field}") for f in exc.fields]
        raise InvalidArgument(exc.message, reason=exc.reason, fields=fields) from None
    assert who.tenant_id is not None
    stored = StoredInstrument(
        instrument_id=instrument_id,
        version=version,
        tenant_id=who.tenant_id,
        owner_person_id=who.person_id,
        slug=document.slug,
        shared=shared,
        document=document.model_dump(mode="json", by_alias=True),
        created_at=uow.clock.now(),
    )
    uow.instruments.add(stored)
    return stored


def create_instrument(db: Db, caller: Caller, request: c.CreateInstrumentRequest) -> c.Instrument:
    who = _coach(caller)
    with db.unit_of_work() as uow:
        stored = _write(uow, who, new_id("ins"), 1, request.document, request.shared)
    return custom_view(stored, with_document=True)


def update_instrument(db: Db, caller: Caller, request: c.UpdateInstrumentRequest) -> c.Instrument:
    """A new version; the versions before it, and every result scored with them, stay."""
    who = _coach(caller)
    with db.unit_of_work() as uow:
        latest = visible(uow.instruments.get(request.instrument_id), who)
        if latest.owner_person_id != who.person_id:
            raise PermissionDenied(
                "Only its author changes an instrument.", reason="INSTRUMENT_AUTHOR_ONLY"
            )
        stored = _write(
            uow, who, latest.instrument_id, latest.version + 1, request.document, request.shared
        )
    return custom_view(stored, with_document=True)


def _through_assignment(
    db: Db, master: MasterKey, who: PersonClaims, request: c.InstrumentRef
) -> c.Instrument:
    assert request.assignment_id is not None
    with db.read_only() as uow:
        assignment, _ = access(uow, master, who, request.assignment_id, attempts=False)
        used = assignment.instrument
        if request.instrument_id != assignment.instrument_id or request.version not in (
            0,
            used.version,
        ):
            raise _not_found()
        if not assignment.instrument_id.startswith("ins_"):
            return built_in_view(used, with_document=True)
        stored = uow.instruments.get(assignment.instrument_id, used.version)
    if stored is None:
        raise _not_found()
    return custom_view(stored, with_document=True)
