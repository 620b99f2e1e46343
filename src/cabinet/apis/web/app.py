"""The web sub-app (mounted at /ui): pages for people, over the same domain services as the APIs."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cabinet import __version__
from cabinet.apis.web.deps import Web, bind_locale, bind_operation, check_csrf
from cabinet.apis.web.errors import install_error_handlers
from cabinet.apis.web.routes import account, admin, auth, calls, costs, field, keys, locale, webhooks
from cabinet.runtime import Runtime

STATIC = Path(__file__).parent / "static"

# Pages only ever load our own files; nothing may frame them. htmx reads its settings from a <meta> tag.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, sending)


def build_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="cabinet web",
        version=__version__,
        dependencies=[Depends(bind_operation), Depends(bind_locale), Depends(check_csrf)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime
    app.state.web = Web(runtime)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, locale, account, calls, costs, field, admin, webhooks, keys):
        app.include_router(module.router)
    app.include_router(field.pwa)
    app.add_middleware(SecurityHeaders)

    return app
