"""Cost estimates of calls (seed 004 "CallCost"): one per call, ``Draft -> InProgress -> Processed``.

The contractor opens the estimate of an accepted call (Committed or Done), adds, changes and removes expense
lines (an item of the call's expenditure catalog and a quantity) and material lines (spare parts: name, serial
number, owner, quantity, unit price) while it is a Draft, and sends it (InProgress). The external system then
decides each line (Approved, ApprovedWithCorrection, Rejected); when every line is decided the estimate is
Processed and the contractor is notified. The field employee may report costs when finishing the call
(``record_field_report``, inside the caller's unit of work).

Deadline: a Draft may be edited and sent until the end of day ``callCostDeadlineDayOfMonth`` (1..28, per company,
default 5) of the calendar month after the month the call was finished, in the company's timezone; afterwards
409. While the call is not finished no deadline runs.

Money: quantities and prices are exact decimals (3 and 2 places), never floats; a material's ``price`` is per
unit, its total is count x price rounded half-up to the cent, and the estimate's total is the exact sum of those.
Every change restamps the estimate in the company's change sequence (the cost feed, feed.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import CabinetError, FieldIssue
from cabinet.core.metering import note_target
from cabinet.core.principal import Principal
from cabinet.core.query import Query
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.errors import (
    CallNotFound,
    CostApprovalRefused,
    CostChangeRefused,
    CostCreateRefused,
    CostDeadlinePassed,
    CostExpenseNotFound,
    CostInvalid,
    CostItemUnknown,
    CostMaterialNotFound,
    CostNotDraft,
    CostNotFound,
)
from cabinet.domains.fieldservice.events import FieldEvents
from cabinet.domains.fieldservice.notifications import notify_owner
from cabinet.domains.fieldservice.policies import Viewer, require_contractor, require_external, viewer_of
from cabinet.domains.fieldservice.repository import CallRepository, CostRepository
from cabinet.domains.fieldservice.repository.search import FieldServiceSearch
from cabinet.domains.fieldservice.schemas import (
    COUNT_MAX,
    DEFAULT_COST_DEADLINE_DAY,
    LINES_PER_ESTIMATE_MAX,
    MATERIAL_NAME_MAX,
    PRICE_MAX,
    SERIAL_NUMBER_MAX,
    CostView,
    Decisions,
    ExpenseLine,
    LinePatch,
    MaterialLine,
)
from cabinet.domains.fieldservice.states import (
    LINE_DECISIONS,
    CallAction,
    CallStatus,
    CostStatus,
    LineStatus,
    MaterialOwner,
    call_permits,
)
from cabinet.models import Call, CallCost, CostExpense, CostMaterial
from cabinet.models.cost import COUNT_SCALE, PRICE_SCALE

DECISIONS_MAX = 2 * LINES_PER_ESTIMATE_MAX


def cost_deadline(finished_at: datetime, day: int, tz_hours: int) -> datetime:
    """The first instant (UTC) the Draft is no longer editable: the end of ``day`` of the month after the one
    ``finished_at`` falls in, both in the company's timezone (a call finished on 31 January 23:30 at UTC+3 was
    finished in February there)."""
    zone = timezone(timedelta(hours=tz_hours))
    local = finished_at.astimezone(zone)
    year, month0 = divmod(local.year * 12 + local.month, 12)  # (month - 1) + 1: the next month, 0-based
    return (datetime(year, month0 + 1, day, tzinfo=zone) + timedelta(days=1)).astimezone(UTC)


class CostService:
    def __init__(self, db: Database, *, clock: Clock, events: FieldEvents | None = None) -> None:
        self.db = db
        self.clock = clock
        self.events = events or FieldEvents()
        self.calls = CallRepository()
        self.costs = CostRepository()
        self.search_repo = FieldServiceSearch()

    # --- the contractor ------------------------------------------------------------------------------------
    @transactional
    async def create(self, principal: Principal, call_id: int) -> CostView:
        """Open the call's estimate (a Draft without lines)."""
        viewer = require_contractor(principal)
        call = await self._call(viewer, call_id)
        if await self.costs.for_call(call.id) is not None:
            raise CostCreateRefused("the call already has a cost estimate")
        if not call_permits(CallStatus(call.status), CallAction.CREATE_COST):
            raise CostCreateRefused(f"a {call.status} call cannot have a cost estimate (Committed or Done only)")
        cost = _open(self.costs, call, self.clock.now())
        await feed.stamp(call.company_id, [cost])
        return await self._view(call, cost)

    @transactional
    async def add_expense(self, principal: Principal, call_id: int, line: ExpenseLine) -> CostExpense:
        _check_expense(line)
        call, cost = await self._estimate(require_contractor(principal), call_id)
        await _check_editable(self.costs, call, cost, self.clock.now(), adding=1)
        expense = await _add_expense(self.costs, call, cost, line, self.clock.now())
        await self._touch(call, cost)
        return expense

    @transactional
    async def patch_expense(self, principal: Principal, call_id: int, expense_id: int, patch: LinePatch) -> None:
        call, cost = await self._estimate(require_contractor(principal), call_id)
        expense = await self.costs.expense(cost.id, expense_id)
        if expense is None:
            raise CostExpenseNotFound(resource=str(expense_id))
        merged = ExpenseLine(**_merged(patch, ExpenseLine, expense))
        _check_expense(merged)
        await _check_editable(self.costs, call, cost, self.clock.now())
        if not await self.costs.item_in_catalog(call.id, merged.expenditure_item_id):
            raise CostItemUnknown(resource=str(merged.expenditure_item_id))
        expense.expenditure_item_id, expense.count = merged.expenditure_item_id, merged.count
        expense.edited_at = self.clock.now()
        await self._touch(call, cost)

    @transactional
    async def delete_expense(self, principal: Principal, call_id: int, expense_id: int) -> None:
        await self._delete(principal, call_id, expense_id, material=False)

    @transactional
    async def add_material(self, principal: Principal, call_id: int, line: MaterialLine) -> CostMaterial:
        _check_material(line)
        call, cost = await self._estimate(require_contractor(principal), call_id)
        await _check_editable(self.costs, call, cost, self.clock.now(), adding=1)
        material = _add_material(self.costs, cost, line, self.clock.now())
        await self._touch(call, cost)
        return material

    @transactional
    async def patch_material(self, principal: Principal, call_id: int, material_id: int, patch: LinePatch) -> None:
        call, cost = await self._estimate(require_contractor(principal), call_id)
        material = await self.costs.material(cost.id, material_id)
        if material is None:
            raise CostMaterialNotFound(resource=str(material_id))
        merged = MaterialLine(**_merged(patch, MaterialLine, material))
        _check_material(merged)
        await _check_editable(self.costs, call, cost, self.clock.now())
        for name, value in _values(merged).items():
            setattr(material, name, value)
        material.edited_at = self.clock.now()
        await self._touch(call, cost)

    @transactional
    async def delete_material(self, principal: Principal, call_id: int, material_id: int) -> None:
        await self._delete(principal, call_id, material_id, material=True)

    async def _delete(self, principal: Principal, call_id: int, line_id: int, *, material: bool) -> None:
        call, cost = await self._estimate(require_contractor(principal), call_id)
        line: CostExpense | CostMaterial | None
        if material:
            line = await self.costs.material(cost.id, line_id)
            missing: type[CabinetError] = CostMaterialNotFound
        else:
            line = await self.costs.expense(cost.id, line_id)
            missing = CostExpenseNotFound
        if line is None:
            raise missing(resource=str(line_id))
        await _check_editable(self.costs, call, cost, self.clock.now())
        await self.costs.delete(line)
        await self._touch(call, cost)

    @transactional
    async def send(self, principal: Principal, call_id: int) -> CostView:
        """Draft -> InProgress: the external system may now decide the lines."""
        call, cost = await self._estimate(require_contractor(principal), call_id)
        now = self.clock.now()
        await _check_editable(self.costs, call, cost, now)
        if await self.costs.line_count(cost.id) == 0:
            raise CostChangeRefused("an estimate without lines cannot be sent")
        cost.status = CostStatus.IN_PROGRESS.value
        cost.sent_at = now
        await self._touch(call, cost)
        await self.events.cost("sent", call.company_id, lambda: self._view(call, cost))
        return await self._view(call, cost)

    # --- the external system -------------------------------------------------------------------------------
    @transactional
    async def decide(self, principal: Principal, call_id: int, decisions: Decisions) -> CostView:
        """Set the approval status of the lines named; when none is left New the estimate is Processed and the
        contractor is notified. Lines may be re-decided while the estimate is InProgress."""
        _check_decisions(decisions)
        call, cost = await self._estimate(require_external(principal), call_id)
        expenses = {e.id: e for e in await self.costs.expenses_of(cost.id)}
        materials = {m.id: m for m in await self.costs.materials_of(cost.id)}
        for line_id in decisions.expenses:
            if line_id not in expenses:
                raise CostExpenseNotFound(resource=str(line_id))
        for line_id in decisions.materials:
            if line_id not in materials:
                raise CostMaterialNotFound(resource=str(line_id))
        if cost.status != CostStatus.IN_PROGRESS.value:
            raise CostApprovalRefused(f"the estimate is {cost.status}: lines are decided only while InProgress")
        now = self.clock.now()
        for lines, chosen in ((expenses, decisions.expenses), (materials, decisions.materials)):
            for line_id, status in chosen.items():
                line: Any = lines[line_id]
                line.status = status.value
                line.edited_at = now
        every: list[CostExpense | CostMaterial] = [*expenses.values(), *materials.values()]
        if all(line.status != LineStatus.NEW.value for line in every):
            cost.status = CostStatus.PROCESSED.value
            cost.processed_at = now
            counts = {s: sum(1 for line in every if line.status == s.value) for s in LINE_DECISIONS}
            notify_owner(
                call,
                "call_cost_processed",
                f"The cost estimate of call {call.number} was processed: "
                f"{counts[LineStatus.APPROVED]} approved, "
                f"{counts[LineStatus.APPROVED_WITH_CORRECTION]} approved with correction, "
                f"{counts[LineStatus.REJECTED]} rejected",
                now,
            )
        await self._touch(call, cost)
        if cost.status == CostStatus.PROCESSED.value:
            await self.events.cost("processed", call.company_id, lambda: self._view(call, cost))
        return await self._view(call, cost)

    # --- reads ---------------------------------------------------------------------------------------------
    @read_only
    async def get(self, principal: Principal, call_id: int) -> CostView:
        call, cost = await self._estimate(viewer_of(principal), call_id, for_update=False)
        return await self._view(call, cost)

    @read_only
    async def costs_changed(self, principal: Principal, cursor: int, limit: int) -> list[CostView]:
        viewer = viewer_of(principal)
        return await self._views(viewer, await self.costs.changed_since(viewer, cursor, limit))

    @read_only
    async def search(self, principal: Principal, query: Query) -> tuple[list[CostView], int]:
        """Data API get.call_costs: the estimates of the calls the caller may see, filtered and paged in SQL."""
        viewer = viewer_of(principal)
        costs, total = await self.search_repo.costs(viewer, query)
        return await self._views(viewer, costs), total

    # --- helpers -------------------------------------------------------------------------------------------
    async def _call(self, viewer: Viewer, call_id: int, *, for_update: bool = True) -> Call:
        """The call, locked: every change of its estimate is serialised on the call's row."""
        call = await self.calls.get(viewer, call_id, for_update=for_update)
        if call is None:
            raise CallNotFound(resource=str(call_id))
        if for_update:
            note_target("estimate", call.number)
        return call

    async def _estimate(self, viewer: Viewer, call_id: int, *, for_update: bool = True) -> tuple[Call, CallCost]:
        call = await self._call(viewer, call_id, for_update=for_update)
        cost = await self.costs.for_call(call.id)
        if cost is None:
            raise CostNotFound(resource=str(call_id))
        return call, cost

    async def _touch(self, call: Call, cost: CallCost) -> None:
        cost.edited_at = self.clock.now()
        await feed.stamp(call.company_id, [cost])

    async def _view(self, call: Call, cost: CallCost) -> CostView:
        expenses, materials = await self.costs.lines([cost.id])
        day, tz = await self.costs.deadline_terms(call.company_id)
        until = _until(call.finished_at, day, tz)
        return CostView(cost, expenses[cost.id], materials[cost.id], until)

    async def _views(self, viewer: Viewer, costs: Sequence[CallCost]) -> list[CostView]:
        ids = [c.id for c in costs]
        expenses, materials = await self.costs.lines(ids)
        finished = await self.costs.finished_at([c.call_id for c in costs])
        day, tz = await self.costs.deadline_terms(viewer.company_id)
        return [CostView(c, expenses[c.id], materials[c.id], _until(finished.get(c.call_id), day, tz)) for c in costs]


# --- the field employee's report (inside the caller's unit of work) -------------------------------------------
async def record_field_report(
    call: Call, *, expenses: Sequence[ExpenseLine], materials: Sequence[MaterialLine], now: datetime
) -> CallCost | None:
    """Add the costs a field employee reported when finishing ``call`` to its estimate, opening it as a Draft if
    the call has none; returns the estimate (None when nothing was reported). Runs in the caller's unit of work
    (its transaction; ``call`` should be locked by it) and stamps the estimate in the change sequence, whose row
    lock is then held until the caller commits. Raises CostInvalid / CostItemUnknown (400), CostCreateRefused
    (call not Committed or Done), CostNotDraft (already sent) or CostDeadlinePassed / CostChangeRefused (409)."""
    if not expenses and not materials:
        return None
    for expense in expenses:
        _check_expense(expense)
    for material in materials:
        _check_material(material)
    repository = CostRepository()
    cost = await repository.for_call(call.id)
    if cost is None:
        if not call_permits(CallStatus(call.status), CallAction.CREATE_COST):
            raise CostCreateRefused(f"a {call.status} call cannot have a cost estimate (Committed or Done only)")
        cost = _open(repository, call, now)
        await repository.flush()
    await _check_editable(repository, call, cost, now, adding=len(expenses) + len(materials))
    for expense in expenses:
        await _add_expense(repository, call, cost, expense, now)
    for material in materials:
        _add_material(repository, cost, material, now)
    cost.edited_at = now
    await feed.stamp(call.company_id, [cost])
    return cost


# --- rules -------------------------------------------------------------------------------------------------------
def _open(repository: CostRepository, call: Call, now: datetime) -> CallCost:
    cost = CallCost(
        call_id=call.id,
        company_id=call.company_id,
        status=CostStatus.DRAFT.value,
        change_no=0,
        created_at=now,
        edited_at=now,
    )
    repository.add(cost)
    return cost


def _until(finished_at: datetime | None, day: int | None, tz: int) -> datetime | None:
    return None if finished_at is None else cost_deadline(finished_at, day or DEFAULT_COST_DEADLINE_DAY, tz)


async def _check_editable(
    repository: CostRepository, call: Call, cost: CallCost, now: datetime, *, adding: int = 0
) -> None:
    """A Draft of an accepted call, before its deadline, with room for ``adding`` more lines (else 409)."""
    if cost.status != CostStatus.DRAFT.value:
        raise CostNotDraft(f"the estimate is {cost.status}: only a Draft can be edited or sent")
    if not call_permits(CallStatus(call.status), CallAction.EDIT_COST):
        raise CostChangeRefused(f"the estimate of a {call.status} call cannot change")
    if call.finished_at is not None:
        day, tz = await repository.deadline_terms(call.company_id)
        deadline = cost_deadline(call.finished_at, day or DEFAULT_COST_DEADLINE_DAY, tz)
        if now >= deadline:
            raise CostDeadlinePassed(f"the estimate could be edited and sent until {deadline.isoformat()}")
    if adding and await repository.line_count(cost.id) + adding > LINES_PER_ESTIMATE_MAX:
        raise CostChangeRefused(f"an estimate has at most {LINES_PER_ESTIMATE_MAX} lines")


async def _add_expense(
    repository: CostRepository, call: Call, cost: CallCost, line: ExpenseLine, now: datetime
) -> CostExpense:
    if not await repository.item_in_catalog(call.id, line.expenditure_item_id):
        raise CostItemUnknown(resource=str(line.expenditure_item_id))
    expense = CostExpense(
        cost_id=cost.id,
        company_id=cost.company_id,
        expenditure_item_id=line.expenditure_item_id,
        count=line.count,
        status=LineStatus.NEW.value,
        created_at=now,
        edited_at=now,
    )
    repository.add(expense)
    return expense


def _add_material(repository: CostRepository, cost: CallCost, line: MaterialLine, now: datetime) -> CostMaterial:
    material = CostMaterial(
        cost_id=cost.id,
        company_id=cost.company_id,
        **_values(line),
        status=LineStatus.NEW.value,
        created_at=now,
        edited_at=now,
    )
    repository.add(material)
    return material


def _values(line: MaterialLine) -> dict[str, Any]:
    return {
        "name": line.name,
        "serial_number": line.serial_number,
        "owner_type": MaterialOwner(line.owner_type).value,
        "count": line.count,
        "price": line.price,
    }


def _merged(patch: LinePatch, kind: type[ExpenseLine] | type[MaterialLine], row: Any) -> dict[str, Any]:
    """The line's current values with the patch applied; a field sent as null is refused."""
    names = kind.__dataclass_fields__
    unknown = patch.fields - set(names)
    if unknown:
        raise CostInvalid(f"unknown fields: {', '.join(sorted(unknown))}")
    nulls = sorted(name for name, value in patch.values.items() if value is None)
    if nulls:
        raise CostInvalid(
            f"{', '.join(nulls)} cannot be null", issues=[FieldIssue(name, "cannot be null") for name in nulls]
        )
    return {name: patch.values.get(name, getattr(row, name)) for name in names}


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _check_decimal(
    issues: list[FieldIssue], name: str, value: Any, *, low: Decimal, high: Decimal, places: int, strict: bool
) -> None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int) or not Decimal(value).is_finite():
        issues.append(FieldIssue(name, "a number is expected"))
        return
    value = Decimal(value)
    if (value <= low if strict else value < low) or value > high:
        issues.append(FieldIssue(name, f"must be {'over' if strict else 'at least'} {low} and at most {high}"))
    elif _places(value) > places:
        issues.append(FieldIssue(name, f"at most {places} decimal places"))


def _check_count(issues: list[FieldIssue], value: Any) -> None:
    _check_decimal(issues, "count", value, low=Decimal(0), high=COUNT_MAX, places=COUNT_SCALE, strict=True)


def _raise(issues: list[FieldIssue]) -> None:
    if issues:
        raise CostInvalid("; ".join(f"{i.entity}: {i.message}" for i in issues), issues=issues)


def _check_expense(line: ExpenseLine) -> None:
    issues: list[FieldIssue] = []
    _check_count(issues, line.count)
    item = line.expenditure_item_id
    if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item < 2**63:
        issues.append(FieldIssue("expenditureItemId", "a positive int64 id is expected"))
    _raise(issues)


def _check_text(issues: list[FieldIssue], name: str, value: Any, *, low: int, high: int) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high or "\x00" in value:
        issues.append(FieldIssue(name, f"a string of {low}..{high} characters is expected"))
    elif low and not value.strip():
        issues.append(FieldIssue(name, "must not be blank"))


def _check_material(line: MaterialLine) -> None:
    issues: list[FieldIssue] = []
    _check_count(issues, line.count)
    _check_decimal(issues, "price", line.price, low=Decimal(0), high=PRICE_MAX, places=PRICE_SCALE, strict=False)
    _check_text(issues, "name", line.name, low=1, high=MATERIAL_NAME_MAX)
    _check_text(issues, "serialNumber", line.serial_number, low=0, high=SERIAL_NUMBER_MAX)
    if line.owner_type not in set(MaterialOwner):
        issues.append(FieldIssue("ownerType", "Unknown, Contractor or ContractHolders"))
    _raise(issues)


def _check_decisions(decisions: Decisions) -> None:
    size = len(decisions.expenses) + len(decisions.materials)
    if not 1 <= size <= DECISIONS_MAX:
        raise CostInvalid(f"1..{DECISIONS_MAX} line statuses are expected")
    for name, chosen in (("expenses", decisions.expenses), ("materials", decisions.materials)):
        for line_id, status in chosen.items():
            if status not in LINE_DECISIONS:
                raise CostInvalid(
                    f"{name}.{line_id}: a decision is Approved, ApprovedWithCorrection or Rejected",
                    issues=[FieldIssue(f"{name}.{line_id}", "Approved, ApprovedWithCorrection or Rejected")],
                )
