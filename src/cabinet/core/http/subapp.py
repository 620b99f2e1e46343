"""One way to build a REST sub-app (Account, Admin, contractor): the same FastAPI settings, the API's own error
renderer and declared error responses, no FastAPI 422 in the documents, the operation binding on every route."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from cabinet import __version__
from cabinet.core.http.docs import without_fastapi_422
from cabinet.core.http.runtime import HttpRuntime


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
    for router in routers:
        app.include_router(router)
    return app
