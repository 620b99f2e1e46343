"""Tasks of calls: list, one, status (New -> Done | Canceled), result and its attachments, and the task feed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from cabinet.apis.contractor.deps import Caller, ServicesDep, contractor_operation
from cabinet.apis.contractor.files import (
    DOWNLOAD_OK,
    UPLOAD_ERRORS,
    file_response,
    receive_upload,
    with_upload_body,
)
from cabinet.apis.contractor.keys import KeyedRoute
from cabinet.apis.contractor.mappers import attachment_out, json_list, result_out, task_feed_out, task_view_out
from cabinet.apis.contractor.routes import api_router
from cabinet.apis.contractor.routes.calls import FEED_DESCRIPTION, Cursor, FeedLimit
from cabinet.apis.contractor.schemas import (
    INT64_MAX,
    CallTaskAttachmentDTO,
    CallTaskFeedDTO,
    CallTaskResultDTO,
    CallTaskStatusInputDTO,
    CallTasktOutputDTO,
    ErrorDTO,
)
from cabinet.core.http.docs import Responses
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.domains.fieldservice.attachments import contractor_reach, external_reach
from cabinet.domains.fieldservice.schemas import FEED_LIMIT_DEFAULT, FEED_LIMIT_MAX

router = api_router(prefix="/calltask", tags=["CallTask"], route_class=KeyedRoute)

TaskId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Task id")]
AttachmentId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Attachment id")]
E: dict[str, Any] = {"model": ErrorDTO}
NOT_FOUND: Responses = {404: {**E, "description": "errorCode 1: task not found"}}
FILE_NOT_FOUND: Responses = {404: {**E, "description": "errorCode 1: task not found; 2: attachment not found"}}


@router.get(
    "",
    **contractor_operation("listCallTasks", ProcessType.NOTRACE),
    summary="Tasks the caller may see, by id; page with afterId (the seed's version had no paging).",
    response_model=list[CallTasktOutputDTO],
)
async def list_tasks(
    principal: Caller,
    svc: ServicesDep,
    afterId: Annotated[int, Query(ge=0, le=INT64_MAX, description="Only tasks with a greater id")] = 0,
    limit: Annotated[int, Query(ge=1, le=FEED_LIMIT_MAX)] = FEED_LIMIT_DEFAULT,
) -> Response:
    tasks = await svc.tasks.list_tasks(principal, afterId, limit)
    set_result_elements(len(tasks))
    return json_list(CallTasktOutputDTO, tasks, task_view_out)


@router.get(
    "/modifications/{timestamp}",
    **contractor_operation("getCallTaskModifications", ProcessType.NOTRACE),
    summary="Tasks changed after a change number (incremental sync; not in the seed).",
    description=FEED_DESCRIPTION,
    response_model=list[CallTaskFeedDTO],
)
async def task_modifications(
    timestamp: Cursor, principal: Caller, svc: ServicesDep, limit: FeedLimit = FEED_LIMIT_DEFAULT
) -> Response:
    tasks = await svc.tasks.tasks_changed(principal, timestamp, limit)
    set_result_elements(len(tasks))
    return json_list(CallTaskFeedDTO, tasks, task_feed_out)


@router.get(
    "/{id}",
    **contractor_operation("getCallTask", ProcessType.NOTRACE),
    summary="One task.",
    response_model=CallTasktOutputDTO,
    responses=NOT_FOUND,
)
async def get_task(id: TaskId, principal: Caller, svc: ServicesDep) -> CallTasktOutputDTO:
    return task_view_out(await svc.tasks.get_task(principal, id))


@router.post(
    "/{id}/status",
    **contractor_operation("setCallTaskStatus", ProcessType.TRACE),
    summary="The contractor completes (Done: the result appears) or cancels a New task of a Committed call.",
    status_code=204,
    response_class=Response,
    responses={**NOT_FOUND, 409: {**E, "description": "errorCode 3: the task cannot change to that status"}},
)
async def set_task_status(id: TaskId, body: CallTaskStatusInputDTO, principal: Caller, svc: ServicesDep) -> Response:
    await svc.tasks.change_task_status(principal, id, body.status)
    return Response(status_code=204)


@router.get(
    "/{id}/result",
    **contractor_operation("getCallTaskResult", ProcessType.NOTRACE),
    summary="The result of a Done task (its attachments).",
    response_model=CallTaskResultDTO,
    responses={404: {**E, "description": "errorCode 1: task not found; 2: the task has no result (not Done)"}},
)
async def get_task_result(id: TaskId, principal: Caller, svc: ServicesDep) -> CallTaskResultDTO:
    return result_out((await svc.tasks.task_result(principal, id)).attachments)


@router.post(
    "/{id}/attachment",
    **with_upload_body(contractor_operation("attachCallTaskFile", ProcessType.TRACE, store_payloads=False)),
    summary="The contractor attaches a file to a Done task of a Committed or Done call (multipart field Attachment).",
    description="The file streams into the file store, capped at CABINET_ATTACHMENT_MAX_BYTES; its type is decided "
    "by its content (JPEG, PNG, TIFF, DOC, DOCX, XLS, XLSX, PDF, ZIP); images must decode within "
    "CABINET_ATTACHMENT_MAX_PIXELS. The task and its call reappear in the change feeds with the new file.",
    response_model=CallTaskAttachmentDTO,
    responses={
        **NOT_FOUND,
        409: {**E, "description": "errorCode 7: the call is not Committed or Done; 3: the task is not Done"},
        **UPLOAD_ERRORS,
    },
)
async def attach_file(id: TaskId, request: Request, principal: Caller, svc: ServicesDep) -> CallTaskAttachmentDTO:
    upload = receive_upload(request, svc.attachments.max_bytes)
    return attachment_out(await svc.attachments.upload(contractor_reach(principal), id, upload))


@router.get(
    "/{id}/attachment/{attachmentId}",
    **contractor_operation("getCallTaskFile", ProcessType.NOTRACE),
    summary="The external system fetches a file of a task's result (the first fetch sets its `downloaded`).",
    response_class=StreamingResponse,
    responses={**DOWNLOAD_OK, **FILE_NOT_FOUND},
)
async def get_file(id: TaskId, attachmentId: AttachmentId, principal: Caller, svc: ServicesDep) -> Response:
    return file_response(await svc.attachments.download(external_reach(principal), id, attachmentId))


@router.get(
    "/{id}/attachment/{attachmentId}/download",
    **contractor_operation("downloadCallTaskFile", ProcessType.NOTRACE),
    summary="The contractor downloads a file of a task's result.",
    response_class=StreamingResponse,
    responses={**DOWNLOAD_OK, **FILE_NOT_FOUND},
)
async def download_file(id: TaskId, attachmentId: AttachmentId, principal: Caller, svc: ServicesDep) -> Response:
    return file_response(await svc.attachments.download(contractor_reach(principal), id, attachmentId))
