"""Cost estimates of calls (seed 004 "CallCost"): open, read, expense and material lines, send, the external
system's per-line decisions, and the cost feed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response

from cabinet.apis.contractor.deps import Caller, ServicesDep, contractor_operation
from cabinet.apis.contractor.keys import KeyedRoute
from cabinet.apis.contractor.mappers import cost_out, expense_line, json_list, material_line
from cabinet.apis.contractor.routes import api_router
from cabinet.apis.contractor.routes.calls import FEED_DESCRIPTION, Cursor, FeedLimit
from cabinet.apis.contractor.schemas import (
    INT64_MAX,
    CallCostDTO,
    ErrorDTO,
    PatchCallCostApprovalStatusInputDTO,
    PatchExpenseInputDTO,
    PatchMaterialInputDTO,
    PostExpenseInputDTO,
    PostMaterialInputDTO,
    PostMaterialOutputDTO,
)
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.domains.fieldservice.schemas import (
    FEED_LIMIT_DEFAULT,
    Decisions,
    LinePatch,
)

router = api_router(prefix="/callCost", tags=["CallCost"], route_class=KeyedRoute)

CallId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Call id")]
ExpenseId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Expense line id")]
MaterialId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Material line id")]
E: dict[str, Any] = {"model": ErrorDTO}
NO_ESTIMATE = "errorCode 1: call not found; 2: the call has no cost estimate"
EDITING = (
    "errorCode 11: the estimate is not a Draft (already sent); 12: the deadline passed (the end of day "
    "callCostDeadlineDayOfMonth of the month after the call was finished, company timezone; see editableUntil); "
    "14: the call was handed back (New)"
)
RULES = (
    " Only the contractor (not the external system) edits; the call's estimate must be a Draft and the deadline "
    "not passed. Quantities and prices are exact decimals (see the fields); nothing is rounded on input."
)
NO_CONTENT: dict[str, Any] = {"status_code": 204, "response_class": Response}


def _line_patch(body: PatchExpenseInputDTO | PatchMaterialInputDTO, names: dict[str, str]) -> LinePatch:
    """Only the fields the client sent (a null sent is refused by the domain)."""
    return LinePatch({names[wire]: getattr(body, wire) for wire in body.model_fields_set})


EXPENSE_FIELDS = {"count": "count", "expenditureItemId": "expenditure_item_id"}
MATERIAL_FIELDS = {
    "count": "count",
    "name": "name",
    "ownerType": "owner_type",
    "price": "price",
    "serialNumber": "serial_number",
}


@router.post(
    "/call/{callId}",
    **contractor_operation("createCallCost", ProcessType.TRACE),
    summary="Open the call's cost estimate (an empty Draft); one per call, on a Committed or Done call.",
    description="Returns the new estimate.",
    response_model=CallCostDTO,
    responses={
        404: {**E, "description": "errorCode 1: call not found"},
        409: {**E, "description": "errorCode 10: the call is not Committed or Done, or already has an estimate"},
    },
)
async def create_cost(callId: CallId, principal: Caller, svc: ServicesDep) -> CallCostDTO:
    return cost_out(await svc.costs.create(principal, callId))


@router.get(
    "/call/{callId}",
    **contractor_operation("getCallCost", ProcessType.NOTRACE),
    summary="The call's cost estimate with its lines and totals (the external system and the contractor).",
    response_model=CallCostDTO,
    responses={404: {**E, "description": NO_ESTIMATE}},
)
async def get_cost(callId: CallId, principal: Caller, svc: ServicesDep) -> CallCostDTO:
    return cost_out(await svc.costs.get(principal, callId))


@router.get(
    "/modifications/{timestamp}",
    **contractor_operation("getCallCostModifications", ProcessType.NOTRACE),
    summary="Cost estimates changed after a change number (incremental sync; not in the seed).",
    description=FEED_DESCRIPTION + " Any change of an estimate or of one of its lines (added, changed, removed, "
    "decided) re-sends the whole estimate with its current lines.",
    response_model=list[CallCostDTO],
)
async def cost_modifications(
    timestamp: Cursor, principal: Caller, svc: ServicesDep, limit: FeedLimit = FEED_LIMIT_DEFAULT
) -> Response:
    views = await svc.costs.costs_changed(principal, timestamp, limit)
    set_result_elements(len(views))
    return json_list(CallCostDTO, views, cost_out)


@router.patch(
    "/call/{callId}/changeApprovalStatus",
    **contractor_operation("changeCallCostApprovalStatus", ProcessType.TRACE),
    summary="The external system decides lines of a sent (InProgress) estimate: Approved, ApprovedWithCorrection "
    "or Rejected, by line id.",
    description="Lines not named keep their status; a line may be decided again while the estimate is "
    "InProgress. When no line is left New the estimate becomes Processed and the contractor is notified "
    "(call_cost_processed). At least one line; New is not a decision (400).",
    **NO_CONTENT,
    responses={
        404: {**E, "description": "errorCode 1: call, 2: estimate, 3: expense, 4: material not found"},
        409: {**E, "description": "errorCode 13: the estimate is not InProgress (a Draft, or already Processed)"},
    },
)
async def change_approval_status(
    callId: CallId, body: PatchCallCostApprovalStatusInputDTO, principal: Caller, svc: ServicesDep
) -> Response:
    decisions = Decisions(
        expenses={int(k): v for k, v in body.expenses.items()},
        materials={int(k): v for k, v in body.materials.items()},
    )
    await svc.costs.decide(principal, callId, decisions)
    return Response(status_code=204)


@router.post(
    "/call/{callId}/expense",
    **contractor_operation("addCallCostExpense", ProcessType.TRACE),
    summary="Add an expense line: an item of the call's availableExpenditureItems and a quantity.",
    description="Returns the line's id (in the seed's PostMaterialOutputDTO)." + RULES,
    response_model=PostMaterialOutputDTO,
    responses={
        400: {**E, "description": "errorCode 0: invalid input; 15: not one of the call's expenditure items"},
        404: {**E, "description": NO_ESTIMATE},
        409: {**E, "description": EDITING + "; or the estimate already has 500 lines (14)"},
    },
)
async def add_expense(
    callId: CallId, body: PostExpenseInputDTO, principal: Caller, svc: ServicesDep
) -> PostMaterialOutputDTO:
    return PostMaterialOutputDTO(id=(await svc.costs.add_expense(principal, callId, expense_line(body))).id)


@router.patch(
    "/call/{callId}/expense/{expenseId}",
    **contractor_operation("patchCallCostExpense", ProcessType.TRACE),
    summary="Change an expense line (only the fields sent).",
    description=RULES,
    **NO_CONTENT,
    responses={
        400: {**E, "description": "errorCode 0: invalid input; 15: not one of the call's expenditure items"},
        404: {**E, "description": NO_ESTIMATE + "; 3: expense not found"},
        409: {**E, "description": EDITING},
    },
)
async def patch_expense(
    callId: CallId, expenseId: ExpenseId, body: PatchExpenseInputDTO, principal: Caller, svc: ServicesDep
) -> Response:
    await svc.costs.patch_expense(principal, callId, expenseId, _line_patch(body, EXPENSE_FIELDS))
    return Response(status_code=204)


@router.delete(
    "/call/{callId}/expense/{expenseId}",
    **contractor_operation("deleteCallCostExpense", ProcessType.TRACE),
    summary="Remove an expense line.",
    description=RULES,
    **NO_CONTENT,
    responses={404: {**E, "description": NO_ESTIMATE + "; 3: expense not found"}, 409: {**E, "description": EDITING}},
)
async def delete_expense(callId: CallId, expenseId: ExpenseId, principal: Caller, svc: ServicesDep) -> Response:
    await svc.costs.delete_expense(principal, callId, expenseId)
    return Response(status_code=204)


@router.post(
    "/call/{callId}/material",
    **contractor_operation("addCallCostMaterial", ProcessType.TRACE),
    summary="Add a material (spare part) line: name, serial number, owner, quantity and unit price.",
    description="Returns the line's id. The line's total is count x price, rounded half-up to the cent." + RULES,
    response_model=PostMaterialOutputDTO,
    responses={
        404: {**E, "description": NO_ESTIMATE},
        409: {**E, "description": EDITING + "; or the estimate already has 500 lines (14)"},
    },
)
async def add_material(
    callId: CallId, body: PostMaterialInputDTO, principal: Caller, svc: ServicesDep
) -> PostMaterialOutputDTO:
    return PostMaterialOutputDTO(id=(await svc.costs.add_material(principal, callId, material_line(body))).id)


@router.patch(
    "/call/{callId}/material/{materialId}",
    **contractor_operation("patchCallCostMaterial", ProcessType.TRACE),
    summary="Change a material line (only the fields sent).",
    description=RULES,
    **NO_CONTENT,
    responses={
        404: {**E, "description": NO_ESTIMATE + "; 4: material not found"},
        409: {**E, "description": EDITING},
    },
)
async def patch_material(
    callId: CallId, materialId: MaterialId, body: PatchMaterialInputDTO, principal: Caller, svc: ServicesDep
) -> Response:
    await svc.costs.patch_material(principal, callId, materialId, _line_patch(body, MATERIAL_FIELDS))
    return Response(status_code=204)


@router.delete(
    "/call/{callId}/material/{materialId}",
    **contractor_operation("deleteCallCostMaterial", ProcessType.TRACE),
    summary="Remove a material line.",
    description=RULES,
    **NO_CONTENT,
    responses={
        404: {**E, "description": NO_ESTIMATE + "; 4: material not found"},
        409: {**E, "description": EDITING},
    },
)
async def delete_material(callId: CallId, materialId: MaterialId, principal: Caller, svc: ServicesDep) -> Response:
    await svc.costs.delete_material(principal, callId, materialId)
    return Response(status_code=204)


@router.post(
    "/status/call/{callId}",
    **contractor_operation("sendCallCost", ProcessType.TRACE),
    summary='Send the Draft to the external system ("Sent": Draft -> InProgress); it needs at least one line.',
    description=RULES,
    **NO_CONTENT,
    responses={
        404: {**E, "description": NO_ESTIMATE},
        409: {**E, "description": EDITING + "; or the estimate has no lines (14)"},
    },
)
async def send_cost(callId: CallId, principal: Caller, svc: ServicesDep) -> Response:
    await svc.costs.send(principal, callId)
    return Response(status_code=204)
