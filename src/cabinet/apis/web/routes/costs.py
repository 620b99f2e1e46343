"""The contractor's cost estimate editor: open the estimate, add and remove expense and material lines, send it
(CostService: exact decimals, the deadline, Draft only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from cabinet.apis.web.deps import ServicesDep, Viewer, contractor_op, page, redirect
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.views import decimal_of
from cabinet.core.metering import ProcessType
from cabinet.domains.fieldservice.errors import CostNotFound
from cabinet.domains.fieldservice.schemas import (
    MATERIAL_NAME_MAX,
    SERIAL_NUMBER_MAX,
    ExpenseLine,
    MaterialLine,
    line_total,
)
from cabinet.domains.fieldservice.states import CallAction, CallStatus, MaterialOwner, call_permits

router = APIRouter(prefix="/calls/{id}/cost", include_in_schema=False)

INT64_MAX = 2**63 - 1
CallId = Annotated[int, Path(ge=1, le=INT64_MAX)]
LineId = Annotated[int, Path(ge=1, le=INT64_MAX)]
Number = Annotated[str, Form(max_length=32)]


@router.get("", **contractor_op("getCallCost", ProcessType.NOTRACE))
async def cost_page(request: Request, id: CallId, principal: Viewer, svc: ServicesDep) -> Response:
    view = await svc.calls.get_call(principal, id)
    try:
        cost = await svc.costs.get(principal, id)
    except CostNotFound:
        cost = None
    status = CallStatus(view.call.status)
    return page(
        request,
        "cost.html",
        call=view.call,
        items={item.id: item.name for item in view.items},
        cost=cost,
        can_open=cost is None and call_permits(status, CallAction.CREATE_COST),
        editable=cost is not None and cost.cost.status == "Draft",
        owners=[o.value for o in MaterialOwner],
        line_total=line_total,
        name_max=MATERIAL_NAME_MAX,
        serial_max=SERIAL_NUMBER_MAX,
    )


@router.post("", **contractor_op("createCallCost", ProcessType.TRACE))
async def open_cost(request: Request, id: CallId, principal: Viewer, svc: ServicesDep) -> Response:
    await svc.costs.create(principal, id)
    return redirect(request, f"/ui/calls/{id}/cost", _("Cost estimate opened."))


@router.post("/expenses", **contractor_op("addCallCostExpense", ProcessType.TRACE))
async def add_expense(
    request: Request,
    id: CallId,
    principal: Viewer,
    svc: ServicesDep,
    item: Annotated[int, Form(ge=1, le=INT64_MAX)],
    count: Number,
) -> Response:
    await svc.costs.add_expense(principal, id, ExpenseLine(item, decimal_of(count, "count")))
    return redirect(request, f"/ui/calls/{id}/cost", _("Expense added."))


@router.post("/materials", **contractor_op("addCallCostMaterial", ProcessType.TRACE))
async def add_material(
    request: Request,
    id: CallId,
    principal: Viewer,
    svc: ServicesDep,
    name: Annotated[str, Form(max_length=MATERIAL_NAME_MAX)],
    owner: Annotated[MaterialOwner, Form()],
    count: Number,
    price: Number,
    serial: Annotated[str, Form(max_length=SERIAL_NUMBER_MAX)] = "",
) -> Response:
    line = MaterialLine(name.strip(), serial.strip(), owner, decimal_of(count, "count"), decimal_of(price, "price"))
    await svc.costs.add_material(principal, id, line)
    return redirect(request, f"/ui/calls/{id}/cost", _("Material added."))


@router.post("/expenses/{line_id}/delete", **contractor_op("deleteCallCostExpense", ProcessType.TRACE))
async def delete_expense(
    request: Request, id: CallId, line_id: LineId, principal: Viewer, svc: ServicesDep
) -> Response:
    await svc.costs.delete_expense(principal, id, line_id)
    return redirect(request, f"/ui/calls/{id}/cost", _("Expense removed."))


@router.post("/materials/{line_id}/delete", **contractor_op("deleteCallCostMaterial", ProcessType.TRACE))
async def delete_material(
    request: Request, id: CallId, line_id: LineId, principal: Viewer, svc: ServicesDep
) -> Response:
    await svc.costs.delete_material(principal, id, line_id)
    return redirect(request, f"/ui/calls/{id}/cost", _("Material removed."))


@router.post("/send", **contractor_op("sendCallCost", ProcessType.TRACE))
async def send(request: Request, id: CallId, principal: Viewer, svc: ServicesDep) -> Response:
    await svc.costs.send(principal, id)
    return redirect(request, f"/ui/calls/{id}/cost", _("Cost estimate sent to the dispatcher."))
