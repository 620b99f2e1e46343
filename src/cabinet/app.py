"""create_app(settings): the root app. Its lifespan builds Resources and Services; it mounts the APIs."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from cabinet import __version__
from cabinet.apis.account.app import build_app as build_account_app
from cabinet.apis.admin.app import build_app as build_admin_app
from cabinet.apis.contractor.app import build_app as build_contractor_app
from cabinet.apis.data.app import build_app as build_data_app
from cabinet.apis.data.protocol import CURRENT, DEPRECATED
from cabinet.apis.web.app import build_app as build_web_app
from cabinet.core.clock import Clock
from cabinet.core.http.middleware import install_middlewares
from cabinet.core.logging import configure_logging, get_logger
from cabinet.core.observability import exposition
from cabinet.core.tracing import current_trace
from cabinet.domains.registry import build_services
from cabinet.resources import build_resources
from cabinet.runtime import Runtime
from cabinet.settings import Settings
from cabinet.wiring import SHUTDOWN_STEP_SECONDS, DomainMeter, background_jobs

DATA_VERSION_PATH = re.compile(r"^/v\d+\.\d+(/|$)")

log = get_logger("cabinet.app")


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    configure_logging(settings.log_level, json=settings.log_json)
    runtime = Runtime(settings=settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        resources = build_resources(settings, clock=clock)
        services = build_services(resources)
        runtime.start(resources, services, DomainMeter(resources, services))
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
        title="cabinet", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.runtime = runtime

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        """Liveness plus database reachability, for load balancers."""
        current_trace().operation = "health"
        db_ok = await runtime.resources.database_ok()
        return JSONResponse(
            {"status": "ok" if db_ok else "unavailable", "database": db_ok}, status_code=200 if db_ok else 503
        )

    @app.get("/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        """Readiness: the database, the limits store (Redis or in-process) and the blob store all answer."""
        current_trace().operation = "ready"
        resources = runtime.resources
        checks = {
            "database": await resources.database_ok(),
            "limits": await resources.limiter_ok(),
            "blobs": await resources.blobs.writable(),
        }
        ok = all(checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus text exposition (every worker's, when several share the port)."""
        current_trace().operation = "metrics"
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @app.get("/", include_in_schema=False)
    @app.get("/ui", include_in_schema=False)
    async def to_pages() -> RedirectResponse:
        """People who open the server's address land on the web pages' login (it sends the signed-in on)."""
        current_trace().operation = "ui_redirect"
        return RedirectResponse("/ui/login", status_code=303)

    apis = {
        "/account": build_account_app(runtime),
        "/admin": build_admin_app(runtime),
        "/ui": build_web_app(runtime),
        f"/v{CURRENT.number}": build_data_app(runtime, CURRENT),
        f"/v{DEPRECATED.number}": build_data_app(runtime, DEPRECATED),
    }
    for prefix, api in apis.items():
        app.mount(prefix, api)
    for version in (CURRENT, DEPRECATED):  # clients POST to /v2.0 without the slash: serve it, no redirect
        app.router.routes.insert(
            0, Route(f"/v{version.number}", _Exact(apis[f"/v{version.number}"], f"/v{version.number}"))
        )

    contractor = build_contractor_app(runtime)

    @app.api_route(
        "/v{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], include_in_schema=False
    )
    async def _unserved_version(rest: str) -> None:
        """/v9.9 and the like: answered by _unrouted below in the Data API's format (the contractor area,
        mounted at the root, would answer them otherwise; none of its paths starts with /v)."""
        raise StarletteHTTPException(404)

    @app.exception_handler(StarletteHTTPException)
    async def _unrouted(request: Request, exc: StarletteHTTPException) -> Response:
        """A path the mounts do not match (e.g. one with an encoded newline) still answers in its API's format."""
        path = request.url.path
        for prefix, api in apis.items():
            if path == prefix or path.startswith(prefix + "/"):
                return await _answer(api, request, exc)
        if DATA_VERSION_PATH.match(path):  # a Data API version not served: a JSON-RPC answer all the same
            return await _answer(apis[f"/v{CURRENT.number}"], request, exc)
        return await _answer(contractor, request, exc)  # the root's other paths are its own

    install_middlewares(
        app,
        runtime=runtime,
        max_body_bytes=settings.max_body_bytes,
        max_stored_payload_bytes=settings.max_stored_payload_bytes,
    )
    # The contractor area lives at the root (/call, /user, ...). Mounted at "" it matches every path, so it must
    # stay the last route: whatever is declared above (/health, /account, /admin) is matched first, and any other
    # path answers a 404 in the contractor's format.
    app.mount("", contractor)
    return app


async def _answer(api: FastAPI, request: Request, exc: StarletteHTTPException) -> Response:
    """``api``'s own answer to an HTTP error (a 404 for a path it does not route)."""
    answer = api.exception_handlers[StarletteHTTPException](request, exc)
    return await answer if inspect.isawaitable(answer) else answer


class _Exact:
    """The mounted API answering its bare prefix (``/v2.0``) as if it were ``/v2.0/`` (an ASGI endpoint)."""

    def __init__(self, api: ASGIApp, prefix: str) -> None:
        self.api = api
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = {**scope, "root_path": scope.get("root_path", "") + self.prefix, "path": scope["path"] + "/"}
        await self.api(scope, receive, send)
