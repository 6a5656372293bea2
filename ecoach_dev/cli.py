"""`ecoach-dev`: the set-up steps behind `make run` and `make test`.

python -m ecoach_dev setup        broker, database, keys, migrations, demo data (idempotent)
python -m ecoach_dev migrate      every service's migrations (creates its database if missing)
python -m ecoach_dev seed         the demo tenant and accounts, once
python -m ecoach_dev banner       where to connect, with ready-to-paste calls
python -m ecoach_dev deploy-secrets <folder> [--keda]
                                  the secret files deploy/ mounts (keys, broker users), once
"""

from __future__ import annotations

import argparse
import importlib
import json
import secrets
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from services.contracts.base import OPERATOR_TOOL
from services.kernel import registry
from services.kernel.config import Settings, settings
from services.kernel.crypto import create_master_key_file
from services.kernel.personal_data import completion_event, personal_data_services
from services.kernel.runtime.migrations import declare_events, grant_service_user, upgrade
from services.kernel.runtime.topology import Grants, Subscription, grants_for, subscriptions_of
from services.kernel.tokens import load_or_create_service_key

from . import broker, pg

# Every service with a database, in dependency order: the kernel's registry
# (services/kernel/registry.py), where a new service adds itself.
SERVICES = registry.SERVICE_NAMES
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ServiceSpec:
    """Where a nameko service lives: its module (run by the kernel's runner) and migrations."""

    name: str
    module: str
    migrations: Path

    def service_class(self) -> type:
        with warnings.catch_warnings():
            # eventlet warns on import that it is in bugfix-only mode (see the architecture).
            warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
            module = importlib.import_module(self.module)
        for value in vars(module).values():
            if isinstance(value, type) and getattr(value, "name", None) == self.name:
                return value
        raise LookupError(f"{self.module} defines no nameko service named {self.name}")


def spec(name: str) -> ServiceSpec:
    """The registered service `name`'s spec (a test's extra service builds its own)."""
    return ServiceSpec(name, registry.service(name).module, ROOT / "services" / name / "migrations")


def migrate_service(service: ServiceSpec, config: Settings) -> list[str]:
    """The migration step of one service: its database (and its own database user, with
    ECOACH_DATABASE_USERS), then its broker topology."""
    upgrade(service.name, config, service.migrations)
    if config.database_users:
        creds = database_credentials(
            config.database_credentials_path(service.name), config.database_name(service.name)
        )
        grant_service_user(config, service.name, creds["user"], creds["password"])
    return declare_events(service.service_class(), config)


def database_credentials(path: Path, user: str) -> dict[str, str]:
    """`<keys>/<service>.database`: the service's database user and a random password,
    generated once (mode 0600) and read afterwards, like each process's `.amqp`."""
    if path.exists():
        return dict(json.loads(path.read_text()))
    path.parent.mkdir(parents=True, exist_ok=True)
    creds = {"user": user, "password": secrets.token_urlsafe(32)}
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(creds))
    tmp.replace(path)
    return creds


# The processes that connect to the broker besides the services (the web gateway does not).
BROKER_CLIENTS = ("gateway",)

# KEDA's user on Kubernetes (deploy/k8s/components/keda): it reads the services' RPC queue
# lengths with a passive queue.declare, which RabbitMQ allows without any permission, so it gets
# none (configure, write and read match nothing, no topic permission). Made by the migration
# only where `<keys>/scaler.amqp` exists (`deploy-secrets --keda`), so nowhere else.
QUEUE_SCALER = "scaler"
NO_GRANTS = Grants(configure="^$", write="^$", read="^$", topics={})


def subscriptions(service: ServiceSpec, config: Settings) -> list[Subscription]:
    """The event handlers `service` runs with under `config`. Identity's handlers of the other
    personal-data services' `<service>.person_erased` depend on
    ECOACH_EXTRA_PERSONAL_DATA_SERVICES, which its module reads when imported (with this
    process's settings, which may not be `config`'s: a test deployment's)."""
    found = set(subscriptions_of(service.service_class()))
    if service.name == "identity":
        found |= {
            Subscription(service.name, completion_event(other).TYPE, f"on_{other}_person_erased")
            for other in personal_data_services(config)
            if other != service.name
        }
    return sorted(found, key=lambda sub: sub.queue)


def broker_grants(config: Settings, services: Iterable[ServiceSpec]) -> dict[str, Grants]:
    """Each process's broker permissions: every service's, then the gateway's."""
    grants = {s.name: grants_for(s.name, subscriptions(s, config), service=True) for s in services}
    grants.update({name: grants_for(name, (), service=False) for name in BROKER_CLIENTS})
    if (config.keys_path / f"{QUEUE_SCALER}.amqp").exists():
        grants[QUEUE_SCALER] = NO_GRANTS
    return grants


def ensure_broker_users(config: Settings, services: Iterable[ServiceSpec]) -> None:
    """Each process's own broker user (the broker is a trust boundary: README, Events)."""
    grants = broker_grants(config, services)
    broker.ensure_process_users(config.amqp_uri, config.keys_path, grants)


# Every process that signs service tokens: each service, and the gateway.
KEY_OWNERS = (*SERVICES, "gateway")
# And the operator's tool, `ecoach-ops`, which is no process of the deployment: the services
# accept its tokens on the methods that name it (ADR 0022), so its public half must be in the
# key folder before they start.
TOOL_KEY_OWNERS = (OPERATOR_TOOL,)


def ensure_keys(config: Settings) -> None:
    for owner in (*KEY_OWNERS, *TOOL_KEY_OWNERS):
        load_or_create_service_key(config.keys_path, owner)
    # Outside production a master key file is created; production sets ECOACH_MASTER_KEY (or
    # provides the file) itself, and never keeps it beside the database.
    if not config.master_key and config.env != "production":
        create_master_key_file(config.master_key_path)
    # The web gateway's cookie key: the same kind of random 32 bytes, in a file of its own.
    if not config.web_session_key and config.env != "production":
        create_master_key_file(config.web_session_key_path)


def migrate(config: Settings) -> None:
    for service in SERVICES:
        removed = migrate_service(spec(service), config)
        print(
            f"ecoach: {service} migrated (database {config.database_name(service)}, "
            "event queues declared)"
        )
        for queue in removed:
            print(f"ecoach: {service}: deleted the queue {queue}, which no handler uses any more")
    services = [spec(service) for service in SERVICES]
    ensure_broker_users(config, services)
    print(f"ecoach: broker users of {', '.join(broker_grants(config, services))} up to date")


def seed(config: Settings) -> None:
    from services.identity.seed import DemoRefused, seed_demo

    try:
        tenant, created = seed_demo(config)
    except DemoRefused as exc:
        raise SystemExit(f"ecoach: {exc}") from None
    print(
        f"ecoach: demo tenant {tenant.name} ({tenant.slug}, {tenant.id}) "
        + ("created" if created else "already there; nothing changed")
    )


def rewrap(config: Settings) -> None:
    """After setting a new ECOACH_MASTER_KEY with the old one in ECOACH_MASTER_KEY_PREVIOUS:
    every sealed value of every service wrapped again under the new key (services keep running:
    they read either key meanwhile). Then ECOACH_MASTER_KEY_PREVIOUS can be removed."""
    from services.kernel.crypto import master_key_from
    from services.kernel.runtime.sql import make_engine

    master = master_key_from(config)
    for name, step in rewrap_steps().items():
        engine = make_engine(config.database_owner_url_for(name), pool_size=1)
        try:
            with engine.begin() as conn:
                changed = step(conn, master)
        finally:
            engine.dispose()
        print(f"ecoach: {name}: {changed} sealed value(s) wrapped under the new master key")


def rewrap_steps() -> dict[str, Callable[..., int]]:
    """Each registered service's re-wrap step (`Service.rewrap`), for those that seal values."""
    steps = {}
    for registered in registry.SERVICES:
        if registered.rewrap is not None:
            module, _, function = registered.rewrap.partition(":")
            steps[registered.name] = getattr(importlib.import_module(module), function)
    return steps


def setup(config: Settings, *, management: bool = False, seed_demo: bool = True) -> None:
    config.var_dir.mkdir(parents=True, exist_ok=True)
    # The migration step applies the queue length policy through the management API.
    broker.ensure_broker(config.amqp_uri, management=True)
    if config.database_url:
        print("ecoach: using ECOACH_DATABASE_URL")
    else:
        pg.start_embedded(config.var_dir)
        print(f"ecoach: embedded PostgreSQL under {config.var_dir / 'pg'}")
    ensure_keys(config)
    migrate(config)
    if seed_demo and config.env != "production":
        seed(config)


def banner(config: Settings) -> None:
    from services.identity.seed import DEMO_ACCOUNTS, DEMO_COHORT, DEMO_TENANT_SLUG

    addr = config.gateway_address
    op = DEMO_ACCOUNTS[0]
    # Commands pasted into another terminal, whose environment may not name this gateway.
    at = "" if addr == Settings.model_fields["gateway_address"].default else f" --address {addr}"
    call = f".venv/bin/python -m ecoach_dev.call{at}"
    sign_in = json.dumps({"email": op.email, "password": op.password})
    lines = [
        "",
        "=" * 78,
        f" ecoach is running. gRPC gateway: {addr} (reflection on, package ecoach.v1)",
        f" Web app: open http://{config.web_address}/ in a browser and sign in with a demo account"
        f" (links in emails: ECOACH_PUBLIC_URL, {config.public_url})",
        f" HTTP/JSON API: POST http://{config.web_address}/api/v1/ecoach.v1.AuthService/SignIn ..."
        f" (OpenAPI: http://{config.web_address}/api/v1/openapi.json, docs/api/README.md)",
        "=" * 78,
        " Demo accounts (development only), for the web app and the API:",
    ]
    for a in DEMO_ACCOUNTS:
        where = "no tenant: operator" if a.role is None else f"tenant '{DEMO_TENANT_SLUG}'"
        lines.append(f"   {a.label:<9} {a.email:<22} {a.password:<22} {where}")
    first, last = DEMO_COHORT[0], DEMO_COHORT[-1]
    lines.append(
        f"   and {len(DEMO_COHORT)} more coachees for HR's reports: {first.email} to {last.email},"
        f" {first.password}"
    )
    from services.identity.seed import operator_totp_file

    totp_file = operator_totp_file(config)
    code = f"$(.venv/bin/python -m ecoach_cli totp --file {totp_file})"
    lines += [
        "",
        " The operator signs in with an authenticator too: scan this otpauth URI into one",
        f" (it is kept in {totp_file}), or let `ecoach totp` show the current code:",
        f"   {totp_file.read_text().strip() if totp_file.exists() else '(run make run once)'}",
        "",
        " Try it from another terminal, in this folder (the token is kept in var/cli-token):",
        f"   {call} SignIn '{sign_in}'",
        f"   {call} VerifyMfa " + '"{\\"code\\": \\"' + code + '\\"}"',
        f"""   {call} CreateTenant '{{"display_name": "Globex", "slug": "globex"}}'""",
        f"""   {call} AddMember '{{"parent": "tenants/<tenant_id>", "email": "hr@globex.test", """
        """"roles": ["TENANT_ADMIN"], "display_name": "Globex HR"}'""",
        f"""   {call} ListMembers '{{"parent": "tenants/<tenant_id>"}}'""",
        f" The invitation is mailed as a file under {config.mail_path}/ (no SMTP server in",
        " development); its link ends in /invite/<token>. Accept it with:",
        f"""   {call} AcceptInvitation '{{"token": "<token>", "password": "a long passphrase"}}'""",
        "",
        f" Or the command line (it asks for the password, {op.password}):",
        f"   ECOACH_MFA_CODE={code} .venv/bin/python -m ecoach_cli{at} login {op.email}",
        "",
        " SignIn as a grpc-requests one-liner:",
        """   .venv/bin/python -c "from grpc_requests import Client; """
        f"""print(Client.get_by_endpoint('{addr}').request('ecoach.v1.AuthService', 'SignIn', """
        f"""{{'email': '{op.email}', 'password': '{op.password}'}}))\"""",
        "",
        " With grpcurl, if you have it (then VerifyMfa with the challenge and a code):",
        f"   grpcurl -plaintext -d '{sign_in}' {addr} ecoach.v1.AuthService/SignIn",
        f"""   grpcurl -plaintext -H "authorization: Bearer $TOKEN" """
        f"""-d '{{"display_name": "Globex", "slug": "globex"}}' {addr} """
        "ecoach.v1.TenantService/CreateTenant",
        "",
        " Ctrl-C stops everything, the database last.",
        "=" * 78,
        "",
    ]
    print("\n".join(lines), flush=True)


def deploy_secrets(folder: Path, *, keda: bool = False) -> list[Path]:
    """The secret files of a deployment under deploy/ (docs/operations/deploy.md), created where
    missing and never replaced: `keys/` (each key owner's Ed25519 pair, each broker client's
    `<process>.amqp`, user `ecoach-<process>` in the default virtual host; each service's
    `<service>.database`, user `<ECOACH_DATABASE_PREFIX>_<service>`), `master.key` and
    `web-session.key` (base64, 32 bytes); with `keda`, also KEDA's broker user
    (`keys/scaler.amqp`). Returns the files created."""
    keys = folder / "keys"
    before = set(folder.rglob("*"))
    for owner in (*KEY_OWNERS, *TOOL_KEY_OWNERS):
        load_or_create_service_key(keys, owner)
    for process in (*SERVICES, *BROKER_CLIENTS, *((QUEUE_SCALER,) if keda else ())):
        broker.process_credentials("amqp://localhost/", keys, process)
    config = Settings(keys_dir=keys)
    for service in SERVICES:
        database_credentials(
            config.database_credentials_path(service), config.database_name(service)
        )
    create_master_key_file(folder / "master.key")
    create_master_key_file(folder / "web-session.key")
    return sorted(p for p in set(folder.rglob("*")) - before if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecoach-dev")
    sub = parser.add_subparsers(dest="command", required=True)
    p_setup = sub.add_parser("setup")
    p_setup.add_argument(
        "--management", action="store_true", help="also the broker's management API"
    )
    p_setup.add_argument("--no-seed", action="store_true")
    sub.add_parser("migrate")
    sub.add_parser("seed")
    sub.add_parser("keys")
    sub.add_parser("banner")
    sub.add_parser("rewrap", help="wrap every sealed value under the new master key")
    p_secrets = sub.add_parser("deploy-secrets", help="the secret files deploy/ mounts")
    p_secrets.add_argument("folder", type=Path)
    p_secrets.add_argument(
        "--keda", action="store_true", help="also KEDA's broker user (keys/scaler.amqp)"
    )
    args = parser.parse_args(argv)
    if args.command == "deploy-secrets":
        for created in deploy_secrets(args.folder, keda=args.keda):
            print(f"ecoach: created {created}")
        return 0
    config = settings()
    if args.command == "setup":
        setup(config, management=args.management, seed_demo=not args.no_seed)
    elif args.command == "migrate":
        migrate(config)
    elif args.command == "seed":
        seed(config)
    elif args.command == "keys":
        ensure_keys(config)
    elif args.command == "rewrap":
        rewrap(config)
    elif args.command == "banner":
        banner(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
