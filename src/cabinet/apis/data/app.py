"""The Data API sub-app (JSON-RPC 2.0, seed 003), one per served version: ``/v2.0`` and the deprecated
``/v1.0`` (whose answers carry ``metadata.api_version``). ``GET <version>/docs`` documents every method."""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from cabinet import __version__
from cabinet.apis.data import methods, openrpc
from cabinet.apis.data.docs import render_docs
from cabinet.apis.data.errors import RpcError
from cabinet.apis.data.protocol import Version, handle, respond, version_url
from cabinet.core.http.subapp import FASTAPI_OPTIONS
from cabinet.runtime import Runtime, runtime_of


def build_app(runtime: Runtime, version: Version) -> FastAPI:
    methods.load()
    app = FastAPI(
        **FASTAPI_OPTIONS,
        title=f"cabinet Data API v{version.number}",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.runtime = runtime

    @app.post("/", include_in_schema=False)
    async def rpc(request: Request) -> Response:
        return await handle(request, runtime_of(request), version)

    @app.get("/openrpc.json", include_in_schema=False)
    async def openrpc_json(request: Request) -> Response:
        """The OpenRPC document (as ``rpc.discover`` answers it)."""
        document = openrpc.document(version, version_url(request, version))
        return Response(orjson.dumps(document), media_type="application/json")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(version))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        """Other verbs and paths (D1): the HTTP status says what is wrong, the body is still JSON-RPC."""
        error = RpcError("invalid_request" if exc.status_code == 405 else "method_not_found")
        response = respond({"jsonrpc": "2.0", "id": None, "error": error.body(version.metadata())})
        response.status_code = exc.status_code
        return response

    return app
