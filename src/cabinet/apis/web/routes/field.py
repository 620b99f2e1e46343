"""The field employee's page (/ui/link/{token}): no account, only the link a contractor gave. The call's address
and map, the description for field staff, the tasks to tick, comment, materials and expenses — sent as the same
operation as ``POST /shared/call/done`` (FieldLinkService.submit_report) — then photos of the Done tasks.
A link reaches its own call only; an expired, replaced or withdrawn link says so."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import Depends, Form, Path, Request
from fastapi.responses import Response

from cabinet.apis.shared.auth import services_of
from cabinet.apis.shared.files import receive_upload
from cabinet.apis.shared.params import INT64_MAX
from cabinet.apis.web.deps import ServicesDep, locale_of, page, redirect, web_of
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.routes import page_router
from cabinet.apis.web.thumbnails import is_image, thumbnail_response
from cabinet.apis.web.views import decimal_of
from cabinet.core.errors import FieldIssue, InvalidInput
from cabinet.core.http.metering import metered_operation
from cabinet.core.metering import ProcessType, Service
from cabinet.core.principal import Principal
from cabinet.core.tracing import current_trace
from cabinet.domains.fieldservice.attachments import link_reach
from cabinet.domains.fieldservice.field_links import TOKEN_MAX_CHARS, FieldLinkAccess
from cabinet.domains.fieldservice.schemas import TEXT_MAX, ExpenseLine, FieldReport, FieldTaskResult, MaterialLine
from cabinet.domains.fieldservice.states import MaterialOwner, TaskStatus

router = page_router(prefix="/link/{token}")
pwa = page_router()  # what makes the field page an installable app that reopens offline
STATIC = FilePath(__file__).resolve().parent.parent / "static"

MATERIAL_ROWS = 10  # shown one at a time (Add material)
EXPENSE_ROWS = 10  # shown one at a time (Add expense)
PHOTO_FIELD = "photo"
TaskId = Annotated[int, Path(ge=1, le=INT64_MAX)]


async def link_access(request: Request, token: Annotated[str, Path(min_length=1, max_length=TOKEN_MAX_CHARS)]) -> Any:
    access: FieldLinkAccess = await services_of(request).field_links.resolve(token)
    trace = current_trace()
    trace.username = access.principal.username
    trace.company = access.principal.company_key
    # the visitor's language falls back to the company's (locale_of), never to the contractor's own preference
    request.state.company_locale = getattr(getattr(access.principal.account, "company", None), "locale", None)
    return access


async def link_principal(access: Annotated[FieldLinkAccess, Depends(link_access)]) -> Principal:
    return access.principal


Link = Annotated[FieldLinkAccess, Depends(link_access)]
_declare = metered_operation(Service.STUDIO, link_principal)


def link_op(name: str, process_type: ProcessType) -> dict[str, Any]:
    """Metered and audited as the call's owner with the credential kind field_link (like /shared), no payloads."""
    charged = process_type is not ProcessType.NOTRACE  # a look at the page takes no points (as the web pages)
    return {**_declare(f"ui_{name}", process_type, store_payloads=False, charged=charged), "include_in_schema": False}


@pwa.get("/field-sw.js", operation_id="ui_fieldServiceWorker")
async def service_worker() -> Response:
    """The field pages' service worker: served from here (not /ui/static) so it may control /ui/link/."""
    return Response(
        (STATIC / "field-sw.js").read_bytes(),
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/ui/link/", "Cache-Control": "no-cache"},
    )


@pwa.get("/link/{token}/manifest.webmanifest", operation_id="ui_fieldManifest")
async def manifest(request: Request, token: Annotated[str, Path(min_length=1, max_length=TOKEN_MAX_CHARS)]) -> Response:
    """The web app manifest of one link's page (installable; opens the link full screen), named with the
    deployment's brand in the visitor's language."""
    brand, lang = web_of(request).runtime.settings.brand_name, locale_of(request)  # the language first: _() uses it
    body = {
        "name": _("%(brand)s · field work", brand=brand),
        "short_name": brand[:12],
        "lang": lang,
        "start_url": f"/ui/link/{token}",
        "scope": "/ui/link/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1f4e79",
        "icons": [{"src": "/ui/static/favicon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    return Response(json.dumps(body), media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@router.get("", **link_op("getSharedCall", ProcessType.NOTRACE))
async def field_page(request: Request, token: str, access: Link, svc: ServicesDep) -> Response:
    view = await svc.field_links.call(access)
    return page(
        request,
        "field.html",
        token=token,
        view=view,
        call=view.call,
        regional_of=access.principal,  # the contractor's zone and currency; the language is the visitor's
        owners=[o.value for o in MaterialOwner],
        material_rows=range(1, MATERIAL_ROWS + 1),
        expense_rows=range(1, EXPENSE_ROWS + 1),
        is_image=is_image,
    )


def expenses_of(form: Any, item_ids: list[int]) -> list[ExpenseLine]:
    """The expense rows (expense_row_<n>_item = an item id, expense_row_<n>_count = a count; an empty count: no
    row) and, from pages and drafts older than the rows, expense_<item id> = a count. One line per item: the
    counts of rows naming the same item add up."""
    counts: dict[int, Decimal] = {}

    def add(item_id: int, text: str, field: str) -> None:
        count = decimal_of(text, field)
        counts[item_id] = counts[item_id] + count if item_id in counts else count

    for row in range(1, EXPENSE_ROWS + 1):
        text = str(form.get(f"expense_row_{row}_count") or "").strip()
        if not text:
            continue
        item = str(form.get(f"expense_row_{row}_item") or "").strip()
        if not item.isdigit() or int(item) not in item_ids:
            raise InvalidInput(_("Unknown expense item"), issues=[FieldIssue(f"expense_row_{row}_item", _("unknown"))])
        add(int(item), text, f"expense_row_{row}_count")
    for item_id in item_ids:  # the form before the rows (a draft kept on a phone across an update)
        text = str(form.get(f"expense_{item_id}") or "").strip()
        if text:
            add(item_id, text, f"expense_{item_id}")
    return [ExpenseLine(item_id, count) for item_id, count in counts.items()]


def report_of(form: Any, comments: str, task_ids: list[int], item_ids: list[int]) -> FieldReport:
    """The report a submitted form describes: task_<id> = Done | Canceled (anything else: left as it is), the
    filled expense rows (expenses_of) and the filled material rows."""
    tasks = [
        FieldTaskResult(task_id, TaskStatus(form.get(f"task_{task_id}")))
        for task_id in task_ids
        if form.get(f"task_{task_id}") in (TaskStatus.DONE.value, TaskStatus.CANCELED.value)
    ]
    expenses = expenses_of(form, item_ids)
    materials: list[MaterialLine] = []
    for row in range(1, MATERIAL_ROWS + 1):
        name = str(form.get(f"material_{row}_name") or "").strip()
        if not name:
            continue
        owner = str(form.get(f"material_{row}_owner") or MaterialOwner.UNKNOWN.value)
        if owner not in {o.value for o in MaterialOwner}:
            raise InvalidInput(
                _("Unknown owner of a material"), issues=[FieldIssue(f"material_{row}_owner", _("unknown"))]
            )
        materials.append(
            MaterialLine(
                name=name,
                serial_number=str(form.get(f"material_{row}_serial") or "").strip(),
                owner_type=MaterialOwner(owner),
                count=decimal_of(str(form.get(f"material_{row}_count") or "1"), f"material_{row}_count"),
                price=decimal_of(str(form.get(f"material_{row}_price") or "0"), f"material_{row}_price"),
            )
        )
    return FieldReport(comments=comments, tasks=tasks, expenses=expenses, materials=materials)


@router.post("/done", **link_op("reportSharedCallDone", ProcessType.TRACE))
async def report_done(
    request: Request,
    token: str,
    access: Link,
    svc: ServicesDep,
    comments: Annotated[str, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    view = await svc.field_links.call(access)
    form = await request.form()
    report = report_of(form, comments, [t.id for t in view.tasks], [i.id for i in view.items])
    await svc.field_links.submit_report(access, report)
    return redirect(request, f"/ui/link/{token}", _("Thank you: the visit is reported. You can add photos below."))


@router.post("/tasks/{task_id}/photo", **link_op("attachSharedCallTaskFile", ProcessType.TRACE))
async def upload_photo(request: Request, token: str, task_id: TaskId, access: Link, svc: ServicesDep) -> Response:
    upload = receive_upload(request, svc.attachments.max_bytes, field=PHOTO_FIELD)
    await svc.attachments.upload(link_reach(access), task_id, upload)
    return redirect(request, f"/ui/link/{token}#task-{task_id}", _("Photo added."))


@router.get("/tasks/{task_id}/attachments/{attachment_id}/thumb", **link_op("thumbSharedFile", ProcessType.NOTRACE))
async def thumbnail(
    token: str, task_id: TaskId, attachment_id: Annotated[int, Path(ge=1, le=INT64_MAX)], access: Link, svc: ServicesDep
) -> Response:
    return thumbnail_response(await svc.attachments.thumbnail(link_reach(access), task_id, attachment_id))
