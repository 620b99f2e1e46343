"""The web sub-app (mounted at /ui): pages for people, over the same domain services as the APIs."""

from __future__ import annotations

from pathlib import Path

import anyio
from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cabinet import __version__
from cabinet.apis.web.deps import Web, bind_locale, bind_operation, check_csrf
from cabinet.apis.web.errors import install_error_handlers
from cabinet.apis.web.routes import account, admin, auth, calls, costs, field, keys, locale, webhooks
from cabinet.core.http.subapp import FASTAPI_OPTIONS, add_routes, bound_route_class
from cabinet.runtime import Runtime

STATIC = Path(__file__).parent / "static"
LOGO_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}

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
        **FASTAPI_OPTIONS,
        title="cabinet web",
        version=__version__,
        dependencies=[Depends(bind_locale), Depends(check_csrf)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.router.route_class = bound_route_class(bind_operation)  # routes declared on the app itself, if any
    app.state.runtime = runtime
    app.state.web = Web(runtime)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routers = [module.router for module in (auth, locale, account, calls, costs, field, admin, webhooks, keys)]
    add_routes(app, [*routers, field.pwa], required=bind_operation)

    @app.get("/brand-logo", operation_id="ui_brandLogo", include_in_schema=False)
    async def brand_logo() -> Response:
        """The deployment's logo (CABINET_BRAND_LOGO_PATH), shown beside the product name in the menu."""
        path = runtime.settings.brand_logo_path
        media_type = LOGO_TYPES.get(path.suffix.lower()) if path else None
        if path is None or media_type is None or not await anyio.Path(path).is_file():
            raise StarletteHTTPException(404)
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})

    app.add_middleware(SecurityHeaders)

    return app
