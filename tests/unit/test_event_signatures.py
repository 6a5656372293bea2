"""Event envelopes are signed by the publishing service; consumers check signer and signature."""

from __future__ import annotations

import pytest

from services.kernel.events import (
    SIGNATURE_HEADER,
    SIGNER_HEADER,
    ForgedEvent,
    check_signature,
    envelope_bytes,
    signature_headers,
)
from services.kernel.tokens import SigningKey

SPACES, SCHEDULING = SigningKey.generate(), SigningKey.generate()
KEYS = {"spaces": SPACES.public, "scheduling": SCHEDULING.public}
ENVELOPE = {"id": "evt_1", "type": "spaces.space_created", "payload": {"space_id": "spc_1"}}


def check(body: bytes, headers: dict[str, str], event_type: str = "spaces.space_created") -> str:
    return check_signature(body, event_type, headers, KEYS.get)


def test_the_owner_of_the_event_type_signs_it() -> None:
    body = envelope_bytes(ENVELOPE)
    assert check(body, signature_headers(body, "spaces", SPACES)) == "spaces"


def test_envelope_bytes_do_not_depend_on_key_order() -> None:
    shuffled = dict(reversed(list(ENVELOPE.items())))
    assert envelope_bytes(shuffled) == envelope_bytes(ENVELOPE)


def test_an_unsigned_event_is_refused() -> None:
    with pytest.raises(ForgedEvent, match="unsigned"):
        check(envelope_bytes(ENVELOPE), {})
    with pytest.raises(ForgedEvent, match="unsigned"):
        check(envelope_bytes(ENVELOPE), {SIGNER_HEADER: "spaces"})


def test_another_service_may_not_publish_the_event_type_even_with_its_own_valid_key() -> None:
    body = envelope_bytes(ENVELOPE)
    with pytest.raises(ForgedEvent, match=r"scheduling may not publish spaces\.space_created"):
        check(body, signature_headers(body, "scheduling", SCHEDULING))


def test_a_signature_by_another_key_or_over_other_bytes_does_not_verify() -> None:
    body = envelope_bytes(ENVELOPE)
    wrong_key = signature_headers(body, "spaces", SCHEDULING)
    with pytest.raises(ForgedEvent, match="does not verify"):
        check(body, wrong_key)
    tampered = envelope_bytes({**ENVELOPE, "payload": {"space_id": "spc_2"}})
    with pytest.raises(ForgedEvent, match="does not verify"):
        check(tampered, signature_headers(body, "spaces", SPACES))
    with pytest.raises(ForgedEvent, match="does not verify"):
        check(body, {SIGNER_HEADER: "spaces", SIGNATURE_HEADER: "not base64 !"})


def test_a_signer_without_a_public_key_is_refused() -> None:
    body = envelope_bytes({**ENVELOPE, "type": "reporting.x"})
    key = SigningKey.generate()
    with pytest.raises(ForgedEvent, match="no public key"):
        check(body, signature_headers(body, "reporting", key), "reporting.x")
