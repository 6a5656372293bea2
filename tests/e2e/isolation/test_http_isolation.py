"""The isolation suite again, through the HTTP/JSON API (ADR 0020): the facade is a client of
the gRPC gateway, so each attempt must end in the same rule 6 refusal (as its HTTP status and
problem `code` and `reason`) and leave the victim's state as it was. The rows are the gRPC
suite's own (test_isolation_lists.py gathers them): a new method's rows are checked over both
doors with no edit here. The first row of each method only: the facade decides nothing about
who may call what (it passes the caller's token on and maps the answer), so what can differ is
per method (its request's JSON mapping, its answer's status), not per caller; every row of the
suite over HTTP took ~55 s of the end-to-end stage for the same proof."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from google.protobuf.json_format import MessageToDict

from ecoach_dev.deployment import Deployment
from gateway.httpjson.problems import HTTP_STATUS
from tests.e2e.isolation.conftest import Case, World, case_params
from tests.e2e.isolation.test_isolation_lists import CASES


@pytest.fixture(scope="module")
def http(deployment: Deployment) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"http://{deployment.web_address}/api/v1/", timeout=30) as client:
        yield client


def first_row_of_each_method(cases: list[Case]) -> list[Case]:
    seen: dict[str, Case] = {}
    for case in cases:
        seen.setdefault(case.method, case)
    return list(seen.values())


@pytest.mark.parametrize("case", case_params(first_row_of_each_method(CASES)))
def test_over_http_json_a_caller_cannot_reach_what_is_not_theirs(
    world: World, http: httpx.Client, case: Case
) -> None:
    caller = case.caller(world)
    body = MessageToDict(case.request(world))  # protobuf's JSON mapping, as a script sends it
    before = case.read_back(world)

    response = http.post(case.method, json=body, headers=dict(caller.metadata))

    after = case.read_back(world)
    ended = f"{case.id} answered {response.status_code} {response.text[:500]}"
    assert after == before, f"{ended}; the victim's state changed"
    assert response.status_code == HTTP_STATUS[case.code], ended
    assert response.headers["content-type"] == "application/problem+json", ended
    problem = response.json()
    assert (problem["code"], problem.get("reason")) == (case.code.name, case.reason), ended
