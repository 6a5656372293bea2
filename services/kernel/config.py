"""Configuration from environment variables, one place for all of them.

Every variable is `ECOACH_<FIELD>` and is documented in the README with its default. Processes read
it once through `settings()`; tests build their own `Settings(...)`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECOACH_", extra="ignore")

    env: Environment = "development"
    var_dir: Path = Path("var")
    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672/"
    # A PostgreSQL server URL. Each service uses its own database on it, named
    # `<database_prefix>_<service>`. Unset: the embedded PostgreSQL under var/pg.
    database_url: str | None = None
    database_prefix: str = "ecoach"
    # On: each service connects as its own database user (least privilege), named and with the
    # password of `<keys>/<service>.database`, which the migration step creates with rights on
    # that service's tables only; ECOACH_DATABASE_URL's user is then the migration's (the
    # databases' owner). Off (the laptop's default): every process uses ECOACH_DATABASE_URL's user.
    database_users: bool = False
    # nameko workers per service instance; the database pool is sized from it.
    service_workers: int = Field(default=16, ge=1, le=512)
    token_issuer: str = "ecoach-identity"  # noqa: S105 - a name, not a secret
    token_audience: str = "ecoach"  # noqa: S105 - a name, not a secret
    access_token_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    service_token_ttl_seconds: int = Field(default=300, ge=30, le=900)
    # A refresh token lives this long unused; each use gives a new one (so a session that is
    # used stays signed in). A used token presented again after the grace revokes its family.
    refresh_token_ttl_days: int = Field(default=14, ge=1, le=90)
    refresh_reuse_grace_seconds: float = Field(default=10.0, ge=0, le=60)
    # Every process fetches identity's public signing keys again this often, so a key retired
    # early (compromised) stops verifying everywhere within it.
    # Sign-in throttling: failures allowed per (account, source address), then per account
    # from any source, within 15 minutes before each further attempt waits (doubling).
    sign_in_free_failures: int = Field(default=5, ge=1, le=100)
    sign_in_account_free_failures: int = Field(default=20, ge=1, le=1000)
    # argon2id for passwords (at least OWASP's minimum), and how many hashes one identity
    # process computes at once (the rest wait their turn, so reads keep a core: 0 means the
    # machine's cores minus one, at least one).
    argon2_memory_kib: int = Field(default=19 * 1024, ge=19 * 1024, le=4 * 1024 * 1024)
    argon2_time_cost: int = Field(default=2, ge=2, le=20)
    password_hash_concurrency: int = Field(default=0, ge=0, le=256)
    # Proxies (IPs or CIDRs, comma-separated) whose x-forwarded-for the gateway believes.
    trusted_proxies: str = ""
    signing_keys_refresh_seconds: float = Field(default=60.0, ge=0.5, le=3600)
    # Services deployed beside the platform's own that keep personal data (comma-separated):
    # exports include them and erasures wait for them (docs/personal-data.md).
    extra_personal_data_services: str = ""
    # Folder of each service's Ed25519 key pair (`<service>.key`, `<service>.pub`). The public
    # halves are the deployment's configuration; a service only ever reads its own private key.
    keys_dir: Path | None = None
    gateway_address: str = "127.0.0.1:50051"
    web_address: str = "127.0.0.1:8080"
    gateway_threads: int = Field(default=64, ge=1, le=1024)
    # Deadline applied when a gRPC client sets none, and the ceiling on any client's deadline.
    rpc_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    health_probe_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    health_interval_seconds: float = Field(default=2.0, gt=0, le=300)
    log_level: str = "INFO"
    # Prometheus metrics (docs/operations/metrics.md): the port this process serves /metrics on,
    # 0 for none. One port per process: every process on a host needs its own (containers and
    # pods each have theirs). The address it listens on: 0.0.0.0 in a container.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    # OpenTelemetry traces (docs/operations/tracing.md): the OTLP/HTTP collector's base URL
    # (`http://collector:4318`; spans go to its /v1/traces), empty for no tracing at all; and
    # the share of the traces started here that are kept (a continued trace follows its caller).
    otlp_endpoint: str = ""
    trace_sample_ratio: float = Field(default=1.0, ge=0, le=1)
    # The master key (base64, 32 bytes); unset: the file <keys dir>/master.key.
    master_key: str | None = None
    # During a master-key rotation only: the previous master key (base64), still accepted to
    # unwrap until `python -m ecoach_dev.cli rewrap` has wrapped everything under the new one.
    master_key_previous: str | None = None
    # The web gateway's session cookies are encrypted with this key (base64, 32 bytes); unset:
    # the file <keys dir>/web-session.key, which set-up creates outside production.
    web_session_key: str | None = None
    # Links in emails point here (the web gateway's public address).
    public_url: str = "http://127.0.0.1:8080"
    # Outgoing mail: smtp://[user:password@]host:port (smtps:// for TLS, ?starttls=1). Unset:
    # mails are written as .eml files under mail_dir (refused in production).
    smtp_url: str | None = None
    mail_from: str = "ecoach <no-reply@ecoach.localhost>"
    mail_dir: Path | None = None
    password_reset_ttl_minutes: int = Field(default=60, ge=5, le=1440)
    invitation_ttl_days: int = Field(default=14, ge=1, le=90)
    # Video rooms for tenants that set no provider of their own: `jitsi_public` (the public
    # Jitsi server below, without tokens: anyone who knows a room's name may enter) or `none`
    # (no rooms until the tenant's admins set a provider). Unset: `jitsi_public` outside
    # production, `none` in production, where scheduling refuses to start with `jitsi_public`.
    video_default_provider: Literal["jitsi_public", "none"] | None = None
    video_public_jitsi_url: str = "https://meet.jit.si"
    # How often each scheduling instance looks for reminders due (at most once each anyway).
    reminder_sweep_seconds: float = Field(default=30.0, gt=0, le=3600)
    # How often each spaces instance unlocks the tools whose date came and sends the mails of
    # unlocks (each at most once anyway, ADR 0018).
    toolbox_sweep_seconds: float = Field(default=60.0, gt=0, le=3600)
    # How often each content instance checks a batch of the library's links (unchecked ones
    # first, then those checked longest ago), and after how long a link is checked again.
    link_check_sweep_seconds: float = Field(default=60.0, gt=0, le=86_400)
    link_recheck_days: int = Field(default=7, ge=1, le=365)
    # How often reporting publishes each subscribed tenant's digest (webhooks and the public
    # event, once per tenant and period whatever the number of instances: ADR 0023's addendum),
    # and how often it sends the webhook deliveries that are due.
    reporting_digest_seconds: float = Field(default=86_400.0, gt=0, le=31 * 86_400)
    webhook_delivery_seconds: float = Field(default=5.0, gt=0, le=3600)
    # How often each content instance pushes a batch of pending xAPI statements to the LRS.
    xapi_push_seconds: float = Field(default=30.0, gt=0, le=86_400)
    # Calendar feed requests the web gateway serves an hour, per feed and per client address.
    feed_requests_per_hour: int = Field(default=60, ge=1, le=100_000)
    feed_requests_per_address_hour: int = Field(default=600, ge=1, le=1_000_000)
    # Events (rule 4). The relay's own broker connection; unset: amqp_uri.
    events_amqp_uri: str | None = None
    relay_poll_seconds: float = Field(default=0.5, gt=0, le=60)
    relay_batch_size: int = Field(default=200, ge=1, le=10_000)
    relay_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    relay_confirm_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    outbox_retention_hours: float = Field(default=72.0, ge=0)
    inbox_retention_days: float = Field(default=30.0, gt=0)
    handler_retries: int = Field(default=5, ge=0, le=20)
    retry_base_seconds: float = Field(default=1.0, gt=0, le=3600)
    queue_max_length: int = Field(default=100_000, ge=1)

    @model_validator(mode="after")
    def _production_is_encrypted(self) -> Settings:
        """Production talks to the broker over TLS only (the broker is a trust boundary: RPC
        bodies carry passwords and tokens), and its emailed links are https."""
        if self.env == "production":
            for name, uri in (
                ("amqp_uri", self.amqp_uri),
                ("events_amqp_uri", self.events_amqp_uri),
            ):
                if uri is not None and urlsplit(uri).scheme != "amqps":
                    raise ValueError(f"ECOACH_{name.upper()} must be an amqps:// URI in production")
            if urlsplit(self.public_url).scheme != "https":
                raise ValueError("ECOACH_PUBLIC_URL must be an https:// URL in production")
        return self

    @property
    def video_fallback(self) -> str:
        """The video provider of tenants that set none (`jitsi_public` or `none`)."""
        if self.video_default_provider is not None:
            return self.video_default_provider
        return "none" if self.env == "production" else "jitsi_public"

    @property
    def keys_path(self) -> Path:
        return self.keys_dir or self.var_dir / "keys"

    @property
    def web_session_key_path(self) -> Path:
        return self.keys_path / "web-session.key"

    def broker_credentials_path(self, process: str) -> Path:
        """`<keys>/<process>.amqp`: the process's own broker user and password (JSON, mode
        0600), written by set-up; the process connects as that user."""
        return self.keys_path / f"{process}.amqp"

    def broker_uri(self, process: str, uri: str | None = None) -> str:
        """The broker URI `process` connects with: `uri` (default ECOACH_AMQP_URI) with the user
        and password of its credentials file when there is one (then `uri` need carry only the
        host, port and virtual host), else `uri` as it is."""
        base = uri or self.amqp_uri
        path = self.broker_credentials_path(process)
        if not path.exists():
            return base
        creds = json.loads(path.read_text())
        parts = urlsplit(base)
        host = parts.netloc.rsplit("@", 1)[-1]
        login = f"{quote(creds['user'], safe='')}:{quote(creds['password'], safe='')}"
        return urlunsplit((parts.scheme, f"{login}@{host}", parts.path, parts.query, ""))

    @property
    def master_key_path(self) -> Path:
        return self.keys_path / "master.key"

    @property
    def mail_path(self) -> Path:
        return self.mail_dir or self.var_dir / "mail"

    @property
    def test_clock_path(self) -> Path:
        return self.var_dir / "test-clock"

    @property
    def embedded_database_url_file(self) -> Path:
        return self.var_dir / "pg.url"

    def server_url(self) -> str:
        """The PostgreSQL server URL: ECOACH_DATABASE_URL, or the embedded server's."""
        if self.database_url:
            return self.database_url
        path = self.embedded_database_url_file
        if path.exists():
            return path.read_text().strip()
        raise RuntimeError(
            "No database: set ECOACH_DATABASE_URL, or start the embedded PostgreSQL "
            "with `make run` (it writes var/pg.url)."
        )

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}_{service}"

    def database_credentials_path(self, service: str) -> Path:
        """`<keys>/<service>.database`: the service's database user and password (JSON, mode
        0600), written by set-up or `deploy-secrets`; used when ECOACH_DATABASE_USERS is on."""
        return self.keys_path / f"{service}.database"

    def database_owner_url_for(self, service: str) -> str:
        """The service's database as ECOACH_DATABASE_URL's user: the migration step's URL."""
        return with_database(self.server_url(), self.database_name(service))

    def database_url_for(self, service: str) -> str:
        """The URL the service's process connects with: its own user's when ECOACH_DATABASE_USERS
        is on (the server's URL need then carry no user), else the owner's."""
        url = self.database_owner_url_for(service)
        if not self.database_users:
            return url
        path = self.database_credentials_path(service)
        if not path.exists():
            raise RuntimeError(
                f"ECOACH_DATABASE_USERS is on but {path} is missing: mount the service's "
                "database user there (docs/operations/deploy.md), or run the migration step, "
                "which creates it on a laptop"
            )
        return with_user(url, json.loads(path.read_text()))


def with_database(url: str, database: str) -> str:
    """The same server URL naming another database (query string, e.g. a socket host, kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def with_user(url: str, credentials: dict[str, str]) -> str:
    """The same URL logging in as `credentials` (`user`, `password`) instead of its own user."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    login = f"{quote(credentials['user'], safe='')}:{quote(credentials['password'], safe='')}"
    return urlunsplit((parts.scheme, f"{login}@{host}", parts.path, parts.query, parts.fragment))


@functools.cache
def settings() -> Settings:
    return Settings()
