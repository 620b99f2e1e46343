"""create_app(settings): the root app. Its lifespan starts the runtime (resources, services, the meter); the
routing table (routing.py) mounts the APIs; the root middlewares (core/http/middleware.py) wrap them all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from cabinet import __version__
from cabinet.apis.contractor.events import ContractorPresenter
from cabinet.core.clock import Clock
from cabinet.core.http.middleware import install_middlewares
from cabinet.core.http.subapp import FASTAPI_OPTIONS
from cabinet.core.logging import configure_logging, get_logger
from cabinet.core.observability import install_memory_snapshots
from cabinet.domains.registry import build_services
from cabinet.resources import build_resources
from cabinet.routing import install_routes
from cabinet.runtime import Runtime
from cabinet.settings import Settings
from cabinet.wiring import SHUTDOWN_STEP_SECONDS, DomainMeter, background_jobs

log = get_logger("cabinet.app")


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    configure_logging(settings.log_level, json=settings.log_json)
    runtime = Runtime(settings=settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        resources = build_resources(settings, clock=clock)
        services = build_services(resources, presenter=ContractorPresenter())
        runtime.start(resources, services, DomainMeter(resources, services))
        install_memory_snapshots(settings.data_dir)
        try:
            async with background_jobs(services, resources):
                yield
        finally:
            runtime.stop()
            try:
                await asyncio.wait_for(resources.close(), timeout=SHUTDOWN_STEP_SECONDS)
            except TimeoutError:
                log.error("closing the database pool timed out; stopping anyway")

    app = FastAPI(
        **FASTAPI_OPTIONS,
        title="cabinet",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    install_routes(app, runtime)
    install_middlewares(
        app,
        runtime=runtime,
        max_body_bytes=settings.max_body_bytes,
        max_stored_payload_bytes=settings.max_stored_payload_bytes,
    )
    return app
