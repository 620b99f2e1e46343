"""Alembic migrations (portable: SQLite in batch mode, PostgreSQL), run by ``cabinet migrate``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from cabinet.settings import Settings

HERE = Path(__file__).resolve().parent


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(HERE / "versions"))
    config.attributes["async_url"] = settings.async_database_url
    config.attributes["schema"] = settings.database_schema
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings), revision)
