"""System: availability, version, documentation file."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, Response

from cabinet import __version__
from cabinet.apis.account.routes import api_router
from cabinet.apis.account.schemas import CheckResult, VersionResult
from cabinet.core.errors import ResourceNotFound
from cabinet.core.http.docs import render_openapi_html
from cabinet.runtime import runtime_of

router = api_router(prefix="", tags=["System"])

API_MAJOR, API_MINOR = 7, 46
DOC_FILES = {"account_en.html": "en", "account_ru.html": "ru", "index.html": "en"}


@router.get(
    "/system/check", operation_id="check", summary="Checking the service availability.", response_model=CheckResult
)
async def check(request: Request) -> CheckResult:
    resources = runtime_of(request).resources
    results = [await resources.database_ok(), await resources.limiter_ok()]
    return CheckResult(health=sum(results) / len(results))


@router.get(
    "/system/version", operation_id="version", summary="Getting the service version.", response_model=VersionResult
)
async def version() -> VersionResult:
    return VersionResult(major=API_MAJOR, minor=API_MINOR, build=__version__)


@router.get(
    "/file/{filename}",
    operation_id="file",
    summary="Getting the file with this service documentation.",
    # A plain Response class (no media type) so the documented errors keep the API's JSON media type; with
    # HTMLResponse here FastAPI would document General400/General404 bodies as text/html.
    response_class=Response,
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "File with data in HTML format."}
    },
)
async def file(filename: Annotated[str, Path(min_length=6, max_length=128)], request: Request) -> HTMLResponse:
    lang = DOC_FILES.get(filename)
    if lang is None:
        raise ResourceNotFound(f"no documentation file {filename!r}", resource=filename)
    return HTMLResponse(render_openapi_html(request.app.openapi(), lang=lang))
