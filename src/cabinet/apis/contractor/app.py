"""The contractor personal area sub-app (seed 004), mounted at the root: /call, /calltask, /notification,
/shared (the field employee's link), /systemSettings, /user, /callCost. OpenAPI at /contractor/openapi.json."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from cabinet.apis.contractor.deps import bind_operation
from cabinet.apis.contractor.errors import install_error_handlers
from cabinet.apis.contractor.routes import ERROR_RESPONSES, calls, costs, notifications, settings, shared, tasks, users
from cabinet.core.clock import MOMENT_RANGE
from cabinet.core.http.subapp import build_rest_app
from cabinet.runtime import Runtime

DESCRIPTION = (
    "The contractor personal area (seed 004): the external system (ERP; a BOT user of the tenant with an API key) "
    "dispatches calls with tasks to contractor users, who sign in with a salted hash, accept, work and finish "
    "them, write messages and raise jeopardies, and submit a cost estimate per call; the external system answers, "
    "decides the estimate's lines, closes and pulls every change through the incremental feeds. Errors are "
    "ErrorDTO {errorCode}. Money and quantities are exact decimals: JSON numbers bounded so that their decimal "
    "text is exact, totals as decimal strings; see the /callCost operations. Every date-time taken in (ttf, tto, "
    f"created, date, clientTime, ...; without an offset: UTC) lies within {MOMENT_RANGE}; outside it: 400 "
    "{errorCode: 0}."
)


class TextJsonAsJson:
    """Seed 004 lists ``text/json`` (and ``application/*+json``) among the request media types: a ``text/json``
    body is read as ``application/json`` (FastAPI reads JSON bodies of JSON media types only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            for i, (name, value) in enumerate(headers):
                if name == b"content-type" and value.split(b";", 1)[0].strip().lower() == b"text/json":
                    rest = value.split(b";", 1)[1:]
                    patched = list(headers)
                    patched[i] = (name, b";".join([b"application/json", *rest]))
                    scope = {**scope, "headers": patched}
                    break
        await self.app(scope, receive, send)


def build_app(runtime: Runtime) -> FastAPI:
    app = build_rest_app(
        runtime,
        title="cabinet Contractor API",
        description=DESCRIPTION,
        bind_operation=bind_operation,
        error_responses=ERROR_RESPONSES,
        install_error_handlers=install_error_handlers,
        routers=[
            users.router,
            calls.router,
            tasks.router,
            costs.router,
            notifications.router,
            settings.router,
            shared.router,
        ],
        docs_url="/contractor/docs",
        openapi_url="/contractor/openapi.json",
    )
    app.add_middleware(TextJsonAsJson)
    return app
