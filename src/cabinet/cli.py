"""The one entry point: ``cabinet migrate | users create | keys | networks | partners | serve | demo`` (also
``python -m cabinet``)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
import uvicorn

from cabinet.apis.contractor.events import ContractorPresenter
from cabinet.apis.shared.params import checked_moment
from cabinet.core.clock import MOMENT_RANGE
from cabinet.core.errors import CabinetError
from cabinet.core.observability import MULTIPROC_ENV
from cabinet.core.redaction import SecretsInLogs
from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.identity.schemas import UserCreate, password_issue
from cabinet.domains.registry import Services, build_services
from cabinet.resources import build_resources
from cabinet.settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from cabinet.backup import BackupSummary

app = typer.Typer(
    help="cabinet: identity, quota and audit core with four APIs.", no_args_is_help=True, add_completion=False
)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
keys_app = typer.Typer(help="Manage API keys (shown once; only a keyed hash is kept).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
networks_app = typer.Typer(help="Manage the networks a company may call the Data API from.", no_args_is_help=True)
app.add_typer(networks_app, name="networks")
partners_app = typer.Typer(help="Link agent (PARTNER) companies to their client companies.", no_args_is_help=True)
app.add_typer(partners_app, name="partners")

T = TypeVar("T")


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.check_secret()
    except (ConfigurationError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return settings


@asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator[Services]:
    resources = build_resources(settings)
    try:
        yield build_services(resources, presenter=ContractorPresenter())
    finally:
        await resources.close()


def _migrate(settings: Settings) -> None:
    from cabinet.migrations import upgrade

    upgrade(settings)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    settings = _settings()
    _migrate(settings)
    typer.echo("schema is up to date")


@app.command()
def backup(
    to: Annotated[Path, typer.Option("--to", help="A new (or empty) directory for the backup.")],
) -> None:
    """Back up the database (one consistent snapshot) and the blob store into a directory."""
    from cabinet import backup as backups

    _backup_job("backup in", lambda settings: backups.backup(settings, to))


@app.command()
def restore(
    source: Annotated[Path, typer.Option("--from", help="A directory made by `cabinet backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: every row and blob here is replaced.")] = False,
) -> None:
    """Replace the database's rows and the blob store with a backup (the schema must be at its revision)."""
    from cabinet import backup as backups

    if not yes:
        _fail("restore replaces every row and blob of this installation: add --yes to go ahead")
    _backup_job("restored from", lambda settings: backups.restore(settings, source))


def _backup_job(done: str, job: Callable[[Settings], Coroutine[Any, Any, BackupSummary]]) -> None:
    from cabinet.backup import BackupError

    settings = _settings()
    try:
        summary = asyncio.run(job(settings))
    except BackupError as exc:
        _fail(str(exc))
    typer.echo(f"{done} {summary.path}: {sum(summary.rows.values())} rows, {summary.blobs} blobs")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Unique username: 2..256 letters, digits or _.")],
    password: Annotated[str, typer.Option(help="Password, 10..256 characters.")],
    company: Annotated[str, typer.Option(help="Company key (created when missing): 3..256 letters, digits or _.")],
    role: Annotated[list[Role], typer.Option(help="Role (repeat for a second one).", case_sensitive=False)],
) -> None:
    """Create a user (and its company when missing); prints the new user's id."""
    refused = password_issue(password)
    if refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(2)
    settings = _settings()

    async def run() -> int:
        async with _services(settings) as services:
            user = await services.identity.create_user(
                UserCreate(
                    username=username, password=password, company_key=company, roles=list(role), create_company=True
                )
            )
            return user.id

    try:
        user_id = asyncio.run(run())
    except CabinetError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(user_id)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _as_operator(settings: Settings, work: Callable[[Services], Awaitable[T]]) -> T:
    """Run one use case as the platform operator; a refused one exits with code 2 and says why on stderr."""

    async def run() -> T:
        async with _services(settings) as services:
            return await work(services)

    try:
        return asyncio.run(run())
    except CabinetError as exc:
        detail = f": {exc.resource}" if exc.resource else ""
        _fail(f"{exc.message}{detail}")


@keys_app.command("create")
def keys_create(
    username: Annotated[str, typer.Option(help="The user the key acts as.")],
    expires: Annotated[
        str | None,
        typer.Option(help="Expiry, ISO 8601 (2030-01-31T00:00:00+00:00; no offset = UTC). Default: permanent."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="What the key is for (1..256 characters).")] = None,
) -> None:
    """Issue an API key for a user; the key is the last word of the output (shown once, never again)."""
    expires_at = None
    if expires is not None:
        try:
            expires_at = checked_moment(datetime.fromisoformat(expires))
        except ValueError:
            _fail(f"--expires must be an ISO 8601 date-time within {MOMENT_RANGE}, got {expires!r}")
    settings = _settings()
    issued = _as_operator(
        settings,
        lambda s: s.credentials.issue_key(PLATFORM_OPERATOR, username, KeyRequest(name=name, expires_at=expires_at)),
    )
    expiry = issued.row.expires_at.isoformat() if issued.row.expires_at else "never"
    typer.echo(f"key_id {issued.row.id} user {issued.username} prefix {issued.row.prefix} expires {expiry}")
    typer.echo(f"key (shown once) {issued.key}")


@keys_app.command("block")
def keys_block(key_id: Annotated[int, typer.Option(help="The key's id (key_id).", min=1)]) -> None:
    """Block an API key (the Data API then answers access_token_blocked)."""
    settings = _settings()
    owned = _as_operator(settings, lambda s: s.credentials.set_blocked(PLATFORM_OPERATOR, key_id, True))
    typer.echo(f"key {owned.row.id} of user {owned.username} is blocked")


def _print_networks(company: str, networks: list[str]) -> None:
    if networks:
        typer.echo(f"company {company} allows: {', '.join(networks)}")
    else:
        typer.echo(f"company {company} allows no network: the Data API refuses every address")


@networks_app.command("allow")
def networks_allow(
    company: Annotated[str, typer.Option(help="Company key.")],
    cidr: Annotated[str, typer.Option(help="IPv4 or IPv6 network (10.0.0.0/8, 2001:db8::/32) or address.")],
) -> None:
    """Allow a network to call the Data API for a company (already allowed: no change)."""
    settings = _settings()
    networks = _as_operator(settings, lambda s: s.credentials.allow_network(PLATFORM_OPERATOR, company, cidr))
    _print_networks(company, networks)


@networks_app.command("deny")
def networks_deny(
    company: Annotated[str, typer.Option(help="Company key.")],
    cidr: Annotated[str, typer.Option(help="The network to remove (matched after normalisation).")],
) -> None:
    """Stop allowing a network (not allowed anyway: no change)."""
    settings = _settings()
    networks = _as_operator(settings, lambda s: s.credentials.deny_network(PLATFORM_OPERATOR, company, cidr))
    _print_networks(company, networks)


@partners_app.command("link")
def partners_link(
    agent: Annotated[str, typer.Option(help="The agent company's key (its PARTNER users act for clients).")],
    client: Annotated[str, typer.Option(help="The client company's key.")],
) -> None:
    """Let an agent company's PARTNER users act in a client company (Data API ``params.user_id``)."""
    settings = _settings()
    _as_operator(settings, lambda s: s.sessions.link_client(agent, client))
    typer.echo(f"{agent} -> {client}")


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    if workers > 1 and settings.redis_url is None:
        _fail(
            "--workers above 1 needs CABINET_REDIS_URL: quotas, limits and throttling must be shared by the "
            "processes (the embedded profile runs one process)"
        )
    if workers > 1:
        # worker processes keep their metrics in files /metrics sums up; fresh for every start
        metrics_dir = settings.data_dir / "metrics" / f"serve-{port}"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ[MULTIPROC_ENV] = str(metrics_dir)
    SecretsInLogs.install()  # this process's own records (each worker installs it too, with the app)
    uvicorn.run(
        "cabinet.asgi:create_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level=settings.log_level.lower(),
        proxy_headers=settings.forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
) -> None:
    """Run the HTTP server (uvicorn)."""
    settings = _settings()
    _serve(settings, host, port, workers)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Migrate, load idempotent demo data, and serve."""
    from cabinet.demo import DEMO_AGENCY, DEMO_COMPANY, DEMO_KEY_OWNER, DemoData, load_demo_data

    settings = _settings()
    _migrate(settings)

    async def load() -> DemoData:
        async with _services(settings) as services:
            return await load_demo_data(services)

    data = asyncio.run(load())
    base = f"http://{host}:{port}"
    typer.echo(f"cabinet demo listening on {base}  (database: {settings.database_url or settings.async_database_url})")
    typer.echo(f"  Account API docs: {base}/account/docs   health: {base}/health")
    typer.echo(f"  Contractor API docs: {base}/contractor/docs  (ERP: a token of demo_erp, or `cabinet keys create`)")
    typer.echo(f"  Data API (JSON-RPC): POST {base}/v2.0   docs: {base}/v2.0/docs   allowed from loopback only")
    typer.echo(f"  demo company: {DEMO_COMPANY}   agent company: {DEMO_AGENCY} (linked)")
    for user in data.users:
        typer.echo(
            f"  user {user.username:<12} password {user.password:<22} roles {','.join(user.roles)} ({user.company})"
        )
    typer.echo(f"  Data API key of {DEMO_KEY_OWNER} (params.access_token): {data.data_api_key}")
    _serve(settings, host, port, 1)


def main() -> None:
    app()
