"""E-learning modules end to end through the gateway: an operator imports a module from a
folder with `ecoach modules import` (a shipped module's files under a new slug); a malformed
folder gets line-numbered errors and changes nothing; the coach assigns the module to an active
space; the coachee completes it over two days (the test clock) and resumes where they left;
progress and time spent are right for the coachee and the coach; another coach, HR and another
tenant see nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import grpc

from ecoach_dev.deployment import Deployment
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import content_pb2_grpc
from services.content.modules import FOLDER
from tests.e2e.conftest import PASSWORD, TenantWorld, make_tenant
from tests.e2e.test_assessment import active_space, another_coach, email_of
from tests.e2e.test_cli import ecoach
from tests.support.api import Api, Session, expect_error, unique_slug
from tests.support.clock import clock_moved
from tests.support.people import OPERATOR_PASSWORD, create_operator, totp_code
from tests.support.waiting import wait_for

DAY = 86400


def module_folder(tmp_path: Path, slug: str) -> Path:
    """The shipped feedback module's folder, as a module of its own."""
    folder = tmp_path / slug
    shutil.copytree(FOLDER / "giving-feedback", folder)
    module = folder / "module.md"
    module.write_text(module.read_text().replace("slug: giving-feedback", f"slug: {slug}"))
    return folder


def cli_operator(deployment: Deployment, home: Path) -> None:
    email = create_operator(deployment.config)
    code = totp_code(deployment.config)
    logged = ecoach(deployment, home, "login", email, password=OPERATOR_PASSWORD, code=code)
    assert logged.returncode == 0, logged.stderr


def test_an_imported_module_assigned_and_completed_over_two_days(
    deployment: Deployment, api: Api, operator: Session, globex: TenantWorld, tmp_path: Path
) -> None:
    stub = content_pb2_grpc.ContentServiceStub(api.channel)
    slug = unique_slug("feedback")
    home = tmp_path / "cli"
    cli_operator(deployment, home)

    # A malformed folder: every problem by file and line, and nothing stored.
    broken = module_folder(tmp_path / "broken", slug)
    module_md = broken / "module.md"
    module_md.write_text(module_md.read_text().replace("minutes: 25", "minutes: lots"))
    lesson = broken / "lessons" / "02-deliver.fr.md"
    lesson.write_text(lesson.read_text().replace("title: ", "titre: ", 1))
    refused = ecoach(deployment, home, "modules", "import", str(broken))
    assert refused.returncode == 1, refused.stdout
    assert "INVALID_ARGUMENT" in refused.stderr
    assert "module.md:5 minutes" in refused.stderr, refused.stderr
    assert "lessons/02-deliver.fr.md:" in refused.stderr, refused.stderr
    missing = expect_error(
        stub.GetModule, cpb.GetModuleRequest(slug=slug), metadata=globex.coach.metadata
    )
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "MODULE_NOT_FOUND")

    # The folder as written imports; the same again changes nothing.
    folder = module_folder(tmp_path, slug)
    done = ecoach(deployment, home, "modules", "import", str(folder))
    assert done.returncode == 0, done.stderr
    assert f"Module {slug} version 1 imported." in done.stdout
    again = ecoach(deployment, home, "modules", "import", str(folder))
    assert again.returncode == 0 and "nothing changed" in again.stdout, again.stderr
    # Exported as a folder, edited in any editor, imported back as the next version.
    exported = tmp_path / "exported"
    out = ecoach(deployment, home, "modules", "export", slug, str(exported))
    assert out.returncode == 0 and f"Module {slug} version 1 written" in out.stdout, out.stderr
    assert (exported / "module.md").is_file() and len(list((exported / "lessons").iterdir())) == 6
    kept = ecoach(deployment, home, "modules", "export", slug, str(exported))
    assert kept.returncode == 2 and "exists already" in kept.stderr  # nothing overwritten
    front = (exported / "module.md").read_text()
    assert f"slug: {slug}\n" in front
    (exported / "module.md").write_text(front.replace(f"slug: {slug}\n", f"slug: {slug}-copy\n"))
    copied = ecoach(deployment, home, "modules", "import", str(exported))
    assert copied.returncode == 0, copied.stderr
    assert f"Module {slug}-copy version 1 imported." in copied.stdout
    first = stub.ExportModule(
        cpb.GetModuleRequest(slug=slug, version=1), metadata=globex.coach.metadata
    )
    assert {f.path for f in first.files} == {
        f.relative_to(exported).as_posix() for f in exported.rglob("*.md")
    }

    team = make_tenant(deployment, api, operator)
    space = active_space(api, team)
    listed = stub.ListModules(cpb.ListModulesRequest(page_size=200), metadata=team.coach.metadata)
    found = {m.slug: m for m in listed.modules}
    assert found[slug].source == cpb.MODULE_IMPORTED and found[slug].lesson_count == 3
    assert found["giving-feedback"].source == cpb.MODULE_SHIPPED

    def assign() -> Any:  # once content has learnt the space is active (spaces' events)
        try:
            return stub.AssignModule(
                cpb.AssignModuleRequest(parent=space.name, slug=slug),
                metadata=team.coach.metadata,
            )
        except grpc.RpcError:
            return None

    assigned = wait_for(assign, 20, "content's copy of the space")
    assert assigned.progress.status == cpb.PROGRESS_NOT_STARTED and assigned.space == space.name
    ref = assigned.assignment_id
    twice = expect_error(
        stub.AssignModule,
        cpb.AssignModuleRequest(parent=space.name, slug=slug),
        metadata=team.coach.metadata,
    )
    assert (twice.code, twice.reason) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "MODULE_ALREADY_ASSIGNED",
    )

    # Day one: the first lesson read and completed, the second opened.
    coachee = team.coachee
    opened = stub.OpenLesson(cpb.OpenLessonRequest(assignment_id=ref), metadata=coachee.metadata)
    assert (opened.status, opened.position, opened.version) == (cpb.PROGRESS_STARTED, "prepare", 1)
    wrong = expect_error(
        stub.CompleteLesson,
        cpb.CompleteLessonRequest(assignment_id=ref, lesson="not-a-lesson"),
        metadata=coachee.metadata,
    )
    assert (wrong.code, wrong.fields) == (grpc.StatusCode.INVALID_ARGUMENT, ("lesson",))
    coachee_email = email_of(api, coachee)
    clock: Path = deployment.config.test_clock_path
    with clock_moved(clock, 120):
        coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)
        first = stub.CompleteLesson(
            cpb.CompleteLessonRequest(assignment_id=ref, lesson="prepare"),
            metadata=coachee.metadata,
        )
        assert first.position == "deliver" and list(first.lessons_completed) == ["prepare"]
        stub.OpenLesson(
            cpb.OpenLessonRequest(assignment_id=ref, lesson="deliver"), metadata=coachee.metadata
        )
    # Day two: back where they left, then to the end.
    with clock_moved(clock, DAY):
        coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)
        resumed = stub.OpenLesson(
            cpb.OpenLessonRequest(assignment_id=ref), metadata=coachee.metadata
        )
        assert resumed.position == "deliver"
    with clock_moved(clock, DAY + 180):
        coachee = api.sign_in(coachee_email, PASSWORD, team.tenant_id)
        stub.CompleteLesson(
            cpb.CompleteLessonRequest(assignment_id=ref, lesson="deliver"),
            metadata=coachee.metadata,
        )
        last = stub.CompleteLesson(
            cpb.CompleteLessonRequest(assignment_id=ref, lesson="follow-up"),
            metadata=coachee.metadata,
        )
        assert last.status == cpb.PROGRESS_COMPLETED
        assert list(last.lessons_completed) == ["prepare", "deliver", "follow-up"]
        # 2 minutes, a day away counted as 5, 3 minutes: 600 s, and the seconds the test took.
        assert 600 <= last.seconds <= 660, last.seconds
        assert last.complete_time.seconds - last.start_time.seconds >= DAY

    # Back to today, with the tokens signed in today.
    coach = team.coach
    seen = stub.GetModuleProgress(
        cpb.GetModuleProgressRequest(assignment_id=ref), metadata=coach.metadata
    )
    assert (seen.status, seen.seconds) == (cpb.PROGRESS_COMPLETED, last.seconds)
    [listed_one] = stub.ListModuleAssignments(
        cpb.ListModuleAssignmentsRequest(parent=space.name), metadata=coach.metadata
    ).assignments
    assert listed_one.progress.status == cpb.PROGRESS_COMPLETED
    not_theirs = expect_error(
        stub.OpenLesson, cpb.OpenLessonRequest(assignment_id=ref), metadata=coach.metadata
    )
    assert not_theirs.reason == "SPACE_COACHEE_ONLY"

    # Another coach, HR and another tenant: nothing, as for an assignment that does not exist.
    for who in (
        another_coach(deployment, api, team),
        team.admin,
        globex.coach,
    ):
        hidden = expect_error(
            stub.GetModuleProgress,
            cpb.GetModuleProgressRequest(assignment_id=ref),
            metadata=who.metadata,
        )
        assert (hidden.code, hidden.reason) == (
            grpc.StatusCode.NOT_FOUND,
            "MODULE_ASSIGNMENT_NOT_FOUND",
        )
        hidden = expect_error(
            stub.ListModuleAssignments,
            cpb.ListModuleAssignmentsRequest(parent=space.name),
            metadata=who.metadata,
        )
        assert (hidden.code, hidden.reason) == (grpc.StatusCode.NOT_FOUND, "SPACE_NOT_FOUND")
