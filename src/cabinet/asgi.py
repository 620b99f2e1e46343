"""ASGI entry for uvicorn workers: ``uvicorn --factory cabinet.asgi:create_from_env``."""

from __future__ import annotations

from fastapi import FastAPI

from cabinet.app import create_app
from cabinet.settings import Settings


def create_from_env() -> FastAPI:
    return create_app(Settings())
