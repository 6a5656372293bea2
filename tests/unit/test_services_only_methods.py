"""Issue 19, item 3: a method that serves other services does not authorise people, so a
person's token must never reach it. Walks every `@rpc` method of every service."""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

import pytest

from tests.support.isolation import rpc_methods

pytestmark = pytest.mark.filterwarnings(r"ignore:\s*Eventlet is deprecated")  # imported only

# Methods that accept a service token AND a person's token (`@rpc(services=..., people=True)`),
# each with the reason its handler is safe for people. None today.
SERVICES_AND_PEOPLE: dict[str, str] = {}


def uses_the_caller(method: Any) -> bool:
    """Whether the entrypoint's body passes `caller` on (to a handler that authorises it)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    return any(
        isinstance(node, ast.Name) and node.id == "caller"
        for statement in function.body
        for node in ast.walk(statement)
    )


def test_the_walk_finds_the_known_service_methods() -> None:
    methods = rpc_methods()
    for name in (
        "identity.contact_details",
        "identity.resolve_members",
        "identity.resolve_member_emails",
        "identity.list_access_revocations",
    ):
        assert name in methods
        assert methods[name][0].services_only, name


def test_every_method_naming_services_is_services_only_unless_registered() -> None:
    both = sorted(
        name
        for name, (meta, _) in rpc_methods().items()
        if meta.services and not meta.services_only
    )
    assert both == sorted(SERVICES_AND_PEOPLE), (
        "methods serving services and people must be listed in SERVICES_AND_PEOPLE with a reason"
    )
    assert all(reason.strip() for reason in SERVICES_AND_PEOPLE.values())


def test_a_method_that_does_not_authorise_its_caller_is_public_or_services_only() -> None:
    unguarded = sorted(
        name
        for name, (meta, method) in rpc_methods().items()
        if not meta.public and not meta.services_only and not uses_the_caller(method)
    )
    assert not unguarded, f"these methods ignore their caller yet accept people: {unguarded}"


def test_a_method_serving_people_too_authorises_them() -> None:
    for name in SERVICES_AND_PEOPLE:
        _, method = rpc_methods()[name]
        assert uses_the_caller(method), f"{name} accepts people but never looks at its caller"
