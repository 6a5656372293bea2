"""The `ecoach` command line against a running deployment, as an operator and a tenant admin
would use it (subprocesses, a session folder of their own)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyotp
from google.protobuf.field_mask_pb2 import FieldMask

from ecoach_dev.deployment import Deployment
from gateway.api.convert import settings_name
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import identity_pb2_grpc as pb_grpc
from tests.e2e.conftest import PASSWORD, make_tenant
from tests.support.api import Api, Session, expect_error, unique_email, unique_slug
from tests.support.mailbox import mailed_link
from tests.support.people import OPERATOR_PASSWORD, OPERATOR_TOTP_SECRET, create_operator, totp_code

ROOT = Path(__file__).resolve().parents[2]
CLI = (sys.executable, "-m", "ecoach_cli")


def ecoach(
    deployment: Deployment,
    home: Path,
    *args: str,
    password: str = "",
    code: str = "",
    lang: str = "en_GB.UTF-8",
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ECOACH_CLI_HOME": str(home),
        "ECOACH_PASSWORD": password,
        "ECOACH_MFA_CODE": code,
        "LANG": lang,
        "LC_ALL": "",
        "LC_MESSAGES": "",
    }
    return run_module("ecoach_cli", "--address", deployment.address, *args, env=env)


def run_module(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m <args>` from the clone, as someone at a terminal would run it."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_operator_and_an_admin_work_from_the_command_line(
    deployment: Deployment, tmp_path: Path
) -> None:
    home = tmp_path / "cli"
    refused = ecoach(deployment, home, "members", "list", "--tenant", "tnt_x")
    assert refused.returncode == 2 and "ecoach login" in refused.stderr
    operator = create_operator(deployment.config)
    logged = ecoach(
        deployment,
        home,
        "login",
        operator,
        password=OPERATOR_PASSWORD,
        code=totp_code(deployment.config),
    )
    assert logged.returncode == 0, logged.stderr
    assert (home / "session.json").stat().st_mode & 0o777 == 0o600
    slug = unique_slug("cli")
    created = ecoach(deployment, home, "tenants", "create", "CLI Co", slug)
    assert created.returncode == 0, created.stderr
    tenant = re.search(r"(tnt_[0-9a-f]+)", created.stdout).group(1)  # type: ignore[union-attr]

    admin = unique_email("cli-admin")
    people = [unique_email("cli") for _ in range(3)]
    rows = [
        "email,role,name",
        f"{admin},tenant_admin,CLI Admin",  # line 2
        f"{people[0]},coachee,One",  # 3
        "not-an-email,coachee,Bad",  # 4
        f"{people[1]},wizard,Two",  # 5
        f"{people[2]},coach,Three",  # 6
    ]
    roster = tmp_path / "people.csv"
    roster.write_text("\n".join(rows) + "\n")
    imported = ecoach(
        deployment, home, "members", "import", str(roster), "--tenant", tenant, "--chunk", "2"
    )
    assert imported.returncode == 0, imported.stderr
    assert "3 invited, 0 already invited, 0 already members, 2 rejected." in imported.stdout
    assert "line 4: not-an-email" in imported.stdout  # the file's lines, across chunks
    assert f"line 5: {people[1]}" in imported.stdout
    assert "5/5" in imported.stderr  # the progress bar reached the end
    again = ecoach(
        deployment, home, "members", "import", str(roster), "--tenant", tenant, lang="fr_FR.UTF-8"
    )
    assert "0 invité(s), 3 déjà invité(s)" in again.stdout

    listed = ecoach(deployment, home, "members", "list", "--tenant", tenant)
    assert listed.returncode == 0 and people[0] in listed.stdout and "pending" in listed.stdout
    member_id = next(line.split()[0] for line in listed.stdout.splitlines() if people[2] in line)
    off = ecoach(deployment, home, "members", "deactivate", member_id, "--tenant", tenant)
    assert off.returncode == 0, off.stderr

    link = mailed_link(deployment.var_dir / "mail", admin, "invite")
    weak = ecoach(deployment, tmp_path / "new", "invitations", "accept", link, password="short")
    assert weak.returncode == 1 and "password" in weak.stderr
    accepted = ecoach(
        deployment, tmp_path / "new", "invitations", "accept", link, password="Tall-Cedar-Window-31"
    )
    assert accepted.returncode == 0, accepted.stderr
    assert admin in accepted.stdout
    admin_home = tmp_path / "admin"
    signed = ecoach(
        deployment, admin_home, "login", admin, "--tenant", tenant, password="Tall-Cedar-Window-31"
    )
    assert signed.returncode == 0, signed.stderr
    own = ecoach(deployment, admin_home, "members", "list")  # the session's tenant
    assert own.returncode == 0 and admin in own.stdout
    denied = ecoach(deployment, admin_home, "tenants", "create", "Nope", unique_slug("nope"))
    assert denied.returncode == 1 and "PERMISSION_DENIED" in denied.stderr


def test_the_cli_renews_its_session_while_used_and_logout_ends_it(
    deployment: Deployment, tmp_path: Path
) -> None:
    home = tmp_path / "cli"
    operator = create_operator(deployment.config)
    code = totp_code(deployment.config)
    assert (
        ecoach(deployment, home, "login", operator, password=OPERATOR_PASSWORD, code=code)
    ).returncode == 0
    path = home / "session.json"
    saved = json.loads(path.read_text())
    assert saved["refresh_token"].startswith("rt1.")
    # The access token is as good as expired: the next command renews the pair first.
    path.write_text(json.dumps({**saved, "expires_at": 0}))
    created = ecoach(deployment, home, "tenants", "create", "Renewed Co", unique_slug("renew"))
    assert created.returncode == 0, created.stderr
    renewed = json.loads(path.read_text())
    assert renewed["token"] != saved["token"]
    assert renewed["refresh_token"] != saved["refresh_token"]

    assert ecoach(deployment, home, "logout").returncode == 0
    with deployment.channel() as channel:
        ended = expect_error(
            pb_grpc.AuthServiceStub(channel).Refresh,
            pb.RefreshRequest(refresh_token=renewed["refresh_token"]),
            timeout=10,
        )
    assert ended.reason == "SESSION_ENDED"


def test_totp_prints_the_current_code_of_a_stored_secret(
    deployment: Deployment, tmp_path: Path
) -> None:
    stored = tmp_path / "operator.totp"
    stored.write_text(f"otpauth://totp/ecoach:op?secret={OPERATOR_TOTP_SECRET}&issuer=ecoach\n")
    for args in (("totp", OPERATOR_TOTP_SECRET), ("totp", "--file", str(stored))):
        printed = ecoach(deployment, tmp_path / "cli", *args)
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.strip().isdigit() and len(printed.stdout.strip()) == 6
    bad = ecoach(deployment, tmp_path / "cli", "totp", "not-base32!", lang="fr_FR.UTF-8")
    assert bad.returncode == 2 and "secret" in bad.stderr


def test_someone_the_policy_obliges_enrols_an_authenticator_from_the_command_line(
    deployment: Deployment, api: Api, operator: Session, tmp_path: Path
) -> None:
    team = make_tenant(deployment, api, operator)
    api.tenants.UpdateTenantSettings(
        pb.UpdateTenantSettingsRequest(
            settings=pb.TenantSettings(
                name=settings_name(team.tenant_id), mfa_required_roles=[pb.TENANT_ADMIN]
            ),
            update_mask=FieldMask(paths=["mfa_required_roles"]),
        ),
        metadata=team.admin.metadata,
    )
    email = api.auth.GetMe(pb.GetMeRequest(), metadata=team.admin.metadata).person.email
    env = {**os.environ, "ECOACH_CLI_HOME": str(tmp_path / "cli"), "ECOACH_PASSWORD": PASSWORD}
    env.pop("ECOACH_MFA_CODE", None)
    login = subprocess.Popen(
        [*CLI, "--address", deployment.address, "login", email, "--tenant", team.tenant_id],
        cwd=ROOT,
        env={**env, "LANG": "en_GB.UTF-8", "LC_ALL": ""},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert login.stdout is not None and login.stdin is not None
    shown = login.stdout.readline()  # the secret and URI come first, then the QR code
    secret = re.search(r"secret ([A-Z2-7]{32})", shown)
    assert secret, shown
    login.stdin.write(pyotp.TOTP(secret.group(1)).now() + "\n")
    login.stdin.flush()
    out, err = login.communicate(timeout=60)
    assert login.returncode == 0, err
    assert (
        "recovery codes" in out
        and len(re.findall(r"\b[a-z2-9]{4}(?:-[a-z2-9]{4}){3}\b", out)) == 10
    )
    listed = ecoach(deployment, tmp_path / "cli", "members", "list")  # the session works
    assert listed.returncode == 0 and email in listed.stdout


def dev_call(
    deployment: Deployment, var_dir: Path, method: str, body: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m ecoach_dev.call` as README's Quick start runs it (its own var folder)."""
    env = {
        **os.environ,
        "ECOACH_VAR_DIR": str(var_dir),
        "ECOACH_GATEWAY_ADDRESS": deployment.address,
    }
    return run_module("ecoach_dev.call", method, json.dumps(body or {}), env=env)


def test_the_dev_client_signs_in_again_before_the_code_and_verifies_the_last_challenge(
    deployment: Deployment, tmp_path: Path
) -> None:
    email = create_operator(deployment.config)
    sign_in = {"email": email, "password": OPERATOR_PASSWORD}
    first = dev_call(deployment, tmp_path, "SignIn", sign_in)
    assert first.returncode == 0, first.stderr
    again = dev_call(deployment, tmp_path, "SignIn", sign_in)  # a kept challenge is no SignIn field
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    kept = (tmp_path / "cli-challenge").read_text().strip()
    assert kept == json.loads(again.stdout)["challenge"] != json.loads(first.stdout)["challenge"]
    verified = dev_call(deployment, tmp_path, "VerifyMfa", {"code": totp_code(deployment.config)})
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert not (tmp_path / "cli-challenge").exists()
    me = dev_call(deployment, tmp_path, "GetMe")
    assert me.returncode == 0 and email in me.stdout, me.stdout + me.stderr
    typo = dev_call(deployment, tmp_path, "GetMe", {"nmae": "x"})
    assert typo.returncode == 1 and "Traceback" not in typo.stderr
    assert 'GetMe: Message type "ecoach.v1.GetMeRequest" has no field named "nmae"' in typo.stderr


def test_an_operator_resets_a_persons_authenticator_from_the_command_line(
    deployment: Deployment, api: Api, tmp_path: Path
) -> None:
    home = tmp_path / "cli"
    locked_out = create_operator(deployment.config)  # an authenticator of their own
    before = api.auth.SignIn(pb.SignInRequest(email=locked_out, password=OPERATOR_PASSWORD))
    assert before.next_step == pb.VERIFY_MFA
    operator = create_operator(deployment.config)
    logged = ecoach(
        deployment,
        home,
        "login",
        operator,
        password=OPERATOR_PASSWORD,
        code=totp_code(deployment.config),
    )
    assert logged.returncode == 0, logged.stderr
    reset = ecoach(deployment, home, "people", "reset-mfa", locked_out, lang="fr_FR.UTF-8")
    assert reset.returncode == 0, reset.stderr
    assert f"Application d'authentification de {locked_out} réinitialisée" in reset.stdout
    after = api.auth.SignIn(pb.SignInRequest(email=locked_out, password=OPERATOR_PASSWORD))
    assert after.next_step == pb.ENROL_MFA  # a new authenticator, from the next sign-in
    own = ecoach(deployment, home, "people", "reset-mfa", operator)
    assert own.returncode == 1 and "(PERMISSION_DENIED)" in own.stderr
