"""One Settings object, built once (from the environment with the CABINET_ prefix) and passed in.

Nothing in cabinet reads the environment at import time: ``Settings()`` is called by the CLI or by tests.
"""

from __future__ import annotations

import os
import secrets
import socket
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FILE_NAME = "secret_key"


class ConfigurationError(RuntimeError):
    """The settings cannot describe a working service (message says what to change)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CABINET_", extra="ignore")

    # --- storage ---------------------------------------------------------------------------------
    data_dir: Path = Field(default=Path("./var"), description="Local data directory (SQLite file, blobs, secret).")
    database_url: str | None = Field(
        default=None,
        description="sqlite:///path or postgresql://user@host:port/db; default: SQLite file in the data dir.",
    )
    redis_url: str | None = Field(default=None, description="redis://host:port/db; unset = in-process limiter.")
    redis_key_prefix: str = Field(default="cabinet", description="Prefix of every Redis key cabinet writes.")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret (JWT signing, sealing). Embedded profile: generated once into the data dir.",
    )
    db_pool_size: int = Field(default=20, ge=1, le=200)
    database_schema: str | None = Field(
        default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="PostgreSQL schema for cabinet's tables."
    )

    # --- identity ----------------------------------------------------------------------------------
    env_name: str = Field(default="local", pattern=r"^\S{2,256}$", description="`env` in tracedata.")
    pod_name: str | None = Field(default=None, description="`pod` in tracedata; default: hostname-pid.")
    jwt_algorithm: Literal["HS256"] = "HS256"
    access_token_max_ttl_seconds: int = Field(default=31_556_926, ge=60)
    argon2_time_cost: int = Field(default=2, ge=2, description="OWASP minimum: t=2 with m=19 MiB, p=1.")
    argon2_memory_kib: int = Field(default=19_456, ge=19_456)
    argon2_parallelism: int = Field(default=1, ge=1)
    password_hash_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 2) - 1),
        ge=1,
        description="Password hashes computed at once (threads); the rest wait, the event loop never does.",
    )
    password_hash_share_under_load: float = Field(
        default=0.4,
        gt=0,
        le=1,
        description="While other requests are in flight, the share of time each hashing thread may hash.",
    )
    login_failures_per_username: str = Field(default="10/15 minutes", description="Failed logins per username.")
    login_failures_per_ip: str = Field(default="50/15 minutes", description="Failed logins per client address.")

    # --- metering --------------------------------------------------------------------------------------
    metering_enabled: bool = Field(default=True, description="Audit, quotas and usage for every declared operation.")
    audit_flush_interval_seconds: float = Field(default=0.5, gt=0, le=60, description="Batch period of read audits.")
    audit_batch_size: int = Field(default=500, ge=1, le=100_000)
    payload_retention_days: int = Field(default=90, ge=1, description="Stored request/response data kept this long.")
    data_day_points_limit: int = Field(default=10_000, ge=0, description="Default Data API points per company/day.")
    data_minute_points_limit: int = Field(default=300, ge=0, description="Default Data API points per company/minute.")
    max_stored_payload_bytes: int = Field(default=10_485_760, ge=0, description="Larger responses are not kept.")

    # --- contractor area ---------------------------------------------------------------------------
    field_link_ttl_seconds: int = Field(
        default=7 * 86_400, ge=60, le=366 * 86_400, description="Lifetime of a field employee's link (templink)."
    )
    attachment_max_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, le=2**40, description="Largest task attachment (checked while it streams)."
    )
    attachment_max_pixels: int = Field(
        default=40_000_000, ge=1, le=1_000_000_000, description="Largest image attachment, width x height."
    )
    field_geofence_meters: int = Field(
        default=500, ge=1, le=1_000_000, description="A check-in farther than this from the service object is marked."
    )
    webhook_allow_private_networks: bool = Field(
        default=False,
        description="Let webhook endpoints be on loopback, private or link-local addresses (on-premises, tests).",
    )
    api_key_max_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="Longest lifetime of a new API key, in days (a permanent key asked for gets this end); unset: "
        "no cap.",
    )
    idempotency_retention_days: int = Field(
        default=7, ge=7, le=366, description="How long the answer to a request with an Idempotency-Key is kept."
    )

    # --- HTTP ---------------------------------------------------------------------------------------
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest JSON request body accepted.")
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Reverse proxies (comma-separated addresses or CIDRs) whose X-Forwarded-For/-Proto are believed; "
        "unset: none (the TCP peer is the client).",
    )
    log_level: str = "INFO"
    log_json: bool = True

    # --- web pages (/ui) ----------------------------------------------------------------------------
    web_cookie_secure: bool = Field(
        default=True,
        description="The web session cookie is sent over HTTPS only; false only for plain-http loopback setups.",
    )
    web_session_hours: int = Field(
        default=12, ge=1, le=720, description="Lifetime of a web session (its cookie and the token inside)."
    )
    default_locale: Literal["ru", "en"] = Field(
        default="ru",
        description="Language of the pages when neither the person, nor the language switch, nor the browser "
        "chooses one; also a new company's `locale`.",
    )
    default_timezone: str = Field(
        default="Europe/Moscow", description="A new company's IANA `timezone` (also the pages' when none is known)."
    )
    default_currency: str = Field(
        default="RUB", pattern=r"^[A-Z]{3}$", description="A new company's `currency` (ISO 4217 code)."
    )
    brand_name: str = Field(
        default="cabinet",
        min_length=1,
        max_length=64,
        description="The product name the pages show (menu, window titles, the field page's app name).",
    )
    brand_logo_path: Path | None = Field(
        default=None,
        description="A PNG, SVG, JPEG or WebP file shown beside the name in the pages' menu; unset: the name alone.",
    )

    @field_validator("database_url", "redis_url", "database_schema", "forwarded_allow_ips", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("default_timezone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"not an IANA time zone: {value!r}") from exc
        return value

    # --- derived -----------------------------------------------------------------------------------
    @property
    def is_embedded(self) -> bool:
        return self.async_database_url.startswith("sqlite")

    @cached_property
    def async_database_url(self) -> str:
        return to_async_url(self.database_url or f"sqlite:///{(self.data_dir / 'cabinet.sqlite3').resolve()}")

    @cached_property
    def pod(self) -> str:
        return self.pod_name or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def scratch_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def secret_file(self) -> Path:
        """Where the embedded profile keeps its generated server secret (when CABINET_SECRET_KEY is not set)."""
        return self.data_dir / SECRET_FILE_NAME

    def check_secret(self) -> None:
        """Refuse a server secret that cannot work (too short; none with PostgreSQL). Reads and writes nothing."""
        self._configured_secret()

    def _configured_secret(self) -> bytes | None:
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ConfigurationError("CABINET_SECRET_KEY must be at least 32 characters long")
            return value.encode()
        if not self.is_embedded:
            raise ConfigurationError(
                "CABINET_SECRET_KEY is required with a PostgreSQL database (every process must share it); "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return None

    def create_secret_file(self) -> bool:
        """Embedded profile without CABINET_SECRET_KEY: write a random server secret to ``secret_file`` (mode 0600)
        unless it exists. True when it wrote one. The first start does this (``build_resources``)."""
        if self._configured_secret() is not None:
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        return True

    def server_secret(self) -> bytes:
        """The server secret: CABINET_SECRET_KEY, or the embedded profile's ``secret_file``. Creates nothing (a
        missing file is a ConfigurationError); read once per process, at start-up (``Resources.secret``)."""
        configured = self._configured_secret()
        if configured is not None:
            return configured
        try:
            return self.secret_file.read_text().strip().encode()
        except FileNotFoundError as exc:
            raise ConfigurationError(
                f"no server secret: {self.secret_file} does not exist (the first start creates it)"
            ) from exc


def to_async_url(url: str) -> str:
    """Map a plain database URL to the async driver cabinet uses for it."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigurationError(f"not a database URL: {url!r}")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in {"postgresql", "postgres"}:
        return f"postgresql+asyncpg://{rest}"
    raise ConfigurationError(f"unsupported database {scheme!r}: use sqlite:///path or postgresql://...")
