"""The field employee's operations (``/shared``), reached with the link token as ``?token=`` and no account: the
call, the report that makes it Done, attachments, and the tasks' results. Each reaches only the link's call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response
from fastapi.responses import StreamingResponse

from cabinet.apis.contractor.deps import FieldLink, ServicesDep, field_link_operation
from cabinet.apis.contractor.files import (
    DOWNLOAD_OK,
    SIGNATURE_BODY,
    SIGNATURE_FILE_FIELD,
    SIGNER_NAME_FIELD,
    UPLOAD_ERRORS,
    file_response,
    receive_upload,
    with_body,
    with_upload_body,
)
from cabinet.apis.contractor.keys import KeyedRoute
from cabinet.apis.contractor.mappers import (
    attachment_out,
    call_out,
    expense_line,
    material_line,
    result_out,
    signature_out,
    visit_out,
)
from cabinet.apis.contractor.routes import api_router
from cabinet.apis.contractor.schemas import (
    INT64_MAX,
    CallDTO,
    CallTaskAttachmentDTO,
    CallTaskResultDTO,
    ErrorDTO,
    PostCallResultDTO,
    PostSignatureOutputDTO,
    PostVisitInputDTO,
    PostVisitOutputDTO,
)
from cabinet.core.errors import InvalidInput
from cabinet.core.http.docs import Responses
from cabinet.core.metering import ProcessType
from cabinet.domains.fieldservice.attachments import link_reach
from cabinet.domains.fieldservice.schemas import (
    SIGNATURE_MAX_BYTES,
    FieldReport,
    FieldTaskResult,
    Position,
    VisitAction,
    VisitCheck,
)

router = api_router(prefix="/shared", tags=["Shared"], route_class=KeyedRoute)

TaskId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Task id (of the link's call)")]
AttachmentId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Attachment id")]
E: dict[str, Any] = {"model": ErrorDTO}
LINK: Responses = {
    400: {**E, "description": "errorCode 0: no token"},
    404: {**E, "description": "errorCode 1: no call for this token; 20: the link expired or was replaced"},
}


@router.get(
    "/call",
    **field_link_operation("getSharedCall", ProcessType.NOTRACE),
    summary="The link's call.",
    response_model=CallDTO,
    responses=LINK,
)
async def get_shared_call(link: FieldLink, svc: ServicesDep) -> CallDTO:
    return call_out(await svc.field_links.call(link))


@router.post(
    "/call/done",
    **field_link_operation("reportSharedCallDone", ProcessType.TRACE),
    summary="The field employee reports the call done: comment, task results, expenses and materials; all or nothing.",
    description="The call moves Committed -> Done with the comment; each listed task moves from New to its "
    "newStatus (Done or Canceled); the expenses and materials are added to the call's cost estimate (opened as a "
    "Draft when the call has none), under the estimate's rules (see /callCost). Nothing changes unless everything "
    "can.",
    response_model=CallDTO,
    responses={
        400: {
            **E,
            "description": "errorCode 0: invalid report (or no token); 6: the comment is blank; 15: an expense's "
            "expenditureItemId is not one of the call's items",
        },
        404: {
            **E,
            "description": "errorCode 1: no call for this token, or a task not of this call; 20: the link expired "
            "or was replaced",
        },
        409: {
            **E,
            "description": "errorCode 7: the call is not Committed; 3: a task cannot move to its newStatus; 11, 12, "
            "14: the cost estimate takes no more lines (already sent, past its deadline, full)",
        },
    },
)
async def report_done(body: PostCallResultDTO, link: FieldLink, svc: ServicesDep) -> CallDTO:
    report = FieldReport(
        comments=body.comments,
        tasks=[FieldTaskResult(item.taskId, item.newStatus) for item in body.callTaskResults],
        expenses=[expense_line(e) for e in body.expenses],
        materials=[material_line(m) for m in body.materials],
    )
    return call_out(await svc.field_links.submit_report(link, report))


@router.post(
    "/call/visit",
    **field_link_operation("postSharedCallVisit", ProcessType.TRACE),
    summary="The field employee checks in on site, or out (not in the seed); answers the call's visits.",
    description="`checkIn` opens a visit, `checkOut` closes the open one; several visits per call, one open at a "
    "time. The service keeps its own time (`checkInAt`: when the check arrived; a check queued offline arrives "
    "later), the phone's (`clientTime`) and the position when the person allowed it (`latitude` and `longitude` "
    "together, `accuracyMeters` optional). A check-in's distance to the service object is kept and one farther "
    "than CABINET_FIELD_GEOFENCE_METERS (default 500) is marked `outsideGeofence`, never refused. While the call "
    "is Committed or Done.",
    response_model=PostVisitOutputDTO,
    responses={
        **LINK,
        400: {**E, "description": "errorCode 0: invalid body (latitude without longitude, say) or no token"},
        409: {
            **E,
            "description": "errorCode 28: check-out without an open visit; 29: check-in while a visit is open; "
            "7: the call is not Committed or Done",
        },
    },
)
async def post_visit(body: PostVisitInputDTO, link: FieldLink, svc: ServicesDep) -> PostVisitOutputDTO:
    if (body.latitude is None) != (body.longitude is None) or (body.latitude is None and body.accuracyMeters):
        raise InvalidInput("latitude and longitude come together; accuracyMeters only with them")
    position = (
        Position(body.latitude, body.longitude, body.accuracyMeters)
        if body.latitude is not None and body.longitude is not None
        else None
    )
    check = VisitCheck(VisitAction(body.action), body.clientTime, position)
    return PostVisitOutputDTO(visits=[visit_out(v) for v in await svc.visits.check(link, check)])


@router.post(
    "/call/signature",
    **with_body(
        field_link_operation("postSharedCallSignature", ProcessType.TRACE, store_payloads=False), SIGNATURE_BODY
    ),
    status_code=201,
    summary="The customer's signature on the phone (not in the seed): a PNG and the name they typed.",
    description="multipart/form-data: `file` (a PNG, at most 2 MiB) and `signerName` (1..200 characters). A new "
    "signature replaces the call's current one (`signature` on GET /call/{callId}); the replaced one is kept and "
    "goes into the evidence bundle. While the call is Committed or Done.",
    response_model=PostSignatureOutputDTO,
    responses={
        **LINK,
        400: {**E, "description": "errorCode 0: no file, no or blank signerName, malformed body, or no token"},
        409: {**E, "description": "errorCode 7: the call is not Committed or Done"},
        **UPLOAD_ERRORS,
        422: {
            **E,
            "description": "errorCode 21: not a PNG; 22: damaged; 23: larger than 2 MiB; 24: too many pixels",
        },
    },
)
async def post_signature(request: Request, link: FieldLink, svc: ServicesDep) -> PostSignatureOutputDTO:
    upload = receive_upload(request, SIGNATURE_MAX_BYTES, field=SIGNATURE_FILE_FIELD, text_fields=(SIGNER_NAME_FIELD,))
    return PostSignatureOutputDTO(signature=signature_out(await svc.attachments.sign(link, upload)))


@router.post(
    "/callTask/{id}/attachment",
    **with_upload_body(field_link_operation("attachSharedCallTaskFile", ProcessType.TRACE, store_payloads=False)),
    summary="The field employee attaches a file to a Done task once the call is Done (multipart field Attachment).",
    response_model=CallTaskAttachmentDTO,
    responses={
        **LINK,
        404: {**E, "description": "errorCode 1: task not of the link's call; 20: the link expired or was replaced"},
        409: {**E, "description": "errorCode 7: the call is not Done; 3: the task is not Done"},
        **UPLOAD_ERRORS,
    },
)
async def attach_shared_file(id: TaskId, request: Request, link: FieldLink, svc: ServicesDep) -> CallTaskAttachmentDTO:
    upload = receive_upload(request, svc.attachments.max_bytes)
    return attachment_out(await svc.attachments.upload(link_reach(link), id, upload))


@router.get(
    "/callTask/{id}/attachment/{attachmentId}/download",
    **field_link_operation("downloadSharedCallTaskFile", ProcessType.NOTRACE),
    summary="The field employee downloads a file of the link's call.",
    response_class=StreamingResponse,
    responses={
        **DOWNLOAD_OK,
        **LINK,
        403: {**E, "description": "errorCode 0: the task is not of the link's call"},
        404: {**E, "description": "errorCode 2: attachment not found; 1 / 20: the link (see above)"},
    },
)
async def download_shared_file(id: TaskId, attachmentId: AttachmentId, link: FieldLink, svc: ServicesDep) -> Response:
    return file_response(await svc.attachments.download(link_reach(link), id, attachmentId))


@router.get(
    "/callTask/{id}/result",
    **field_link_operation("getSharedCallTaskResult", ProcessType.NOTRACE),
    summary="The result (attachments) of a Done task of the link's call.",
    response_model=CallTaskResultDTO,
    responses={
        **LINK,
        404: {**E, "description": "errorCode 1: task not of the link's call; 2: not Done; 20: the link expired"},
    },
)
async def get_shared_result(id: TaskId, link: FieldLink, svc: ServicesDep) -> CallTaskResultDTO:
    return result_out((await svc.field_links.task_result(link, id)).attachments)
