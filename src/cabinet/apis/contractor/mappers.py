"""Rows and views of the contractor domain as the seed's DTOs (the only place that knows both)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import orjson
from fastapi import Response
from pydantic import BaseModel, TypeAdapter

from cabinet.apis.contractor.schemas import (
    AccessServiceTokensDTO,
    CallCostDTO,
    CallDTO,
    CallJeopardyDTO,
    CallMessageDTO,
    CallTaskAttachmentDTO,
    CallTaskFeedDTO,
    CallTaskResultDTO,
    CallTasktOutputDTO,
    ExpenseDTO,
    MaterialDTO,
    NotificationDTO,
    PostExpenseInputDTO,
    PostMaterialInputDTO,
    SignatureDTO,
    TokenDTO,
    UserDTO,
    VisitDTO,
)
from cabinet.domains.fieldservice.schemas import (
    CallView,
    CostView,
    ExpenseLine,
    IssuedPair,
    MaterialLine,
    TaskView,
    line_total,
)
from cabinet.domains.fieldservice.states import TaskStatus
from cabinet.models import CallJeopardy, CallMessage, CallSignature, CallTask, CallVisit, Notification

M = TypeVar("M", bound=BaseModel)
_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def json_list(model: type[M], rows: Iterable[Any], mapper: Callable[[Any], M], **headers: str) -> Response:
    """A list answer serialised once: the DTOs are built (and so checked) here, then dumped straight to JSON,
    instead of FastAPI checking the whole page a second time against the response model (feeds of a thousand
    calls spend most of their time there). The route keeps its ``response_model`` for the document."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    body = adapter.dump_json([mapper(row) for row in rows])
    return Response(body, media_type="application/json", headers=headers or None)


def tokens_out(pair: IssuedPair) -> AccessServiceTokensDTO:
    return AccessServiceTokensDTO(
        access=TokenDTO(token=pair.access, expiresIn=pair.access_expires_in_ms),
        service=TokenDTO(token=pair.service, expiresIn=pair.service_expires_in_ms),
    )


# --- a call and what it embeds, each written once as the plain data of its JSON ----------------------------------
# The list, the feeds and GET /call/{id} write these straight out (``json_data``): a feed page of 1,000 calls built
# some 6,000 pydantic objects only to dump them again. The DTOs other routes answer with are validated from the
# same data (``*_out``), so each mapping exists once; tests/apis/contractor/test_call_json.py holds the plain data's
# JSON byte for byte to the DTO's own (keys in order, UTC times with ``Z``, floats as floats).
def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def attachment_json(a: Any) -> dict[str, Any]:
    return {
        "blobServiceFileName": a.blob_name,
        "downloaded": a.downloaded_at,
        "id": a.id,
        "name": a.name,
        "type": a.type,
        "uploaded": a.uploaded_at,
        "size": a.size,
        "sha256": a.sha256,
    }


def attachment_out(a: Any) -> CallTaskAttachmentDTO:
    return CallTaskAttachmentDTO.model_validate(attachment_json(a))


def result_out(attachments: Iterable[Any]) -> CallTaskResultDTO:
    return CallTaskResultDTO.model_validate({"attachments": [attachment_json(a) for a in attachments]})


_DONE = TaskStatus.DONE.value  # read once: an enum member's value is a property (a feed page asks 2,000 times)


def task_json(task: CallTask | Any, attachments: Iterable[Any] = ()) -> dict[str, Any]:
    """A task; a Done one carries its result (the result's attachments)."""
    done = task.status == _DONE
    result = {"attachments": [attachment_json(a) for a in attachments]} if done else None
    return {"id": task.id, "result": result, "status": task.status, "title": task.title}


def task_out(task: CallTask | Any, attachments: Iterable[Any] = ()) -> CallTasktOutputDTO:
    return CallTasktOutputDTO.model_validate(task_json(task, attachments))


def task_view_out(view: TaskView) -> CallTasktOutputDTO:
    return task_out(view.task, view.attachments)


def task_feed_out(view: TaskView) -> CallTaskFeedDTO:
    task = view.task
    return CallTaskFeedDTO.model_validate(
        {**task_json(task, view.attachments), "callId": task.call_id, "timestamp": task.change_no}
    )


def jeopardy_json(j: CallJeopardy | Any) -> dict[str, Any]:
    return {
        "answerComment": j.answer_comment,
        "answerDate": j.answer_date,
        "callId": j.call_id,
        "comment": j.comment,
        "date": j.date,
        "id": j.id,
        "timestamp": j.change_no,
    }


def jeopardy_out(j: CallJeopardy) -> CallJeopardyDTO:
    return CallJeopardyDTO.model_validate(jeopardy_json(j))


def message_out(m: CallMessage) -> CallMessageDTO:
    owner = UserDTO(id=m.owner_id, name=m.owner_name) if m.owner_id is not None else None
    return CallMessageDTO(callId=m.call_id, date=m.date, id=m.id, message=m.message, owner=owner, timestamp=m.change_no)


def _location_json(latitude: Any, longitude: Any, accuracy: Any) -> dict[str, Any] | None:
    if latitude is None or longitude is None:
        return None
    return {"latitude": float(latitude), "longitude": float(longitude), "accuracyMeters": _float(accuracy)}


def visit_json(v: CallVisit | Any) -> dict[str, Any]:
    return {
        "id": v.id,
        "checkInAt": v.check_in_at,
        "checkInClientTime": v.check_in_client_at,
        "checkInLocation": _location_json(v.check_in_latitude, v.check_in_longitude, v.check_in_accuracy),
        "checkOutAt": v.check_out_at,
        "checkOutClientTime": v.check_out_client_at,
        "checkOutLocation": _location_json(v.check_out_latitude, v.check_out_longitude, v.check_out_accuracy),
        "distanceMeters": _float(v.distance_meters),
        "outsideGeofence": v.outside_geofence,
    }


def visit_out(v: CallVisit | Any) -> VisitDTO:
    return VisitDTO.model_validate(visit_json(v))


def signature_json(s: CallSignature | Any) -> dict[str, Any]:
    return {
        "signerName": s.signer_name,
        "signedAt": s.signed_at,
        "attachmentId": s.id,
        "size": s.size,
        "sha256": s.sha256,
    }


def signature_out(s: CallSignature | Any) -> SignatureDTO:
    return SignatureDTO.model_validate(signature_json(s))


def call_json(view: CallView) -> dict[str, Any]:
    c = view.call
    attachments = view.attachments
    return {
        "availableExpenditureItems": [{"id": i.id, "name": i.name} for i in view.items],
        "clientName": c.client_name,
        "comments": c.comments,
        "commited": c.commited_at,
        "contactPersonEmail": c.contact_person_email,
        "contactPersonName": c.contact_person_name,
        "contactPersonPhone": c.contact_person_phone,
        "created": c.created,
        "critical": c.critical,
        "descriptionHtmlText": c.description_html,
        "descriptionTextForFieldEmployee": c.description_for_field_employee,
        "finished": c.finished_at,
        "id": c.id,
        "isExpired": view.is_expired,
        "isJeopardy": c.jeopardy_open,
        "jeopardies": [jeopardy_json(j) for j in view.jeopardies],
        "number": c.number,
        "serviceObjectAddress": c.service_object_address,
        "serviceObjectLatitude": float(c.service_object_latitude),
        "serviceObjectLongitude": float(c.service_object_longitude),
        "serviceObjectName": c.service_object_name,
        "serviceObjectType": c.service_object_type,
        "status": c.status,
        "tasks": [task_json(t, attachments.get(t.id, ())) for t in view.tasks],
        "timestamp": c.change_no,
        "ttf": c.ttf,
        "tto": c.tto,
        "userId": c.owner_id,
        "visits": [visit_json(v) for v in view.visits],
        "signature": signature_json(view.signature) if view.signature is not None else None,
    }


def call_out(view: CallView) -> CallDTO:
    return CallDTO.model_validate(call_json(view))


def calls_body(views: Iterable[CallView]) -> bytes:
    """A JSON array of calls' DTOs, written in one go. A view from the list's cache keeps its call's JSON text
    (``CallView.memo``), one for each value of ``isExpired`` (the clock's part), and the array takes it as it is
    (``orjson.Fragment``): a list asked again writes no call again."""
    parts: list[Any] = []
    for view in views:
        memo = view.memo
        if memo is None:
            parts.append(call_json(view))
            continue
        key = "json-expired" if view.is_expired else "json"
        known = memo.get(key)
        if known is None:
            known = memo[key] = orjson.Fragment(_dumps(call_json(view)))
        parts.append(known)
    return _dumps(parts)


def _dumps(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_UTC_Z)


def json_data(data: Any, **headers: str) -> Response:
    """Plain data (dicts, lists, str, int, float, bool, None, aware UTC datetimes) as a JSON answer, written the way
    pydantic writes a DTO's (times in UTC with ``Z``)."""
    return json_body(_dumps(data), **headers)


def json_body(body: bytes, **headers: str) -> Response:
    """JSON text already written (``calls_body``) as an answer."""
    return Response(body, media_type="application/json", headers=headers or None)


def notification_out(n: Notification) -> NotificationDTO:
    return NotificationDTO(
        id=n.id,
        callId=n.call_id,
        kind=n.kind,
        text=n.text,
        created=n.created_at,
        isRead=n.read_at is not None,
        readAt=n.read_at,
    )


def cost_out(view: CostView) -> CallCostDTO:
    c = view.cost
    return CallCostDTO(
        callId=c.call_id,
        editableUntil=view.editable_until,
        expenses=[
            ExpenseDTO(count=e.count, expenditureItemId=e.expenditure_item_id, id=e.id, status=e.status)
            for e in view.expenses
        ],
        materials=[
            MaterialDTO(
                count=m.count,
                id=m.id,
                name=m.name,
                ownerType=m.owner_type,
                price=m.price,
                serialNumber=m.serial_number,
                status=m.status,
                total=str(line_total(m)),
            )
            for m in view.materials
        ],
        materialsTotal=str(view.materials_total),
        processed=c.processed_at,
        sent=c.sent_at,
        status=c.status,
        timestamp=c.change_no,
    )


def expense_line(body: PostExpenseInputDTO) -> ExpenseLine:
    return ExpenseLine(expenditure_item_id=body.expenditureItemId, count=body.count)


def material_line(body: PostMaterialInputDTO) -> MaterialLine:
    return MaterialLine(
        name=body.name, serial_number=body.serialNumber, owner_type=body.ownerType, count=body.count, price=body.price
    )
