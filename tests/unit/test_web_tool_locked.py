"""A coachee who reaches a locked tool's target (ADR 0019) reads why, in their language: the
gateway maps content's and assessment's FAILED_PRECONDITION TOOL_LOCKED to gRPC's
FAILED_PRECONDITION with its reason and localized message, the web app reads that message, and
a module the coachee's list leaves out asks content why instead of answering 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from flask import Flask, g

from gateway.api.client_errors import call_error
from gateway.api.errors import to_status
from gateway.web import modules
from gateway.web.pages import failed
from services.kernel.tool_copy import tool_locked

FR = "Cet outil ne vous est pas encore ouvert : votre coach l'ouvre au fil de votre coaching."
EN = "This tool is not open to you yet: your coach opens it as your coaching advances."


class Refused(grpc.RpcError):
    """A failed call as a gRPC client sees it, from the gateway's status."""

    def __init__(self, locale: str) -> None:
        self.status = to_status(tool_locked(), locale)

    def code(self) -> grpc.StatusCode:
        return self.status.code  # type: ignore[no-any-return]

    def details(self) -> str:
        return self.status.details  # type: ignore[no-any-return]

    def trailing_metadata(self) -> Any:
        return self.status.trailing_metadata


@pytest.mark.parametrize(("locale", "text"), [("fr", FR), ("en", EN)])
def test_the_gateway_maps_tool_locked_with_its_reason_and_message(locale: str, text: str) -> None:
    error = call_error(Refused(locale))
    assert (error.code, error.reason, error.message) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "TOOL_LOCKED",
        text,
    )


@pytest.fixture
def page() -> Iterator[None]:
    with Flask(__name__).test_request_context():
        g.language = "fr"
        yield


def test_a_module_left_out_of_the_list_shows_why_it_is_refused(
    page: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []

    def refuse(_clients: Any, method: Any, request: Any) -> Any:
        asked.append(request)
        raise Refused("fr")

    class Content:
        GetModuleProgress = "GetModuleProgress"

    class Clients:
        content = Content()

    monkeypatch.setattr(modules.mp, "assignments_of", lambda space: [])
    monkeypatch.setattr(modules, "clients", lambda: Clients())
    monkeypatch.setattr(modules, "authed", refuse)
    with pytest.raises(grpc.RpcError) as caught:
        modules.assignment_in("spaces/spc_1", "mas_0123abcd")
    assert [r.assignment_id for r in asked] == ["mas_0123abcd"]
    # What the app's error page (app.py) shows: the coachee's language, a 400.
    assert failed(caught.value)[0::2] == (FR, 400)
