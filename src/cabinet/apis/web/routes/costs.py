"""The contractor's cost estimate editor: open the estimate, add, change in place and remove expense and material
lines, send it (CostService: exact decimals, the deadline, Draft only: a sent estimate is read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Path, Request
from fastapi.responses import Response

from cabinet.apis.shared.params import INT64_MAX
from cabinet.apis.web.deps import ServicesDep, Viewer, contractor_op, page, redirect
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.routes import page_router
from cabinet.apis.web.views import decimal_of
from cabinet.core.metering import ProcessType
from cabinet.domains.fieldservice.errors import CostNotFound
from cabinet.domains.fieldservice.schemas import (
    MATERIAL_NAME_MAX,
    SERIAL_NUMBER_MAX,
    ExpenseLine,
    LinePatch,
    MaterialLine,
    line_total,
)
from cabinet.domains.fieldservice.states import CallAction, CallStatus, MaterialOwner, call_permits

router = page_router(prefix="/calls/{id}/cost")

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


def material_form(
    name: Annotated[str, Form(max_length=MATERIAL_NAME_MAX)],
    owner: Annotated[MaterialOwner, Form()],
    count: Number,
    price: Number,
    serial: Annotated[str, Form(max_length=SERIAL_NUMBER_MAX)] = "",
) -> MaterialLine:
    """A material line as the add and the edit forms send it (a decimal comma is taken)."""
    return MaterialLine(name.strip(), serial.strip(), owner, decimal_of(count, "count"), decimal_of(price, "price"))


MaterialForm = Annotated[MaterialLine, Depends(material_form)]


@router.post("/materials", **contractor_op("addCallCostMaterial", ProcessType.TRACE))
async def add_material(
    request: Request, id: CallId, principal: Viewer, svc: ServicesDep, line: MaterialForm
) -> Response:
    await svc.costs.add_material(principal, id, line)
    return redirect(request, f"/ui/calls/{id}/cost", _("Material added."))


@router.post("/expenses/{line_id}", **contractor_op("patchCallCostExpense", ProcessType.TRACE))
async def edit_expense(
    request: Request,
    id: CallId,
    line_id: LineId,
    principal: Viewer,
    svc: ServicesDep,
    item: Annotated[int, Form(ge=1, le=INT64_MAX)],
    count: Number,
) -> Response:
    patch = LinePatch({"expenditure_item_id": item, "count": decimal_of(count, "count")})
    await svc.costs.patch_expense(principal, id, line_id, patch)
    return redirect(request, f"/ui/calls/{id}/cost#expense-{line_id}", _("Expense saved."))


@router.post("/materials/{line_id}", **contractor_op("patchCallCostMaterial", ProcessType.TRACE))
async def edit_material(
    request: Request, id: CallId, line_id: LineId, principal: Viewer, svc: ServicesDep, line: MaterialForm
) -> Response:
    patch = LinePatch({field: getattr(line, field) for field in MaterialLine.__dataclass_fields__})
    await svc.costs.patch_material(principal, id, line_id, patch)
    return redirect(request, f"/ui/calls/{id}/cost#material-{line_id}", _("Material saved."))


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
