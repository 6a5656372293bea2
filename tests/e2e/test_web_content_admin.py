"""The content service's administration in a real browser (issue 23): the operator's learning
record store page (a bad address shown beside its field, the secret never put back into a
page, a blank secret keeping the stored one, the status the service reports) and a module's
folder downloaded as a .zip, from the operator's catalogue and the coach's: the zip opens with
its manifest (module.md) and lessons under one folder, and its name is the slug and version.
A coach cannot open the LRS page nor the operator's download; a coachee and HR cannot download
a module. One tenant and one browser profile per person, for a short run."""

from __future__ import annotations

import re
import secrets
import zipfile
from pathlib import Path

from playwright.sync_api import Browser, Page

from ecoach_dev.deployment import Deployment
from gateway.api.pb import content_pb2 as cpb
from tests.e2e.conftest import make_tenant
from tests.e2e.test_web_modules import operator_signed_in, signed_in, stub
from tests.support.api import Api, Session
from tests.support.browser import browsing
from tests.support.lrs import LocalLrs
from tests.support.web import email_of, journey_checks, status_of

SLUG = "giving-feedback"  # shipped with ecoach: in every catalogue


def save_lrs(page: Page, **fields: str) -> None:
    for name, value in fields.items():
        page.fill(f"#{name}", value)
    with page.expect_navigation():
        page.click("#save-lrs")


def download(page: Page, link: str, folder: Path) -> tuple[str, Path]:
    """The link's download: its suggested name and where it was saved."""
    with page.expect_download() as info:
        page.click(link)
    got = info.value
    path = folder / got.suggested_filename
    got.save_as(path)
    return got.suggested_filename, path


def test_the_operator_sets_the_lrs_and_modules_download_as_zips(
    deployment: Deployment,
    api: Api,
    operator: Session,
    browser: Browser,
    origin: str,
    tmp_path: Path,
) -> None:
    team = make_tenant(deployment, api, operator)
    secret = f"lrs-secret-{secrets.token_hex(8)}"

    with LocalLrs(secret=secret) as lrs, browsing(browser, origin) as (_, page, elsewhere):
        try:
            operator_signed_in(page, origin, deployment)
            page.click("#nav-operator-lrs")
            page.wait_for_url(f"{origin}/operator/lrs")

            # A bad address: named beside its field, the secret typed not sent back.
            save_lrs(page, endpoint="ftp://lrs.example/xapi/", key=lrs.key, secret=secret)
            assert page.get_attribute("#endpoint", "aria-invalid") == "true"
            assert "https://" in page.inner_text("#endpoint-error")
            assert page.input_value("#endpoint") == "ftp://lrs.example/xapi/"
            assert page.input_value("#secret") == "" and secret not in page.content()

            # Enabled by hand: the box starts as the deployment's settings are, and another
            # file on this worker (test_content_xapi.py) may have left an LRS set but disabled.
            page.check("#enabled")
            save_lrs(page, endpoint=lrs.endpoint, key=lrs.key, secret=secret)
            assert page.url == f"{origin}/operator/lrs?done=saved#done"
            assert page.input_value("#secret") == "" and secret not in page.content()
            assert "A secret is kept" in page.inner_text("#secret-hint")
            assert page.is_checked("#enabled")
            assert "sent in the background" in page.inner_text("#lrs-status")
            assert re.fullmatch(r"\d+", page.inner_text("#lrs-pending"))
            journey_checks(page, "lrs-operator", elsewhere)

            # Disabled, the secret left blank: the stored one is kept.
            page.uncheck("#enabled")
            save_lrs(page)
            assert "Disabled" in page.inner_text("#lrs-status")
            got = stub(api).GetLrsSettings(cpb.GetLrsSettingsRequest(), metadata=operator.metadata)
            assert got.has_secret and not got.enabled and got.endpoint == lrs.endpoint
            assert secret not in page.content()

            # The operator's catalogue downloads a module's folder too.
            page.click("#nav-operator-modules")
            page.wait_for_url(f"{origin}/operator/modules")
            name, _path = download(page, f"#export-{SLUG}", tmp_path / "operator")
            assert re.fullmatch(rf"{SLUG}-v\d+\.zip", name), name
            assert elsewhere == []
        finally:  # nothing more is sent to the test's LRS once it is gone
            stub(api).SetLrsSettings(
                cpb.SetLrsSettingsRequest(endpoint=lrs.endpoint, key=lrs.key, enabled=False),
                metadata=operator.metadata,
            )

    with browsing(browser, origin) as (_, page, elsewhere):
        signed_in(page, origin, email_of(api, team.coach))
        assert status_of(page, f"{origin}/operator/lrs") == 404
        assert page.locator("#lrs-form").count() == 0
        assert status_of(page, f"{origin}/operator/modules/{SLUG}/export") == 404
        assert status_of(page, f"{origin}/coach/modules/no-such-module/export") == 404
        page.goto(f"{origin}/desk")
        page.click("#nav-modules")
        page.wait_for_url(f"{origin}/coach/modules")
        version = page.inner_text(f"#catalogue-{SLUG} .version")
        name, path = download(page, f"#export-{SLUG}", tmp_path / "coach")
        assert name == f"{SLUG}-v{version}.zip"
        with zipfile.ZipFile(path) as archive:
            entries = archive.namelist()
            assert f"{SLUG}-v{version}/module.md" in entries, entries
            assert all(e.startswith(f"{SLUG}-v{version}/") for e in entries)
            manifest = archive.read(f"{SLUG}-v{version}/module.md").decode("utf-8")
            assert f"slug: {SLUG}" in manifest
            lessons = [e for e in entries if "/lessons/" in e]
        folder = stub(api).ExportModule(
            cpb.GetModuleRequest(slug=SLUG), metadata=team.coach.metadata
        )
        assert sorted(f"{SLUG}-v{version}/{f.path}" for f in folder.files) == sorted(entries)
        assert lessons
        journey_checks(page, "modules-coach", elsewhere)
        assert elsewhere == []

    for who in (team.coachee, team.admin):
        with browsing(browser, origin) as (_, page, _elsewhere):
            signed_in(page, origin, email_of(api, who))
            assert status_of(page, f"{origin}/coach/modules/{SLUG}/export") == 404
            assert status_of(page, f"{origin}/coach/modules") == 404
            assert status_of(page, f"{origin}/operator/modules/{SLUG}/export") == 404
