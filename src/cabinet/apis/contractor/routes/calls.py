"""Calls: dispatch, read, list, deadlines, status, close; messages both ways; jeopardies; the change feeds; the
field employee's link."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response
from fastapi.responses import StreamingResponse

from cabinet.apis.contractor.deps import Caller, ServicesDep, contractor_operation
from cabinet.apis.contractor.files import file_response
from cabinet.apis.contractor.keys import KeyedRoute
from cabinet.apis.contractor.mappers import (
    call_json,
    calls_body,
    jeopardy_out,
    json_body,
    json_data,
    json_list,
    message_out,
)
from cabinet.apis.contractor.routes import api_router
from cabinet.apis.contractor.schemas import (
    INT64_MAX,
    CallDTO,
    CallInputDTO,
    CallJeopardyDTO,
    CallMessageDTO,
    CallStatusInputDTO,
    ErrorDTO,
    PatchCallInputDTO,
    PostCallJeopardyInputDTO,
    PostCallJeopardyOutputDTO,
    PostCallMessageInputDTO,
    PostCallOutputDTO,
    PostCallStatusOutputDTO,
    PostCallTaskOutputDTO,
    PostExternalCallJeopardyInputDTO,
    PostExternalCallJeopardyOutputDTO,
    PostExternalCallMessageInputDTO,
    PostExternalCallMessageOutputDTO,
)
from cabinet.apis.shared.files import archive_response
from cabinet.core.http.docs import Responses
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.domains.fieldservice.schemas import (
    CALL_SORTS,
    FEED_LIMIT_DEFAULT,
    FEED_LIMIT_MAX,
    LIST_LIMIT_DEFAULT,
    LIST_LIMIT_MAX,
    CallCreate,
    CallListQuery,
)
from cabinet.domains.fieldservice.states import CallStatus

router = api_router(prefix="/call", tags=["Call"], route_class=KeyedRoute)

CallId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Call id")]
Cursor = Annotated[
    int,
    Path(ge=0, le=INT64_MAX, description="The last change number the caller has seen (0 = from the beginning)"),
]
FeedLimit = Annotated[int, Query(ge=1, le=FEED_LIMIT_MAX, description="Page size; continue from the last timestamp")]
E: dict[str, Any] = {"model": ErrorDTO}
NOT_FOUND: Responses = {404: {**E, "description": "errorCode 1: call not found"}}
FEED_DESCRIPTION = (
    "Items whose change number (`timestamp`) is greater than the one given, in ascending order, at most `limit`. "
    "Pass the last item's `timestamp` to get the next page; an empty page means up to date. Change numbers come "
    "from one per-company sequence and are given in commit order, so no change is ever skipped; an item changed "
    "again reappears once with its newer number."
)


@router.post(
    "",
    **contractor_operation("createCall", ProcessType.TRACE),
    summary="Dispatch a call to a contractor user, with its tasks and expenditure items (external system).",
    response_model=PostCallOutputDTO,
    responses={404: {**E, "description": "errorCode 3: the owner (user) was not found"}},
)
async def create_call(body: CallInputDTO, principal: Caller, svc: ServicesDep) -> PostCallOutputDTO:
    created = await svc.calls.create_call(
        principal,
        CallCreate(
            owner_id=body.ownerId,
            client_name=body.clientName,
            created=body.created,
            description_html=body.descriptionHtmlText,
            description_for_field_employee=body.descriptionTextForFieldEmployee,
            service_object_address=body.serviceObjectAddress,
            service_object_latitude=body.serviceObjectLatitude,
            service_object_longitude=body.serviceObjectLongitude,
            service_object_name=body.serviceObjectName,
            service_object_type=body.serviceObjectType,
            tasks=[t.title for t in body.tasks],
            expenditure_items=[i.name for i in body.availableExpenditureItems],
            contact_person_email=body.contactPersonEmail,
            contact_person_name=body.contactPersonName,
            contact_person_phone=body.contactPersonPhone,
            critical=body.critical,
            ttf=body.ttf,
            tto=body.tto,
        ),
    )
    return PostCallOutputDTO(
        created=created.call.created,
        id=created.call.id,
        number=created.call.number,
        tasks=[PostCallTaskOutputDTO(id=t.id) for t in created.tasks],
    )


@router.get(
    "",
    **contractor_operation("listCalls", ProcessType.NOTRACE),
    summary="The caller's calls (not in the seed): filter, sort, page. The total is in X-Total-Count.",
    description="Default order: critical first, then the nearest fix deadline (ttf), then newest. A contractor "
    "sees the calls it owns; a CREWMANAGER, COMPANYOWNER or the external system every call of the company.",
    response_model=list[CallDTO],
)
async def list_calls(
    principal: Caller,
    svc: ServicesDep,
    status: Annotated[list[CallStatus] | None, Query(description="Any of these statuses")] = None,
    critical: bool | None = None,
    expired: bool | None = None,
    jeopardy: bool | None = None,
    sort: Annotated[str, Query(pattern="^(" + "|".join(CALL_SORTS) + ")$")] = "default",
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)] = LIST_LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    query = CallListQuery(
        statuses=tuple(status or ()),
        critical=critical,
        expired=expired,
        jeopardy=jeopardy,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    views, total = await svc.calls.list_calls(principal, query)
    set_result_elements(len(views))
    return json_body(calls_body(views), **{"X-Total-Count": str(total)})


@router.get(
    "/modifications/{timestamp}",
    **contractor_operation("getCallModifications", ProcessType.NOTRACE),
    summary="Calls changed after a change number (incremental sync).",
    description=FEED_DESCRIPTION,
    response_model=list[CallDTO],
)
async def call_modifications(
    timestamp: Cursor, principal: Caller, svc: ServicesDep, limit: FeedLimit = FEED_LIMIT_DEFAULT
) -> Response:
    views = await svc.calls.calls_changed(principal, timestamp, limit)
    set_result_elements(len(views))
    return json_body(calls_body(views))


@router.get(
    "/messages/modifications/{timestamp}",
    **contractor_operation("getCallMessageModifications", ProcessType.NOTRACE),
    summary="Messages written after a change number (incremental sync).",
    description=FEED_DESCRIPTION,
    response_model=list[CallMessageDTO],
)
async def message_modifications(
    timestamp: Cursor, principal: Caller, svc: ServicesDep, limit: FeedLimit = FEED_LIMIT_DEFAULT
) -> Response:
    messages = await svc.messages.messages_changed(principal, timestamp, limit)
    set_result_elements(len(messages))
    return json_list(CallMessageDTO, messages, message_out)


@router.get(
    "/jeopardies/modifications/{timestamp}",
    **contractor_operation("getCallJeopardyModifications", ProcessType.NOTRACE),
    summary="Jeopardies raised or answered after a change number (incremental sync).",
    description=FEED_DESCRIPTION,
    response_model=list[CallJeopardyDTO],
)
async def jeopardy_modifications(
    timestamp: Cursor, principal: Caller, svc: ServicesDep, limit: FeedLimit = FEED_LIMIT_DEFAULT
) -> Response:
    jeopardies = await svc.jeopardies.jeopardies_changed(principal, timestamp, limit)
    set_result_elements(len(jeopardies))
    return json_list(CallJeopardyDTO, jeopardies, jeopardy_out)


@router.get(
    "/{id}",
    **contractor_operation("getCall", ProcessType.NOTRACE),
    summary="One call.",
    response_model=CallDTO,
    responses=NOT_FOUND,
)
async def get_call(id: CallId, principal: Caller, svc: ServicesDep) -> Response:
    return json_data(call_json(await svc.calls.get_call(principal, id)))


@router.get(
    "/{callId}/signature/{attachmentId}",
    **contractor_operation("downloadCallSignature", ProcessType.NOTRACE),
    summary="The PNG of a customer's signature of the call (not in the seed): the current one or a replaced one.",
    response_class=StreamingResponse,
    responses={
        200: {"description": "The PNG", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}},
        404: {**E, "description": "errorCode 1: call not found; 2: no such signature of the call"},
    },
)
async def download_signature(
    callId: CallId, attachmentId: Annotated[int, Path(ge=1, le=INT64_MAX)], principal: Caller, svc: ServicesDep
) -> Response:
    return file_response(await svc.attachments.signature_file(principal, callId, attachmentId))


@router.get(
    "/{callId}/report.pdf",
    **contractor_operation("getCallWorkReport", ProcessType.NOTRACE),
    summary="The call's work report as a PDF (not in the seed), for the customer's file.",
    description="The call, its tasks and their results, the estimate's materials and expenses with totals, the "
    "visits (times in the company's time zone, time on site), thumbnails of the result photos, the customer's "
    "signature with their name, and when it was generated; in the company's language (ru|en). The same callers "
    "as GET /call/{id}.",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The PDF",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        **NOT_FOUND,
    },
)
async def download_work_report(callId: CallId, principal: Caller, svc: ServicesDep) -> Response:
    return file_response(await svc.reports.pdf(principal, callId))


@router.get(
    "/{callId}/evidence.zip",
    **contractor_operation("getCallEvidence", ProcessType.NOTRACE),
    summary="The call's evidence bundle as a ZIP (not in the seed): report, originals, signatures, manifest.",
    description="`manifest.json` (first) lists each file's `name`, `size` and `sha256` (as recorded when the "
    "service received it), what it is (`kind`: workReport, attachment, signature; ids, names, times), files gone "
    "from the store under `missing`, and the call's `visits`; then the work report PDF, every attachment's "
    "original under `attachments/task-<taskId>/`, and every signature (replaced ones too) under `signatures/`. "
    "Streamed as it is made (chunked). The same callers as GET /call/{id}.",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The ZIP",
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
        },
        **NOT_FOUND,
    },
)
async def download_evidence(callId: CallId, principal: Caller, svc: ServicesDep) -> Response:
    bundle = await svc.reports.evidence(principal, callId)
    return archive_response(bundle.name, bundle.chunks)


@router.patch(
    "/{id}",
    **contractor_operation("patchCall", ProcessType.TRACE),
    summary="Change the deadlines ttf / tto (external system); only the fields sent. Returns the call id.",
    response_model=int,
    responses={**NOT_FOUND, 409: {**E, "description": "errorCode 7: the call is Done or Closed"}},
)
async def patch_call(id: CallId, body: PatchCallInputDTO, principal: Caller, svc: ServicesDep) -> int:
    return await svc.calls.patch_call(principal, id, ttf=body.ttf, tto=body.tto, fields=set(body.model_fields_set))


@router.post(
    "/{id}/status",
    **contractor_operation("setCallStatus", ProcessType.TRACE),
    summary="The contractor moves its call: New->Committed, Committed->Done, Committed->New (needs comments).",
    response_model=PostCallStatusOutputDTO,
    responses={
        400: {**E, "description": "errorCode 6: this change needs a comment"},
        **NOT_FOUND,
        409: {**E, "description": "errorCode 7: the call cannot change to that status"},
    },
)
async def set_call_status(
    id: CallId, body: CallStatusInputDTO, principal: Caller, svc: ServicesDep
) -> PostCallStatusOutputDTO:
    call = await svc.calls.change_status(principal, id, body.status, body.comments)
    return PostCallStatusOutputDTO(commited=call.commited_at, finished=call.finished_at)


@router.post(
    "/{id}/close",
    **contractor_operation("closeCall", ProcessType.TRACE),
    summary="Close a Done call (external system).",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND, 409: {**E, "description": "errorCode 7: only a Done call can be closed"}},
)
async def close_call(id: CallId, principal: Caller, svc: ServicesDep) -> Response:
    await svc.calls.close_call(principal, id)
    return Response(status_code=204)


@router.post(
    "/{id}/message",
    **contractor_operation("postCallMessage", ProcessType.TRACE),
    summary="The contractor writes on its call.",
    response_model=CallMessageDTO,
    responses={**NOT_FOUND, 409: {**E, "description": "errorCode 7: the call is Closed"}},
)
async def post_message(
    id: CallId, body: PostCallMessageInputDTO, principal: Caller, svc: ServicesDep
) -> CallMessageDTO:
    return message_out(await svc.messages.post_message(principal, id, body.message))


@router.post(
    "/{id}/dispatcher/message",
    **contractor_operation("postDispatcherMessage", ProcessType.TRACE),
    summary="The external system (dispatcher) writes on a call.",
    response_model=PostExternalCallMessageOutputDTO,
    responses={**NOT_FOUND, 409: {**E, "description": "errorCode 7: the call is Closed"}},
)
async def post_dispatcher_message(
    id: CallId, body: PostExternalCallMessageInputDTO, principal: Caller, svc: ServicesDep
) -> PostExternalCallMessageOutputDTO:
    message = await svc.messages.post_dispatcher_message(principal, id, body.message, body.date)
    return PostExternalCallMessageOutputDTO(id=message.id)


@router.post(
    "/{id}/jeopardy",
    **contractor_operation("raiseCallJeopardy", ProcessType.TRACE),
    summary="The contractor raises a risk of not meeting the call (New or Committed, none open).",
    response_model=PostCallJeopardyOutputDTO,
    responses={**NOT_FOUND, 409: {**E, "description": "errorCode 8: a jeopardy cannot be raised now"}},
)
async def raise_jeopardy(
    id: CallId, body: PostCallJeopardyInputDTO, principal: Caller, svc: ServicesDep
) -> PostCallJeopardyOutputDTO:
    jeopardy = await svc.jeopardies.raise_jeopardy(principal, id, body.comment)
    return PostCallJeopardyOutputDTO(date=jeopardy.date, id=jeopardy.id)


@router.post(
    "/{id}/unjeopardy",
    **contractor_operation("answerCallJeopardy", ProcessType.TRACE),
    summary="The external system answers the open jeopardy (the history is kept).",
    response_model=PostExternalCallJeopardyOutputDTO,
    responses={**NOT_FOUND, 409: {**E, "description": "errorCode 9: no open jeopardy"}},
)
async def answer_jeopardy(
    id: CallId, body: PostExternalCallJeopardyInputDTO, principal: Caller, svc: ServicesDep
) -> PostExternalCallJeopardyOutputDTO:
    jeopardy = await svc.jeopardies.answer_jeopardy(principal, id, body.answerComment)
    return PostExternalCallJeopardyOutputDTO(answerDate=jeopardy.answer_date)


@router.post(
    "/{callId}/templink",
    **contractor_operation("createCallTempLink", ProcessType.TRACE),
    summary="The contractor gets a link token for a field employee (Committed calls only); the previous one dies.",
    description="Returns the token as a JSON string. It opens the /shared operations for this call only, until it "
    "expires (CABINET_FIELD_LINK_TTL_SECONDS, default 7 days), a new link is made, or the call is handed back "
    "(Committed -> New) or closed.",
    response_model=str,
    responses={**NOT_FOUND, 409: {**E, "description": "errorCode 7: the call is not Committed"}},
)
async def create_temp_link(callId: CallId, principal: Caller, svc: ServicesDep) -> str:
    return await svc.field_links.issue(principal, callId)
