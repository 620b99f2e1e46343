"""Contractor API error rendering: ``ErrorDTO {errorCode}`` (seed 004), with the HTTP status of the error kind.

The seed's codes are per endpoint, not global (each operation's OpenAPI entry lists its own); each domain error maps
to the code its endpoints document. Failures the seed gives no code for answer 0 (validation, permission), or the
nearest documented meaning (1 = not found / bad credentials). Ours beyond the seed: 8 = a jeopardy cannot be raised
now, 9 = no open jeopardy to answer; cost estimates (/callCost): 10 = cannot be created, 11 = not a Draft any more,
12 = the edit/send deadline passed, 13 = approval statuses cannot change (not InProgress), 14 = the estimate cannot
change now (call New again, no lines to send, line limit), 15 (400) = expenditureItemId is not one of the call's
items; field links and attachments: 20 (404) = the link expired or was replaced by a newer one, 21..25 (422) = the
file is none of the nine types or a polyglot (21), damaged or does not decode (22), too large (23), an image with
too many pixels (24), a file name that is a path or holds control characters (25); 26 (503, with Retry-After) = the
file store is full or read-only; 27 (422) = an Idempotency-Key this caller already used for a different
request; visits: 28 (409) = a check-out without an open check-in, 29 (409) = a check-in while a visit is open;
2 (404) = a signature not found.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cabinet.core.errors import CabinetError, ErrorKind, InvalidInput, ResourceNotFound
from cabinet.core.http.errors import (
    cabinet_cause,
    handle_backing_service_errors,
    issues_from_validation,
    status_of,
    unavailable_cause,
)
from cabinet.core.logging import get_logger
from cabinet.core.metering import note_failure

log = get_logger("cabinet.contractor")

CODE_BY_MNEMONIC: dict[str, int] = {
    # POST /user/signin: 1 wrong user or password, 2 salt used before, 5 user locked
    "contractor_sign_in_failed": 1,
    "contractor_salt_reused": 2,
    "contractor_sign_in_locked": 5,
    # POST /user/{id}/changePassword: 401 code 3 = the user is locked
    "contractor_target_user_locked": 3,
    "contractor_user_exists": 1,
    # POST /call: 404 code 3 = user (owner) not found; user endpoints: user not found
    "contractor_user_not_found": 3,
    "call_owner_not_found": 3,
    "call_not_found": 1,
    "call_task_not_found": 1,
    "call_task_result_not_found": 2,
    "notification_not_found": 1,
    "call_comment_required": 6,
    "call_status_change_refused": 7,
    "call_state_conflict": 7,
    "call_task_status_change_refused": 3,
    "call_jeopardy_refused": 8,
    "call_unjeopardy_refused": 9,
    "contractor_service_token_invalid": 1,
    # field links (/shared) and attachments
    "call_task_state_conflict": 3,
    "field_link_not_found": 1,
    "field_link_expired": 20,
    "attachment_not_found": 2,
    "attachment_type_refused": 21,
    "attachment_unreadable": 22,
    "attachment_too_large": 23,
    "attachment_image_too_large": 24,
    "attachment_name_invalid": 25,
    "blob_store_unavailable": 26,
    "idempotency_key_reused": 27,
    # visits and signatures (/shared/call/visit, /shared/call/signature, /call/{callId}/signature/...)
    "field_visit_not_open": 28,
    "field_visit_already_open": 29,
    "field_signature_not_found": 2,
    # /callCost: 404 codes 1 call, 2 estimate, 3 expense, 4 material (the seed's); 409 and 400 codes ours
    "call_cost_not_found": 2,
    "call_cost_expense_not_found": 3,
    "call_cost_material_not_found": 4,
    "call_cost_create_refused": 10,
    "call_cost_not_draft": 11,
    "call_cost_deadline_passed": 12,
    "call_cost_approval_refused": 13,
    "call_cost_change_refused": 14,
    "call_cost_item_unknown": 15,
    "account_inactive": 3,
    "api_key_owner_inactive": 3,
}

CODE_BY_KIND: dict[ErrorKind, int] = {ErrorKind.UNAUTHENTICATED: 1, ErrorKind.NOT_FOUND: 1}


def error_code(error: CabinetError) -> int:
    return CODE_BY_MNEMONIC.get(error.mnemonic, CODE_BY_KIND.get(error.kind, 0))


def render(error: CabinetError) -> JSONResponse:
    note_failure(error.message)
    headers: dict[str, str] = {}
    if error.kind is ErrorKind.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = "Bearer"
    if error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse({"errorCode": error_code(error)}, status_code=status_of(error), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CabinetError)
    async def _cabinet(_: Request, exc: CabinetError) -> JSONResponse:
        return render(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return render(InvalidInput("Bad Request", issues=issues_from_validation(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cause = cabinet_cause(exc)
        if cause is not None:
            return render(cause)
        if exc.status_code == 404:
            return render(ResourceNotFound(resource=request.url.path))
        note_failure(str(exc.detail) if exc.detail else "Error")
        return JSONResponse({"errorCode": 0}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        unavailable = unavailable_cause(exc)
        if unavailable is not None:
            log.warning("backing service unavailable", error=repr(exc))
            return render(unavailable)
        log.exception("unexpected error", error=repr(exc))
        note_failure("Internal Server Error")
        return JSONResponse({"errorCode": 0}, status_code=500)

    handle_backing_service_errors(app, _unexpected)
