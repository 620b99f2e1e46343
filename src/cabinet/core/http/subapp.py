"""One way to build a REST sub-app (Account, Admin, contractor): the same FastAPI settings, the API's own error
renderer and declared error responses, no FastAPI 422 in the documents, the operation binding on every route."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any, cast

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute

from cabinet import __version__
from cabinet.core.http.docs import Responses, without_fastapi_422
from cabinet.core.http.runtime import HttpRuntime

# FastAPI's native OpenTelemetry hooks, off: cabinet traces, meters and logs requests itself (core/tracing.py,
# core/observability.py). On, every request of every FastAPI app it passes (the root and the mounted API) asks
# OpenTelemetry for its three providers: 3 % of an authenticated read's event loop.
FASTAPI_OPTIONS: dict[str, Any] = {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


Bind = Callable[[Request], None]
"""Names the running operation in the trace (its operationId, and what else the API records) before anything of
the route runs: tracedata, logs, audit, metering read it."""


_bound_classes: dict[tuple[Bind, type[APIRoute]], type[APIRoute]] = {}


def bound_route_class(bind: Bind, base: type[APIRoute] = APIRoute) -> type[APIRoute]:
    """``base`` whose every request is first bound to its operation by ``bind``.

    A route class rather than a dependency: FastAPI's dependency solving costs every dependency of every request
    its cache-key work (4-5 % of an authenticated read's event loop each); the binding needs none of it."""

    def get_route_handler(self: APIRoute) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = base.get_route_handler(self)

        async def bound(request: Request) -> Response:
            bind(request)
            return await handler(request)

        return bound

    known = _bound_classes.get((bind, base))
    if known is None:
        attributes = {"binding": staticmethod(bind), "get_route_handler": get_route_handler}
        known = _bound_classes[(bind, base)] = cast(type[APIRoute], type(f"Bound{base.__name__}", (base,), attributes))
    return known


def api_router(
    bind: Bind,
    responses: Responses | None = None,
    *,
    dependencies: Iterable[Callable[..., Any]] = (),
    route_class: type[APIRoute] = APIRoute,
    **options: Any,
) -> APIRouter:
    """An API's router, whose routes are bound to their operation (``bind_route_class``), carry the API's own
    dependencies and declared error answers from the moment they are declared, once per process.

    FastAPI resolves the routes of an *included* router lazily, anew for every app that includes it: about 6 ms a
    route (its dependency graph, its response models), paid on the first requests of every process and of every
    app a test builds (half of the suite's setup time). Complete routes are added to an app as they are
    (``add_routes``)."""
    return APIRouter(
        dependencies=[Depends(dependency) for dependency in dependencies],
        responses=responses,
        route_class=bound_route_class(bind, route_class),
        **options,
    )


def add_routes(app: FastAPI, routers: Iterable[APIRouter], *, required: Bind) -> None:
    """Add the routers' routes to ``app`` as they were declared (no per-app copy; see ``api_router``). Each must
    be bound by ``required`` (the API's operation binding: metering, audit, limits): a route declared on a plain
    ``APIRouter`` would escape them, so it stops the start instead."""
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and getattr(route, "binding", None) is not required:
                raise RuntimeError(
                    f"{route.path} ({route.name}) is not bound to its operation: declare its router "
                    "with the API's router factory (core.http.subapp.api_router)"
                )
        app.router.routes.extend(router.routes)


def build_rest_app(
    runtime: HttpRuntime,
    *,
    title: str,
    description: str,
    bind_operation: Bind,
    error_responses: dict[int | str, dict[str, Any]],
    install_error_handlers: Callable[[FastAPI], None],
    routers: Iterable[APIRouter],
    docs_url: str = "/docs",
    openapi_url: str = "/openapi.json",
) -> FastAPI:
    app = FastAPI(
        **FASTAPI_OPTIONS,
        title=title,
        version=__version__,
        description=description,
        responses=error_responses,
        docs_url=docs_url,
        redoc_url=None,
        openapi_url=openapi_url,
    )
    app.router.route_class = bound_route_class(bind_operation)  # routes declared on the app itself, if any
    app.state.runtime = runtime
    install_error_handlers(app)
    without_fastapi_422(app)
    add_routes(app, routers, required=bind_operation)
    return app
