"""The root app's routing table: which API answers which path, and in whose format a path nobody routes fails.

    /health /ready /metrics       the root's own probes (and / and /ui: to the web pages' login)
    /account/...  /admin/...      the Account and Admin APIs
    /ui/...                       the web pages
    /v2.0  /v1.0 (and .../)       the Data API, one sub-app per served version; the bare prefix is served as is
                                  (clients POST to /v2.0 without the slash: no redirect)
    /v<anything else>             a Data API version not served: a JSON-RPC 404
    everything else               the contractor area, mounted at the root (/call, /user, ...)

A path that no route matches (e.g. one with an encoded newline) is answered by the API whose prefix it has, in
that API's format.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from cabinet.apis.account.app import build_app as build_account_app
from cabinet.apis.admin.app import build_app as build_admin_app
from cabinet.apis.contractor.app import build_app as build_contractor_app
from cabinet.apis.data.app import build_app as build_data_app
from cabinet.apis.data.protocol import CURRENT, DEPRECATED
from cabinet.apis.web.app import build_app as build_web_app
from cabinet.core.observability import exposition
from cabinet.core.tracing import current_trace
from cabinet.runtime import Runtime

DATA_VERSION_PATH = re.compile(r"^/v\d+\.\d+(/|$)")
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass(frozen=True, slots=True)
class ApiMount:
    """One API in the routing table: the sub-app serving every path under ``prefix``."""

    prefix: str  # "" for the contractor area, at the root
    app: FastAPI
    bare_prefix: bool = False  # the prefix itself (no trailing slash) is served as ``prefix/``, not redirected


@dataclass(frozen=True, slots=True)
class RoutingTable:
    apis: tuple[ApiMount, ...]  # prefixed APIs; the first whose prefix a path has serves it
    data_api: FastAPI  # answers the /v... paths of versions not served
    root: FastAPI  # the contractor area: every other path

    def owner(self, path: str) -> FastAPI:
        """The API that answers ``path`` (and renders its errors)."""
        for api in self.apis:
            if path == api.prefix or path.startswith(api.prefix + "/"):
                return api.app
        if DATA_VERSION_PATH.match(path):
            return self.data_api
        return self.root


def routing_table(runtime: Runtime) -> RoutingTable:
    apis = (
        ApiMount("/account", build_account_app(runtime)),
        ApiMount("/admin", build_admin_app(runtime)),
        ApiMount("/ui", build_web_app(runtime)),
        ApiMount(f"/v{CURRENT.number}", build_data_app(runtime, CURRENT), bare_prefix=True),
        ApiMount(f"/v{DEPRECATED.number}", build_data_app(runtime, DEPRECATED), bare_prefix=True),
    )
    return RoutingTable(apis=apis, data_api=apis[3].app, root=build_contractor_app(runtime))


def install_routes(app: FastAPI, runtime: Runtime) -> RoutingTable:
    """The root's probes, then every API of the routing table, then the contractor area at the root (last)."""
    table = routing_table(runtime)
    app.router.routes.extend(probes(runtime).routes)  # as declared: an included router is resolved lazily per app
    for api in table.apis:
        app.mount(api.prefix, api.app)
        if api.bare_prefix:  # ahead of every other route
            app.router.routes.insert(0, Route(api.prefix, _BarePrefix(api.app, api.prefix)))

    @app.api_route("/v{rest:path}", methods=ALL_METHODS, include_in_schema=False)
    async def _unserved_version(rest: str) -> None:
        """/v9.9 and the like: a 404 in the Data API's format (the contractor area, at the root, would answer
        them otherwise; none of its paths starts with /v)."""
        raise StarletteHTTPException(404)

    @app.exception_handler(StarletteHTTPException)
    async def _unrouted(request: Request, exc: StarletteHTTPException) -> Response:
        """A path the mounts do not match still answers in its API's format."""
        return await _answer(table.owner(request.url.path), request, exc)

    # Mounted at "" the contractor area matches every path, so it stays the last route: whatever is declared
    # above is matched first, and any other path answers in the contractor's format.
    app.mount("", table.root)
    return table


def probes(runtime: Runtime) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/health")
    async def health() -> JSONResponse:
        """Liveness plus database reachability, for load balancers."""
        current_trace().operation = "health"
        db_ok = await runtime.resources.database_ok()
        return JSONResponse(
            {"status": "ok" if db_ok else "unavailable", "database": db_ok}, status_code=200 if db_ok else 503
        )

    @router.get("/ready")
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

    @router.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text exposition (every worker's, when several share the port)."""
        current_trace().operation = "metrics"
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    @router.get("/")
    @router.get("/ui")
    async def to_pages() -> RedirectResponse:
        """People who open the server's address land on the web pages' login (it sends the signed-in on)."""
        current_trace().operation = "ui_redirect"
        return RedirectResponse("/ui/login", status_code=303)

    return router


async def _answer(api: FastAPI, request: Request, exc: StarletteHTTPException) -> Response:
    """``api``'s own answer to an HTTP error (a 404 for a path it does not route)."""
    answer = api.exception_handlers[StarletteHTTPException](request, exc)
    return await answer if inspect.isawaitable(answer) else answer


class _BarePrefix:
    """A mounted API answering its bare prefix (``/v2.0``) as if it were ``/v2.0/`` (an ASGI endpoint)."""

    def __init__(self, api: ASGIApp, prefix: str) -> None:
        self.api = api
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = {**scope, "root_path": scope.get("root_path", "") + self.prefix, "path": scope["path"] + "/"}
        await self.api(scope, receive, send)
