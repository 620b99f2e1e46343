"""The contractor's pages: the call queue, a call (details, tasks, messages, jeopardy, status), notifications.
Every action is the contractor API's domain operation, with its rules (who sees which call, the state machine)."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import segno
from fastapi import Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from cabinet.apis.shared.files import archive_response, file_response, receive_upload
from cabinet.apis.shared.params import INT64_MAX
from cabinet.apis.web.deps import (
    ServicesDep,
    Viewer,
    contractor_op,
    is_htmx,
    locale_of,
    page,
    redirect,
    redirect_with_secret,
    secret_once,
)
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.i18n import label, ngettext
from cabinet.apis.web.routes import page_router
from cabinet.apis.web.thumbnails import is_image, thumbnail_response
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.core.principal import Principal
from cabinet.core.query import Condition, SortKey
from cabinet.core.query import Query as DataQuery
from cabinet.domains.fieldservice.attachments import contractor_reach
from cabinet.domains.fieldservice.errors import NotificationNotFound
from cabinet.domains.fieldservice.schemas import TEXT_MAX, CallListQuery
from cabinet.domains.fieldservice.states import CallAction, CallStatus, TaskStatus, call_permits
from cabinet.domains.registry import Services

router = page_router()

PAGE_SIZE = 25
THREAD_MAX = 500
FILE_FIELD = "file"
CallId = Annotated[int, Path(ge=1, le=INT64_MAX)]
Text = Annotated[str, Form(max_length=TEXT_MAX)]
Tristate = Annotated[str, Query(pattern="^(|yes|no)$")]


def _flag(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@router.get("/calls", **contractor_op("listCalls", ProcessType.NOTRACE))
async def queue(
    request: Request,
    principal: Viewer,
    svc: ServicesDep,
    status: Annotated[str, Query(pattern="^(|" + "|".join(CallStatus) + ")$")] = "",
    critical: Tristate = "",
    expired: Tristate = "",
    jeopardy: Tristate = "",
    q: Annotated[str, Query(max_length=200)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    query = CallListQuery(
        statuses=(CallStatus(status),) if status else (),
        critical=_flag(critical),
        expired=_flag(expired),
        jeopardy=_flag(jeopardy),
        text=q,
        limit=PAGE_SIZE,
        offset=offset,
    )
    views, total = await svc.calls.list_calls(principal, query)
    set_result_elements(len(views))
    filters = {"status": status, "critical": critical, "expired": expired, "jeopardy": jeopardy, "q": q}
    return page(
        request,
        "calls.html",
        views=views,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        filters=filters,
        statuses=[s.value for s in CallStatus],
    )


async def _thread(svc: Services, principal: Principal, call_id: int) -> list[Any]:
    """The call's messages, oldest first (the call was found for this viewer just before)."""
    messages, _ = await svc.messages.search_messages(
        principal,
        DataQuery(
            filter=Condition("call_id", "=", call_id),
            sort=(SortKey("date"), SortKey("id")),
            limit=THREAD_MAX,
        ),
    )
    return messages


async def _call_page(request: Request, principal: Principal, svc: Services, id: int, **extra: Any) -> Response:
    view = await svc.calls.get_call(principal, id)
    messages = await _thread(svc, principal, id)
    status = CallStatus(view.call.status)
    return page(
        request,
        "call.html",
        view=view,
        call=view.call,
        messages=messages,
        can_message=call_permits(status, CallAction.MESSAGE),
        can_jeopardy=call_permits(status, CallAction.RAISE_JEOPARDY) and not view.call.jeopardy_open,
        can_tasks=call_permits(status, CallAction.CHANGE_TASK),
        can_link=call_permits(status, CallAction.ISSUE_FIELD_LINK),
        can_attach=call_permits(status, CallAction.ATTACH),
        is_image=is_image,
        **extra,
    )


@router.get("/calls/{id}", **contractor_op("getCall", ProcessType.NOTRACE))
async def call_page(
    request: Request,
    id: CallId,
    principal: Viewer,
    svc: ServicesDep,
    notification: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
) -> Response:
    if notification is not None:  # opened from a notification: it is read now (a stale or foreign one: no matter)
        with contextlib.suppress(NotificationNotFound):
            await svc.notifications.read(principal, notification)
    url = secret_once(request)  # a field link issued just before, shown this once
    if url is None:
        return await _call_page(request, principal, svc, id)
    qr = Markup(segno.make(url, error="m").svg_inline(scale=4, title=_("QR code of the field link"), border=2))
    return await _call_page(request, principal, svc, id, new_link=url, qr=qr)


@router.post("/calls/{id}/link", **contractor_op("createCallTempLink", ProcessType.TRACE))
async def issue_link(request: Request, id: CallId, principal: Viewer, svc: ServicesDep) -> Response:
    """A new field link (the call's previous one stops working), shown once on the call's page after the redirect,
    with its QR code: only its id is kept."""
    token = await svc.field_links.issue(principal, id)
    url = f"{request.url.scheme}://{request.url.netloc}/ui/link/{token}"
    return redirect_with_secret(request, f"/ui/calls/{id}#field-link", _("Field link issued."), url)


# --- attachments of task results ---------------------------------------------------------------------------
TaskId = Annotated[int, Path(ge=1, le=INT64_MAX)]
AttachmentId = Annotated[int, Path(ge=1, le=INT64_MAX)]


@router.post("/tasks/{task_id}/attachments", **contractor_op("attachCallTaskFile", ProcessType.TRACE))
async def upload(request: Request, task_id: TaskId, principal: Viewer, svc: ServicesDep) -> Response:
    received = receive_upload(request, svc.attachments.max_bytes, field=FILE_FIELD)
    row = await svc.attachments.upload(contractor_reach(principal), task_id, received)
    return redirect(request, f"/ui/calls/{row.call_id}#result-{task_id}", _("%(name)s attached.", name=row.name))


@router.get(
    "/tasks/{task_id}/attachments/{attachment_id}", **contractor_op("downloadCallTaskFile", ProcessType.NOTRACE)
)
async def download(task_id: TaskId, attachment_id: AttachmentId, principal: Viewer, svc: ServicesDep) -> Response:
    return file_response(await svc.attachments.download(contractor_reach(principal), task_id, attachment_id))


@router.get(
    "/tasks/{task_id}/attachments/{attachment_id}/thumb", **contractor_op("thumbCallTaskFile", ProcessType.NOTRACE)
)
async def thumbnail(task_id: TaskId, attachment_id: AttachmentId, principal: Viewer, svc: ServicesDep) -> Response:
    return thumbnail_response(await svc.attachments.thumbnail(contractor_reach(principal), task_id, attachment_id))


@router.get("/calls/{id}/report.pdf", **contractor_op("getCallWorkReport", ProcessType.NOTRACE))
async def work_report(id: CallId, principal: Viewer, svc: ServicesDep) -> Response:
    return file_response(await svc.reports.pdf(principal, id))


@router.get("/calls/{id}/evidence.zip", **contractor_op("getCallEvidence", ProcessType.NOTRACE))
async def evidence(id: CallId, principal: Viewer, svc: ServicesDep) -> Response:
    bundle = await svc.reports.evidence(principal, id)
    return archive_response(bundle.name, bundle.chunks)


@router.post("/calls/{id}/status", **contractor_op("setCallStatus", ProcessType.TRACE))
async def change_status(
    request: Request,
    id: CallId,
    principal: Viewer,
    svc: ServicesDep,
    status: Annotated[CallStatus, Form()],
    comments: Text = "",
) -> Response:
    await svc.calls.change_status(principal, id, status, comments or None)
    said = {
        CallStatus.COMMITTED: _("Call accepted."),
        CallStatus.DONE: _("Call marked done."),
        CallStatus.NEW: _("Call returned to the dispatcher."),
    }
    return redirect(request, f"/ui/calls/{id}", said.get(status, _("Status changed.")))


@router.post("/calls/{id}/message", **contractor_op("postCallMessage", ProcessType.TRACE))
async def post_message(request: Request, id: CallId, principal: Viewer, svc: ServicesDep, message: Text) -> Response:
    await svc.messages.post_message(principal, id, message)
    if is_htmx(request):  # only the thread is redrawn, with an empty form
        messages = await _thread(svc, principal, id)
        return page(request, "_thread.html", call_id=id, messages=messages, can_message=True, sent=True)
    return redirect(request, f"/ui/calls/{id}#messages", _("Message sent."))


@router.post("/calls/{id}/jeopardy", **contractor_op("raiseCallJeopardy", ProcessType.TRACE))
async def raise_jeopardy(request: Request, id: CallId, principal: Viewer, svc: ServicesDep, comment: Text) -> Response:
    await svc.jeopardies.raise_jeopardy(principal, id, comment)
    return redirect(request, f"/ui/calls/{id}", _("Jeopardy raised: the dispatcher is told."))


@router.post("/tasks/{task_id}/status", **contractor_op("setCallTaskStatus", ProcessType.TRACE))
async def change_task(
    request: Request,
    task_id: Annotated[int, Path(ge=1, le=INT64_MAX)],
    principal: Viewer,
    svc: ServicesDep,
    status: Annotated[TaskStatus, Form()],
) -> Response:
    task = await svc.tasks.change_task_status(principal, task_id, status)
    if is_htmx(request):
        return page(request, "_task.html", task=task, can_tasks=True)
    return redirect(
        request, f"/ui/calls/{task.call_id}", _("Task marked “%(status)s”.", status=label("task_status", status))
    )


# --- notifications -------------------------------------------------------------------------------------------
@router.get("/notifications", **contractor_op("listNotifications", ProcessType.NOTRACE))
async def notifications(
    request: Request, principal: Viewer, svc: ServicesDep, offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0
) -> Response:
    found = await svc.notifications.list(principal, limit=PAGE_SIZE, offset=offset, unread_only=False)
    set_result_elements(len(found.items))
    return page(request, "notifications.html", items=found.items, unread=found.unread, offset=offset, size=PAGE_SIZE)


@router.get("/notifications/badge", operation_id="ui_unreadBadge")
async def unread_badge(request: Request, principal: Viewer, svc: ServicesDep) -> Response:
    """The unread count in the menu (polled by htmx; not metered: a passive refresh, not an action)."""
    found = await svc.notifications.list(principal, limit=1, offset=0, unread_only=True)
    badge = Markup("")
    if found.unread:
        locale_of(request)  # the viewer's own language (the route's dependencies knew only the cookie's)
        unread = ngettext("unread notification", "unread notifications", found.unread)
        badge = Markup('<span class="badge count">{}<span class="visually-hidden"> {}</span></span>').format(
            found.unread, unread
        )
    # the same count beside a phone's folded "Menu" (an out-of-band swap: one request fills both places)
    menu = Markup('<span id="unread-menu" hx-swap-oob="innerHTML">{}</span>').format(badge)
    return HTMLResponse(badge + menu, headers={"Cache-Control": "no-store"})


@router.post("/notifications/{id}/read", **contractor_op("readNotification", ProcessType.TRACE))
async def read_notification(
    request: Request, id: Annotated[int, Path(ge=1, le=INT64_MAX)], principal: Viewer, svc: ServicesDep
) -> Response:
    await svc.notifications.read(principal, id)
    return redirect(request, "/ui/notifications")


@router.post("/notifications/read-all", **contractor_op("readAllNotifications", ProcessType.TRACE))
async def read_all(request: Request, principal: Viewer, svc: ServicesDep) -> Response:
    count = await svc.notifications.read_all(principal)
    done = ngettext("%(num)s notification marked read.", "%(num)s notifications marked read.", count)
    return redirect(request, "/ui/notifications", done)
