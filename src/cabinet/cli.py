"""The one entry point: ``cabinet migrate | users create | serve | demo`` (also ``python -m cabinet``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import typer
import uvicorn

from cabinet.core.errors import CabinetError
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import UserCreate
from cabinet.domains.registry import Services, build_services
from cabinet.resources import build_resources
from cabinet.settings import ConfigurationError, Settings

app = typer.Typer(
    help="cabinet: identity, quota and audit core with four APIs.", no_args_is_help=True, add_completion=False
)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.resolved_secret()
    except (ConfigurationError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    return settings


@asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator[Services]:
    resources = build_resources(settings)
    try:
        yield build_services(resources)
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


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Unique username: 2..256 letters, digits or _.")],
    password: Annotated[str, typer.Option(help="Password, 10..256 characters.")],
    company: Annotated[str, typer.Option(help="Company key (created when missing): 3..256 letters, digits or _.")],
    role: Annotated[list[Role], typer.Option(help="Role (repeat for a second one).", case_sensitive=False)],
) -> None:
    """Create a user (and its company when missing); prints the new user's id."""
    if not 10 <= len(password) <= 256:
        typer.echo("error: password must be 10..256 characters", err=True)
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


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "cabinet.asgi:create_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
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
    from cabinet.demo import DEMO_COMPANY, load_demo_data

    settings = _settings()
    _migrate(settings)

    async def load() -> list:  # type: ignore[type-arg]
        async with _services(settings) as services:
            return await load_demo_data(services)

    users = asyncio.run(load())
    base = f"http://{host}:{port}"
    typer.echo(f"cabinet demo listening on {base}  (database: {settings.database_url or settings.async_database_url})")
    typer.echo(f"  Account API docs: {base}/account/docs   health: {base}/health")
    typer.echo(f"  demo company: {DEMO_COMPANY}")
    for user in users:
        typer.echo(f"  user {user.username:<12} password {user.password:<22} roles {','.join(user.roles)}")
    _serve(settings, host, port, 1)


def main() -> None:
    app()
