"""xAPI end to end (ADR 0016): the operator sets a local LRS (http, allowed outside production);
a coachee completes a module and answers a reflection (saved into their journal, then recorded
as answered); the statements reach the LRS in the background, with the coachee's pseudonym as
actor and nothing that names them or holds what they wrote; the coachee's export holds them;
the settings never show the secret; a later push sends only what is new."""

from __future__ import annotations

import json
from typing import Any

import grpc

from ecoach_dev.deployment import Deployment
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import content_pb2_grpc, spaces_pb2_grpc
from gateway.api.pb import identity_pb2 as ipb
from gateway.api.pb import spaces_pb2 as spb
from services.content.domain.xapi import registration_of
from tests.e2e.conftest import make_tenant
from tests.e2e.test_assessment import active_space, email_of
from tests.support.api import Api, Session, expect_error
from tests.support.lrs import LocalLrs
from tests.support.waiting import wait_for

ANSWER = "I will ask Sam about the missed deadline on Monday, privately"  # the journal's only
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"


def test_a_coachees_statements_reach_the_operators_lrs_and_their_export(
    deployment: Deployment, api: Api, operator: Session
) -> None:
    stub = content_pb2_grpc.ContentServiceStub(api.channel)
    team = make_tenant(deployment, api, operator)
    space = active_space(api, team)

    with LocalLrs() as lrs:
        # Every bad field named; then the operator sets the test's LRS.
        bad = expect_error(
            stub.SetLrsSettings,
            cpb.SetLrsSettingsRequest(endpoint="ftp://lrs", key="a:b", enabled=True),
            metadata=operator.metadata,
        )
        assert bad.code == grpc.StatusCode.INVALID_ARGUMENT
        assert set(bad.fields) == {"endpoint", "key", "secret"}, bad.fields
        view = stub.SetLrsSettings(
            cpb.SetLrsSettingsRequest(
                endpoint=lrs.endpoint, key=lrs.key, secret=lrs.secret, enabled=True
            ),
            metadata=operator.metadata,
        )
        assert view.has_secret and view.endpoint == lrs.endpoint
        assert lrs.secret not in str(view)
        try:
            _take_the_module(api, operator, stub, team, space, lrs)
        finally:  # the LRS goes away with the test: nothing more is sent to it
            stub.SetLrsSettings(
                cpb.SetLrsSettingsRequest(endpoint=lrs.endpoint, key=lrs.key, enabled=False),
                metadata=operator.metadata,
            )
    got = stub.GetLrsSettings(cpb.GetLrsSettingsRequest(), metadata=operator.metadata)
    assert got.has_secret and not got.enabled and lrs.secret not in str(got)


def _take_the_module(
    api: Api, operator: Session, stub: Any, team: Any, space: Any, lrs: LocalLrs
) -> None:
    coachee = team.coachee

    def assign() -> Any:  # once content has learnt the space is active (spaces' events)
        try:
            return stub.AssignModule(
                cpb.AssignModuleRequest(parent=space.name, slug="giving-feedback"),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    assigned = wait_for(assign, 20, "content's copy of the space")
    ref = assigned.assignment_id
    for lesson in ("prepare", "deliver", "follow-up"):
        stub.CompleteLesson(
            cpb.CompleteLessonRequest(assignment_id=ref, lesson=lesson), metadata=coachee.metadata
        )
    # The web app's way: the answer into the journal, then the block recorded as answered.
    notes = spaces_pb2_grpc.NoteServiceStub(api.channel)
    notes.CreateNote(
        spb.CreateNoteRequest(parent=space.name, note=spb.Note(kind=spb.JOURNAL, body=ANSWER)),
        metadata=coachee.metadata,
    )
    answered = cpb.RecordBlockAnsweredRequest(
        assignment_id=ref, lesson="deliver", block=2, kind=cpb.ANSWERED_REFLECTION
    )
    stub.RecordBlockAnswered(answered, metadata=coachee.metadata)
    wrong = expect_error(
        stub.RecordBlockAnswered,
        cpb.RecordBlockAnsweredRequest(
            assignment_id=ref, lesson="deliver", block=0, kind=cpb.ANSWERED_REFLECTION
        ),
        metadata=coachee.metadata,
    )
    assert (wrong.code, wrong.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("kind",))
    refused = expect_error(stub.RecordBlockAnswered, answered, metadata=team.coach.metadata)
    assert refused.reason == "SPACE_COACHEE_ONLY"

    # In the LRS: three lessons experienced, the module completed, the reflection answered.
    registration = str(registration_of(ref))

    def of_attempt() -> list[dict[str, Any]]:
        return [s for s in lrs.stored() if s["context"]["registration"] == registration]

    stored = wait_for(lambda: of_attempt() if len(of_attempt()) == 5 else None, 30, "the LRS")
    assert lrs.refusals == []
    verbs = sorted(s["verb"]["display"]["en-US"] for s in stored)
    assert verbs == ["answered", "completed", "experienced", "experienced", "experienced"]
    pseudonyms = {s["actor"]["account"]["name"] for s in stored}
    [pseudonym] = pseudonyms
    assert pseudonym.startswith("lrn_")
    email = email_of(api, coachee)
    for statement in stored:
        text = json.dumps(statement)
        for secret in (email, assigned.coachee_person_id, ANSWER, "response", "score"):
            assert secret not in text, (secret, statement)

    # Everything pushed; a later push sends only what is new (one POST, one statement).
    def settled() -> Any:
        got = stub.GetLrsSettings(cpb.GetLrsSettingsRequest(), metadata=operator.metadata)
        return got if got.pending == 0 else None

    pushed = wait_for(settled, 30, "no statement pending")
    assert pushed.last_error == "" and pushed.HasField("last_push_time")
    posts = lrs.posts
    stub.RecordBlockAnswered(
        cpb.RecordBlockAnsweredRequest(
            assignment_id=ref, lesson="prepare", block=1, kind=cpb.ANSWERED_REFLECTION
        ),
        metadata=coachee.metadata,
    )
    wait_for(lambda: len(of_attempt()) == 6 or None, 30, "the new statement in the LRS")
    assert lrs.posts == posts + 1

    # The coachee's export holds the statements as sent.
    documents = list(
        api.auth.ExportMyData(ipb.ExportMyDataRequest(), metadata=coachee.metadata, timeout=30)
    )
    (mine,) = [json.loads(d.data) for d in documents if d.service == "content"]
    exported = mine["my_xapi_statements"]["statements"]
    assert sorted(s["id"] for s in exported) == sorted(s["id"] for s in of_attempt())
    assert {s["actor"]["account"]["name"] for s in exported} == {pseudonym}
    assert [s["verb"]["id"] for s in exported].count(ANSWERED) == 2
