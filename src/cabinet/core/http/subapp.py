"""One way to build a REST sub-app (Account, Admin, contractor): the same FastAPI settings, the API's own error
renderer and declared error responses, no FastAPI 422 in the documents, the operation binding on every route."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from cabinet import __version__
from cabinet.core.http.docs import Responses, without_fastapi_422
from cabinet.core.http.runtime import HttpRuntime


def api_router(
    dependencies: Iterable[Callable[..., Any]], responses: Responses | None = None, **options: Any
) -> APIRouter:
    """An API's router, whose routes carry the API's own dependencies (the operation binding first) and declared
    error answers from the moment they are declared, once per process.

    FastAPI resolves the routes of an *included* router lazily, anew for every app that includes it: about 6 ms a
    route (its dependency graph, its response models), paid on the first requests of every process and of every
    app a test builds (half of the suite's setup time). Complete routes are added to an app as they are
    (``add_routes``)."""
    return APIRouter(dependencies=[Depends(dependency) for dependency in dependencies], responses=responses, **options)


def add_routes(app: FastAPI, routers: Iterable[APIRouter], *, required: Callable[..., Any]) -> None:
    """Add the routers' routes to ``app`` as they were declared (no per-app copy; see ``api_router``). Each must
    depend on ``required`` (the API's operation binding: metering, audit, limits): a route declared on a plain
    ``APIRouter`` would escape them, so it stops the start instead."""
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and not any(d.dependency is required for d in route.dependencies):
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
    bind_operation: Callable[..., Any],
    error_responses: dict[int | str, dict[str, Any]],
    install_error_handlers: Callable[[FastAPI], None],
    routers: Iterable[APIRouter],
    docs_url: str = "/docs",
    openapi_url: str = "/openapi.json",
) -> FastAPI:
    app = FastAPI(
        title=title,
        version=__version__,
        description=description,
        dependencies=[Depends(bind_operation)],
        responses=error_responses,
        docs_url=docs_url,
        redoc_url=None,
        openapi_url=openapi_url,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    without_fastapi_422(app)
    add_routes(app, routers, required=bind_operation)
    return app
