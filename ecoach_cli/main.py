"""`ecoach`: the command line for operators and tenant admins, a client of the gRPC gateway.

    ecoach login EMAIL [--tenant ID_OR_SLUG]        the password is asked (or ECOACH_PASSWORD),
                                                     then a code if needed (or ECOACH_MFA_CODE)
    ecoach totp [SECRET | --file FILE]               the current code of an authenticator secret
    ecoach tenants create NAME SLUG                  operators
    ecoach members import FILE.csv [--tenant ID]     with a progress bar and a summary
    ecoach members list [--tenant ID]
    ecoach members deactivate MEMBER_ID [--tenant ID]
    ecoach invitations accept LINK_OR_TOKEN          the password is asked (or ECOACH_PASSWORD)
    ecoach people reset-mfa EMAIL                    operators: reset a person's authenticator
    ecoach modules import FOLDER                     operators: a module's folder into the
                                                     catalogue (docs/content/module-format.md)
    ecoach modules export SLUG FOLDER [--version N]  a catalogue module as a new folder
    ecoach logout

The session (gateway address, access and refresh tokens) is kept in `~/.ecoach/session.json`
(mode 0600; `ECOACH_CLI_HOME` moves it); it is renewed while used, and `logout` ends it on the
server. `--tenant` defaults to the tenant of the session's token. Messages
are in French when `LANG` starts with `fr`, in English otherwise; errors show the gateway's
localized message and each bad field.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from gateway.api.client_errors import call_error
from gateway.api.pb import content_pb2 as cpb
from gateway.api.pb import content_pb2_grpc as cpb_grpc
from gateway.api.pb import identity_pb2 as pb
from gateway.api.pb import identity_pb2_grpc as pb_grpc
from services.kernel.i18n import N_, gettext

DEFAULT_ADDRESS = "127.0.0.1:50051"
CHUNK_ROWS = 200

# What the command line says, by key: msgids of the kernel's catalogue (README, "Translations"),
# said in the terminal's language (LC_ALL, LC_MESSAGES, LANG).
MESSAGES: dict[str, str] = {
    "password": N_("Password: "),
    "new_password": N_("Choose a password (12 characters or more): "),
    "logged_in": N_("Signed in as %(email)s%(tenant)s. The session expires at %(expires)s."),
    "in_tenant": N_(" in tenant %(tenant)s"),
    "logged_out": N_("Signed out."),
    "not_logged_in": N_("Not signed in: run `ecoach login EMAIL` first."),
    "no_tenant": N_("Name the tenant with --tenant (the session has none)."),
    "tenant_created": N_("Tenant %(name)s created: %(tenant_id)s (%(slug)s)."),
    "importing": N_("Importing %(rows)s row(s) into %(tenant)s"),
    "summary": N_(
        "%(added)s invited, %(invited)s already invited, %(members)s already members, "
        "%(rejected)s rejected."
    ),
    "rejected_row": N_("  line %(line)s: %(email)s: %(reason)s"),
    "deactivated": N_("Member %(member_id)s deactivated."),
    "accepted": N_(
        "Invitation accepted: %(email)s is now a member of %(tenant)s. Sign in with "
        "`ecoach login %(email)s --tenant %(tenant)s`."
    ),
    "accepted_existing": N_("Invitation accepted with your existing account %(email)s."),
    "bad_link": N_("This does not look like an invitation link or token."),
    "file_missing": N_("No such file: %(path)s"),
    "folder_missing": N_("No such folder: %(path)s"),
    "not_text": N_("%(path)s is not UTF-8 text."),
    "module_imported": N_("Module %(slug)s version %(version)s imported."),
    "module_exported": N_("Module %(slug)s version %(version)s written to %(path)s."),
    "folder_exists": N_("%(path)s exists already: give a new folder."),
    "module_unchanged": N_(
        "Module %(slug)s version %(version)s is already published: nothing changed."
    ),
    "mfa_code": N_("Code from your authenticator app (or a recovery code): "),
    "mfa_new_code": N_("Code now shown by your authenticator app: "),
    "mfa_enrol": N_(
        "This account must sign in with an authenticator app. Scan this QR code, or enter"
        " the secret %(secret)s (otpauth URI: %(uri)s)."
    ),
    "mfa_recovery": N_(
        "Authenticator enrolled. Keep these one-time recovery codes safe; they are shown only now:"
    ),
    "no_secret": N_("Give the secret (base32), an otpauth:// URI, --file, or ECOACH_TOTP_SECRET."),
    "mfa_reset": N_(
        "Authenticator of %(email)s reset (%(sessions)s session(s) ended): their next "
        "sign-in sets up a new one."
    ),
}
# A member's line in `ecoach members list`: a layout, not words.
MEMBER_ROW = "{member_id}  {status:<11}  {roles:<24}  {email}"


def language() -> str:
    lang = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG", "")
    return "fr" if lang.lower().startswith("fr") else "en"


def t(key: str, **values: Any) -> str:
    return gettext(language(), MESSAGES[key], **values)


class CliError(Exception):
    pass


# ---------------------------------------------------------------- session


@dataclass
class Session:
    address: str
    token: str = ""
    tenant_id: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0  # the access token's expiry, seconds since the epoch

    def signed_in(self, reply: Any) -> None:
        self.token, self.tenant_id = reply.access_token, reply.tenant_id
        self.refresh_token = reply.refresh_token
        self.expires_at = float(reply.expire_time.seconds)

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"), ("accept-language", language()))


def session_path() -> Path:
    home = os.environ.get("ECOACH_CLI_HOME")
    return Path(home) if home else Path.home() / ".ecoach"


def load_session(address: str | None) -> Session:
    path = session_path() / "session.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    return Session(
        address
        or saved.get("address")
        or os.environ.get("ECOACH_GATEWAY_ADDRESS", DEFAULT_ADDRESS),
        saved.get("token", ""),
        saved.get("tenant_id", ""),
        saved.get("refresh_token", ""),
        float(saved.get("expires_at", 0.0)),
    )


def save_session(session: Session) -> None:
    folder = session_path()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "session.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(
            {
                "address": session.address,
                "token": session.token,
                "tenant_id": session.tenant_id,
                "refresh_token": session.refresh_token,
                "expires_at": session.expires_at,
            },
            out,
        )


def ask_password(key: str) -> str:
    return os.environ.get("ECOACH_PASSWORD") or getpass.getpass(t(key))


def ask_code(key: str) -> str:
    return os.environ.get("ECOACH_MFA_CODE") or input(t(key))


# ---------------------------------------------------------------- commands


@dataclass
class Stubs:
    auth: Any
    tenants: Any
    members: Any
    recovery: Any
    content: Any


def stubs(channel: grpc.Channel) -> Stubs:
    return Stubs(
        pb_grpc.AuthServiceStub(channel),
        pb_grpc.TenantServiceStub(channel),
        pb_grpc.MemberServiceStub(channel),
        pb_grpc.AccountRecoveryServiceStub(channel),
        cpb_grpc.ContentServiceStub(channel),
    )


def login(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    lang = (("accept-language", language()),)
    reply = api.auth.SignIn(
        pb.SignInRequest(
            email=args.email, password=ask_password("password"), tenant=args.tenant or ""
        ),
        metadata=lang,
        timeout=30,
    )
    if reply.next_step == pb.VERIFY_MFA:
        reply = api.auth.VerifyMfa(
            pb.VerifyMfaRequest(challenge=reply.challenge, code=ask_code("mfa_code")),
            metadata=lang,
            timeout=30,
        )
    elif reply.next_step == pb.ENROL_MFA:
        reply = enrol(api, reply.challenge, lang)
    session.signed_in(reply)
    save_session(session)
    where = t("in_tenant", tenant=reply.tenant_id) if reply.tenant_id else ""
    print(t("logged_in", email=args.email, tenant=where, expires=reply.expire_time.ToJsonString()))


def enrol(api: Stubs, challenge: str, lang: Any) -> Any:
    """The policy requires an authenticator and there is none yet: set one up here."""
    import segno  # only for this rare path

    setup = api.auth.BeginMfaEnrolment(
        pb.BeginMfaEnrolmentRequest(challenge=challenge), metadata=lang, timeout=30
    )
    print(t("mfa_enrol", secret=setup.secret, uri=setup.otpauth_uri))
    segno.make(setup.otpauth_uri, error="m").terminal(compact=True)
    done = api.auth.CompleteMfaEnrolment(
        pb.CompleteMfaEnrolmentRequest(challenge=challenge, code=ask_code("mfa_new_code")),
        metadata=lang,
        timeout=30,
    )
    print(t("mfa_recovery"))
    for code in done.recovery_codes:
        print(f"  {code}")
    return done.sign_in


def totp(api: Stubs | None, session: Session | None, args: argparse.Namespace) -> None:
    """The current code of a secret kept for demos and scripts (like an authenticator app)."""
    import pyotp

    secret = args.secret or os.environ.get("ECOACH_TOTP_SECRET", "")
    if args.file:
        path = Path(args.file)
        if not path.exists():
            raise CliError(t("file_missing", path=path))
        secret = path.read_text().strip()
    if not secret:
        raise CliError(t("no_secret"))
    try:
        otp = pyotp.parse_uri(secret) if secret.startswith("otpauth://") else pyotp.TOTP(secret)
        print(otp.now())
    except ValueError:  # binascii.Error is one
        raise CliError(t("no_secret")) from None


def logout(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    if session.refresh_token:  # ends the session on the server too
        api.auth.SignOut(pb.SignOutRequest(refresh_token=session.refresh_token), timeout=10)
    session.token, session.tenant_id, session.refresh_token = "", "", ""
    save_session(session)
    print(t("logged_out"))


def renew_if_due(api: Stubs, session: Session, margin: float = 30.0) -> None:
    """Trades the refresh token for a new pair when the access token is (nearly) out, so a
    session lasts as long as it is used. A refused refresh leaves the session for the call to
    fail on (and the person to log in again)."""
    if not session.refresh_token or time.time() < session.expires_at - margin:
        return
    reply = api.auth.Refresh(
        pb.RefreshRequest(refresh_token=session.refresh_token),
        metadata=(("accept-language", language()),),
        timeout=10,
    )
    session.signed_in(reply)
    save_session(session)


def tenant_of(session: Session, args: argparse.Namespace) -> str:
    tenant = getattr(args, "tenant", None) or session.tenant_id
    if not tenant:
        raise CliError(t("no_tenant"))
    return str(tenant)


def create_tenant(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    tenant = api.tenants.CreateTenant(
        pb.CreateTenantRequest(display_name=args.name, slug=args.slug),
        metadata=session.metadata,
        timeout=30,
    )
    print(
        t("tenant_created", name=tenant.display_name, tenant_id=tenant.tenant_id, slug=tenant.slug)
    )


def chunks(data: bytes, size: int) -> Iterator[tuple[bytes, Callable[[int], int], int]]:
    """The file cut into CSVs of `size` rows, each with the header; with each, how to map its
    line numbers back to the file's, and its number of rows. Undecodable files go whole (the
    gateway explains what is wrong)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        yield data, lambda line: line, 0
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    lines = text.splitlines(keepends=True)
    if not lines:
        yield data, lambda line: line, 0
        return
    header = lines[0]
    # Rows as the file's line ranges (a quoted cell may span lines).
    rows: list[tuple[int, int]] = []
    next(reader, None)
    start = reader.line_num + 1
    for _ in reader:
        rows.append((start, reader.line_num))
        start = reader.line_num + 1
    for first in range(0, len(rows), size):
        batch = rows[first : first + size]
        body = header + "".join("".join(lines[a - 1 : b]) for a, b in batch)
        if not body.endswith(("\n", "\r")):
            body += "\n"
        offsets: dict[int, int] = {}  # a line of this chunk -> the file's line
        line = 2
        for a, b in batch:
            offsets[line] = a
            line += b - a + 1

        def original(line: int, offsets: dict[int, int] = offsets) -> int:
            return offsets.get(line, line)

        yield body.encode(), original, len(batch)


def import_members(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    tenant = tenant_of(session, args)
    path = Path(args.file)
    if not path.exists():
        raise CliError(t("file_missing", path=path))
    data = path.read_bytes()
    parts = list(chunks(data, args.chunk))
    total = sum(n for _, _, n in parts) or 1
    print(t("importing", rows=total, tenant=tenant), file=sys.stderr)
    done = added = invited = members = rejected = 0
    problems: list[tuple[int, str, str]] = []
    for body, original, count in parts:
        answer = api.members.ImportMembers(
            pb.ImportMembersRequest(parent=f"tenants/{tenant}", csv=body),
            metadata=session.metadata,
            timeout=120,
        )
        added += answer.added
        invited += answer.already_invited
        members += answer.already_members
        rejected += answer.rejected
        problems += [(original(r.line), r.email, r.reason) for r in answer.rows]
        done += count
        progress(done, total)
    print(file=sys.stderr)
    print(t("summary", added=added, invited=invited, members=members, rejected=rejected))
    for line, email, reason in sorted(problems):
        print(t("rejected_row", line=line, email=email, reason=reason))


def progress(done: int, total: int, width: int = 30) -> None:
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    sys.stderr.flush()


ROLE_NAMES = {pb.TENANT_ADMIN: "tenant_admin", pb.COACH: "coach", pb.COACHEE: "coachee"}


def list_members(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    tenant = tenant_of(session, args)
    token = ""
    while True:
        page = api.members.ListMembers(
            pb.ListMembersRequest(parent=f"tenants/{tenant}", page_size=200, page_token=token),
            metadata=session.metadata,
            timeout=30,
        )
        for m in page.members:
            print(
                MEMBER_ROW.format(
                    member_id=m.member_id,
                    status=pb.MembershipStatus.Name(m.status).lower(),
                    roles=",".join(ROLE_NAMES.get(r, "?") for r in m.roles),
                    email=m.email,
                )
            )
        token = page.next_page_token
        if not token:
            return


def deactivate(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    tenant = tenant_of(session, args)
    api.members.DeactivateMember(
        pb.DeactivateMemberRequest(name=f"tenants/{tenant}/members/{args.member_id}"),
        metadata=session.metadata,
        timeout=30,
    )
    print(t("deactivated", member_id=args.member_id))


def reset_mfa(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    answer = api.recovery.ResetPersonMfa(
        pb.ResetPersonMfaRequest(email=args.email), metadata=session.metadata, timeout=30
    )
    print(t("mfa_reset", email=args.email, sessions=answer.sessions_ended))


def accept(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    token = args.link.rstrip("/").rsplit("/invite/", 1)[-1]
    if not token or "/" in token or len(token) < 16:
        raise CliError(t("bad_link"))
    answer = api.auth.AcceptInvitation(
        pb.AcceptInvitationRequest(token=token, password=ask_password("new_password")),
        metadata=(("accept-language", language()),),
        timeout=30,
    )
    if answer.new_account:
        print(t("accepted", email=answer.email, tenant=answer.tenant_id))
    else:
        print(t("accepted_existing", email=answer.email))


def module_files(folder: Path) -> list[Any]:
    """A module folder's files, by their path in it; hidden entries (.git) are left out and
    symbolic links are sent as such, for the gateway to refuse by name."""
    if not folder.is_dir():
        raise CliError(t("folder_missing", path=folder))
    files = []
    for directory, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(n for n in names if not n.startswith(".")):
            path = Path(directory) / name
            relative = path.relative_to(folder).as_posix()
            text = "" if path.is_symlink() else None
            try:
                text = path.read_bytes().decode("utf-8") if text is None else text
            except UnicodeDecodeError:
                raise CliError(t("not_text", path=relative)) from None
            files.append(cpb.ModuleFile(path=relative, text=text))
    return files


def import_module(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    """A module's folder into the catalogue; each problem is printed as `file:line key: why`."""
    answer = api.content.ImportModule(
        cpb.ImportModuleRequest(files=module_files(Path(args.folder))),
        metadata=session.metadata,
        timeout=60,
    )
    key = "module_imported" if answer.imported else "module_unchanged"
    print(t(key, slug=answer.module.slug, version=answer.module.version))


def export_module(api: Stubs, session: Session, args: argparse.Namespace) -> None:
    """A catalogue module's version as a new folder (nothing is overwritten)."""
    folder = Path(args.folder)
    if folder.exists():
        raise CliError(t("folder_exists", path=folder))
    answer = api.content.ExportModule(
        cpb.GetModuleRequest(slug=args.slug, version=args.version),
        metadata=session.metadata,
        timeout=60,
    )
    for f in answer.files:
        target = folder / f.path
        if not target.resolve().is_relative_to(folder.resolve()):  # never outside the folder
            raise CliError(t("folder_missing", path=f.path))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.text, encoding="utf-8")
    print(t("module_exported", slug=answer.slug, version=answer.version, path=folder))


# ---------------------------------------------------------------- plumbing


def describe(exc: grpc.RpcError) -> str:
    error = call_error(exc)
    head = error.message or error.code.name
    lines = [f"  {name}: {problem}" for name, problem in error.fields]
    return "\n".join([f"ecoach: {head} ({error.code.name})", *lines])


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ecoach", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--address", help=f"the gRPC gateway (default: the session's, or {DEFAULT_ADDRESS})"
    )
    sub = p.add_subparsers(dest="command", required=True)
    one = sub.add_parser("login", help="sign in (the password is asked)")
    one.add_argument("email")
    one.add_argument("--tenant", help="a tenant id or slug; none for operators")
    one.set_defaults(run=login, needs_session=False)
    sub.add_parser("logout", help="forget the session").set_defaults(
        run=logout, needs_session=False
    )
    code = sub.add_parser("totp", help="print the current code of an authenticator secret")
    code.add_argument("secret", nargs="?", default="", help="base32 secret or otpauth:// URI")
    code.add_argument("--file", help="a file holding the secret or URI (the demo seed's)")
    code.set_defaults(run=totp, needs_session=False, offline=True)
    tenants = sub.add_parser("tenants").add_subparsers(dest="what", required=True)
    create = tenants.add_parser("create", help="create a tenant (operators)")
    create.add_argument("name")
    create.add_argument("slug")
    create.set_defaults(run=create_tenant, needs_session=True)
    members = sub.add_parser("members").add_subparsers(dest="what", required=True)
    imp = members.add_parser("import", help="invite people from a CSV file")
    imp.add_argument("file")
    imp.add_argument("--tenant")
    imp.add_argument("--chunk", type=int, default=CHUNK_ROWS, help="rows per call (default 200)")
    imp.set_defaults(run=import_members, needs_session=True)
    lst = members.add_parser("list", help="list a tenant's members")
    lst.add_argument("--tenant")
    lst.set_defaults(run=list_members, needs_session=True)
    off = members.add_parser("deactivate", help="deactivate a member (revokes an invitation)")
    off.add_argument("member_id")
    off.add_argument("--tenant")
    off.set_defaults(run=deactivate, needs_session=True)
    invitations = sub.add_parser("invitations").add_subparsers(dest="what", required=True)
    acc = invitations.add_parser("accept", help="accept an invitation link")
    acc.add_argument("link", help="the link from the email, or its token")
    acc.set_defaults(run=accept, needs_session=False)
    people = sub.add_parser("people").add_subparsers(dest="what", required=True)
    reset = people.add_parser(
        "reset-mfa", help="reset a person's authenticator: they enrol anew (operators)"
    )
    reset.add_argument("email")
    reset.set_defaults(run=reset_mfa, needs_session=True)
    modules = sub.add_parser("modules").add_subparsers(dest="what", required=True)
    mod = modules.add_parser(
        "import", help="import a module's folder into the catalogue (operators)"
    )
    mod.add_argument("folder")
    mod.set_defaults(run=import_module, needs_session=True)
    out = modules.add_parser(
        "export", help="write a catalogue module's version as a new folder (to edit, keep in git)"
    )
    out.add_argument("slug")
    out.add_argument("folder")
    out.add_argument("--version", type=int, default=0, help="the version (default: the latest)")
    out.set_defaults(run=export_module, needs_session=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "offline", False):  # no gateway needed
        try:
            args.run(None, None, args)
        except CliError as exc:
            print(f"ecoach: {exc}", file=sys.stderr)
            return 2
        return 0
    session = load_session(args.address)
    if args.needs_session and not session.token:
        print(t("not_logged_in"), file=sys.stderr)
        return 2
    with grpc.insecure_channel(session.address) as channel:
        try:
            api = stubs(channel)
            if args.needs_session:
                renew_if_due(api, session)
            args.run(api, session, args)
        except grpc.RpcError as exc:
            print(describe(exc), file=sys.stderr)
            return 1
        except CliError as exc:
            print(f"ecoach: {exc}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
