"""Contractor-area queries, always scoped by the viewer (company, and owner for a confined contractor).
Never commits; always reached from a unit of work."""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cabinet.core.db.types import UTCDateTime
from cabinet.core.db.uow import current_session
from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.schemas import CallListQuery, CallView
from cabinet.models import (
    Call,
    CallCost,
    CallJeopardy,
    CallMessage,
    CallTask,
    CallTaskAttachment,
    ChangeSequence,
    Company,
    ContractorSettings,
    ContractorVerifier,
    CostExpense,
    CostMaterial,
    ExpenditureItem,
    Notification,
    ServiceToken,
    UsedSalt,
    User,
)


def _call_scope(viewer: Viewer) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [Call.company_id == viewer.company_id]
    if viewer.owner_scope is not None:
        clauses.append(Call.owner_id == viewer.owner_scope)
    return clauses


def expired_clause(now: datetime) -> ColumnElement[bool]:
    """isExpired: the arrival deadline passed before acceptance, or the fix deadline before completion."""
    at = literal(now, UTCDateTime())
    return or_(
        and_(Call.tto.is_not(None), func.coalesce(Call.commited_at, at) > Call.tto),
        and_(Call.ttf.is_not(None), func.coalesce(Call.finished_at, at) > Call.ttf),
    )


def is_expired(call: Call, now: datetime) -> bool:
    tto_missed = call.tto is not None and (call.commited_at or now) > call.tto
    ttf_missed = call.ttf is not None and (call.finished_at or now) > call.ttf
    return tto_missed or ttf_missed


class CallRepository:
    async def add(self, call: Call) -> None:
        """A new call, flushed (its id assigned)."""
        session = current_session()
        session.add(call)
        await session.flush()

    def add_children(self, rows: Iterable[Any]) -> None:
        """Rows that belong to a call just added (its tasks, its expenditure items)."""
        current_session().add_all(rows)

    async def by_id(self, call_id: int) -> Call | None:
        """Any company's call (a field link names it; the link's signature is the proof of access)."""
        return await current_session().get(Call, call_id)

    async def user(self, user_id: int) -> User | None:
        return await current_session().get(User, user_id)

    async def get(self, viewer: Viewer, call_id: int, *, for_update: bool = False) -> Call | None:
        stmt = select(Call).where(Call.id == call_id, *_call_scope(viewer))
        if for_update:
            stmt = stmt.with_for_update()
        return await current_session().scalar(stmt)

    async def owner_in_company(self, company_id: int, user_id: int) -> User | None:
        return await current_session().scalar(select(User).where(User.id == user_id, User.company_id == company_id))

    async def views(self, calls: Sequence[Any], now: datetime) -> list[CallView]:
        """The calls (ORM objects or plain rows) with their tasks (and their results' attachments), jeopardies
        and expenditure items: four queries for the whole page."""
        if not calls:
            return []
        ids = [c.id for c in calls]
        session = current_session()
        tasks: dict[int, list[Any]] = defaultdict(list)
        for task in await session.execute(_rows(CallTask).where(CallTask.call_id.in_(ids)).order_by(CallTask.id)):
            tasks[task.call_id].append(task)
        jeopardies: dict[int, list[Any]] = defaultdict(list)
        for j in await session.execute(
            _rows(CallJeopardy).where(CallJeopardy.call_id.in_(ids)).order_by(CallJeopardy.id)
        ):
            jeopardies[j.call_id].append(j)
        items: dict[int, list[Any]] = defaultdict(list)
        for item in await session.execute(
            _rows(ExpenditureItem).where(ExpenditureItem.call_id.in_(ids)).order_by(ExpenditureItem.id)
        ):
            items[item.call_id].append(item)
        attachments = await AttachmentRepository().of(CallTaskAttachment.call_id, ids)
        return [CallView(c, tasks[c.id], jeopardies[c.id], items[c.id], is_expired(c, now), attachments) for c in calls]

    async def list(self, viewer: Viewer, query: CallListQuery, now: datetime) -> tuple[list[Any], int]:
        clauses = _call_scope(viewer)
        if query.statuses:
            clauses.append(Call.status.in_([s.value for s in query.statuses]))
        if query.critical is not None:
            clauses.append(Call.critical.is_(query.critical))
        if query.jeopardy is not None:
            clauses.append(Call.jeopardy_open.is_(query.jeopardy))
        if query.expired is not None:
            expired = expired_clause(now)
            clauses.append(expired if query.expired else ~expired)
        session = current_session()
        total = int(await session.scalar(select(func.count()).select_from(Call).where(*clauses)) or 0)
        stmt = _rows(Call).where(*clauses).order_by(*_order(query.sort)).limit(query.limit).offset(query.offset)
        return list(await session.execute(stmt)), total

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> builtins.list[Any]:
        stmt = _rows(Call).where(*_call_scope(viewer), Call.change_no > cursor).order_by(Call.change_no).limit(limit)
        return list(await current_session().execute(stmt))


def _rows(model: Any) -> Select[Any]:
    """Plain rows of a model's table (attribute names = column names): lists and feeds read thousands of rows
    that nobody changes, and skipping the ORM's identity map makes them several times cheaper."""
    return select(*model.__table__.c)


def _order(sort: str) -> list[Any]:
    if sort == "default":  # what a contractor wants on top: critical, then the nearest fix deadline
        return [Call.critical.desc(), Call.ttf.is_(None), Call.ttf.asc(), Call.id.desc()]
    descending = sort.startswith("-")
    column = {"created": Call.created, "ttf": Call.ttf, "tto": Call.tto, "number": Call.number, "id": Call.id}[
        sort.lstrip("-")
    ]
    direction = [column.desc() if descending else column.asc(), Call.id.desc() if descending else Call.id.asc()]
    if not column.nullable:
        return direction
    # NULL last ascending, first descending, on every backend
    return [column.is_(None) if not descending else column.is_not(None), *direction]


class TaskRepository:
    def _scoped(self, viewer: Viewer, *, rows: bool = False) -> Select[Any]:
        stmt = (_rows(CallTask) if rows else select(CallTask)).where(CallTask.company_id == viewer.company_id)
        if viewer.owner_scope is not None:
            stmt = stmt.join(Call, Call.id == CallTask.call_id).where(Call.owner_id == viewer.owner_scope)
        return stmt

    async def by_id(self, task_id: int) -> CallTask | None:
        """Any company's task (the caller checks it belongs to the call it was reached through)."""
        return await current_session().get(CallTask, task_id)

    async def reread(self, task: CallTask) -> None:
        """Load ``task`` again (after its call was locked: what a concurrent writer committed)."""
        await current_session().refresh(task)

    async def get(self, viewer: Viewer, task_id: int) -> CallTask | None:
        task: CallTask | None = await current_session().scalar(self._scoped(viewer).where(CallTask.id == task_id))
        return task

    async def page(self, viewer: Viewer, after_id: int, limit: int) -> list[Any]:
        stmt = self._scoped(viewer, rows=True).where(CallTask.id > after_id).order_by(CallTask.id).limit(limit)
        return list(await current_session().execute(stmt))

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> list[Any]:
        stmt = self._scoped(viewer, rows=True).where(CallTask.change_no > cursor)
        return list(await current_session().execute(stmt.order_by(CallTask.change_no).limit(limit)))


class AttachmentRepository:
    def add(self, row: CallTaskAttachment) -> None:
        current_session().add(row)

    async def of(self, column: Any, ids: Sequence[int]) -> dict[int, list[Any]]:
        """Attachments (plain rows, oldest first) by task id, of the given calls or tasks (``column``)."""
        found: dict[int, list[Any]] = defaultdict(list)
        if not ids:
            return found
        stmt = _rows(CallTaskAttachment).where(column.in_(list(ids))).order_by(CallTaskAttachment.id)
        for row in await current_session().execute(stmt):
            found[row.task_id].append(row)
        return found

    async def get(self, task_id: int, attachment_id: int) -> CallTaskAttachment | None:
        stmt = select(CallTaskAttachment).where(
            CallTaskAttachment.id == attachment_id, CallTaskAttachment.task_id == task_id
        )
        return await current_session().scalar(stmt)


class MessageRepository:
    def add(self, message: CallMessage) -> None:
        current_session().add(message)

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> list[Any]:
        stmt = _rows(CallMessage).where(CallMessage.company_id == viewer.company_id, CallMessage.change_no > cursor)
        if viewer.owner_scope is not None:
            stmt = stmt.join(Call, Call.id == CallMessage.call_id).where(Call.owner_id == viewer.owner_scope)
        return list(await current_session().execute(stmt.order_by(CallMessage.change_no).limit(limit)))


class JeopardyRepository:
    def add(self, jeopardy: CallJeopardy) -> None:
        current_session().add(jeopardy)

    async def open_for(self, call_id: int) -> CallJeopardy | None:
        stmt = select(CallJeopardy).where(CallJeopardy.call_id == call_id, CallJeopardy.answer_date.is_(None))
        return await current_session().scalar(stmt.order_by(CallJeopardy.id.desc()).limit(1))

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> list[Any]:
        stmt = _rows(CallJeopardy).where(CallJeopardy.company_id == viewer.company_id, CallJeopardy.change_no > cursor)
        if viewer.owner_scope is not None:
            stmt = stmt.join(Call, Call.id == CallJeopardy.call_id).where(Call.owner_id == viewer.owner_scope)
        return list(await current_session().execute(stmt.order_by(CallJeopardy.change_no).limit(limit)))


class SettingsRepository:
    """A contractor company's settings (one row per company, absent until first set)."""

    async def get(self, company_id: int, *, for_update: bool = False) -> ContractorSettings | None:
        return await current_session().get(ContractorSettings, company_id, with_for_update=for_update)

    def add(self, row: ContractorSettings) -> None:
        current_session().add(row)


class NotificationRepository:
    def add(self, notification: Notification) -> None:
        current_session().add(notification)

    async def page(self, user_id: int, limit: int, offset: int, unread_only: bool) -> list[Notification]:
        stmt = select(Notification).where(Notification.user_id == user_id)
        if unread_only:
            stmt = stmt.where(Notification.read_at.is_(None))
        stmt = stmt.order_by(Notification.read_at.is_not(None), Notification.id.desc()).limit(limit).offset(offset)
        return list(await current_session().scalars(stmt))

    async def unread_count(self, user_id: int) -> int:
        stmt = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        return int(await current_session().scalar(stmt) or 0)

    async def get(self, user_id: int, notification_id: int) -> Notification | None:
        stmt = select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
        return await current_session().scalar(stmt)

    async def read_all(self, user_id: int, now: datetime) -> int:
        result = await current_session().execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class CostRepository:
    def add(self, row: CallCost | CostExpense | CostMaterial) -> None:
        current_session().add(row)

    async def flush(self) -> None:
        """Send what was added (a new estimate gets its id)."""
        await current_session().flush()

    async def delete(self, line: CostExpense | CostMaterial) -> None:
        await current_session().delete(line)

    """Estimates and their lines. The service reaches an estimate through its call (already scoped to the viewer),
    so lines are looked up within that estimate only."""

    async def for_call(self, call_id: int) -> CallCost | None:
        return await current_session().scalar(select(CallCost).where(CallCost.call_id == call_id))

    async def expense(self, cost_id: int, expense_id: int) -> CostExpense | None:
        stmt = select(CostExpense).where(CostExpense.id == expense_id, CostExpense.cost_id == cost_id)
        return await current_session().scalar(stmt)

    async def material(self, cost_id: int, material_id: int) -> CostMaterial | None:
        stmt = select(CostMaterial).where(CostMaterial.id == material_id, CostMaterial.cost_id == cost_id)
        return await current_session().scalar(stmt)

    async def expenses_of(self, cost_id: int) -> list[CostExpense]:
        stmt = select(CostExpense).where(CostExpense.cost_id == cost_id).order_by(CostExpense.id)
        return list(await current_session().scalars(stmt))

    async def materials_of(self, cost_id: int) -> list[CostMaterial]:
        stmt = select(CostMaterial).where(CostMaterial.cost_id == cost_id).order_by(CostMaterial.id)
        return list(await current_session().scalars(stmt))

    async def line_count(self, cost_id: int) -> int:
        session = current_session()
        expenses = await session.scalar(select(func.count()).where(CostExpense.cost_id == cost_id))
        materials = await session.scalar(select(func.count()).where(CostMaterial.cost_id == cost_id))
        return int(expenses or 0) + int(materials or 0)

    async def item_in_catalog(self, call_id: int, item_id: int) -> bool:
        stmt = select(ExpenditureItem.id).where(ExpenditureItem.id == item_id, ExpenditureItem.call_id == call_id)
        return await current_session().scalar(stmt) is not None

    async def deadline_terms(self, company_id: int) -> tuple[int | None, int]:
        """The company's deadline day (None: the default) and its timezone (hours from UTC)."""
        session = current_session()
        day = await session.scalar(
            select(ContractorSettings.call_cost_deadline_day_of_month).where(
                ContractorSettings.company_id == company_id
            )
        )
        tz = await session.scalar(select(Company.timezone).where(Company.id == company_id))
        return day, int(tz or 0)

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> list[CallCost]:
        stmt = select(CallCost).where(CallCost.company_id == viewer.company_id, CallCost.change_no > cursor)
        if viewer.owner_scope is not None:
            stmt = stmt.join(Call, Call.id == CallCost.call_id).where(Call.owner_id == viewer.owner_scope)
        return list(await current_session().scalars(stmt.order_by(CallCost.change_no).limit(limit)))

    async def lines(
        self, cost_ids: Sequence[int]
    ) -> tuple[dict[int, list[CostExpense]], dict[int, list[CostMaterial]]]:
        """The lines of many estimates: two queries for the whole page."""
        expenses: dict[int, list[CostExpense]] = defaultdict(list)
        materials: dict[int, list[CostMaterial]] = defaultdict(list)
        if cost_ids:
            session = current_session()
            stmt = select(CostExpense).where(CostExpense.cost_id.in_(cost_ids)).order_by(CostExpense.id)
            for expense in await session.scalars(stmt):
                expenses[expense.cost_id].append(expense)
            stmt2 = select(CostMaterial).where(CostMaterial.cost_id.in_(cost_ids)).order_by(CostMaterial.id)
            for material in await session.scalars(stmt2):
                materials[material.cost_id].append(material)
        return expenses, materials

    async def finished_at(self, call_ids: Sequence[int]) -> dict[int, datetime | None]:
        if not call_ids:
            return {}
        stmt = select(Call.id, Call.finished_at).where(Call.id.in_(call_ids))
        return {row.id: row.finished_at for row in await current_session().execute(stmt)}


class ContractorAccountRepository:
    """Contractor sign-in: users by name, sealed verifiers, used salts, service-token families."""

    async def user_by_name(self, username: str) -> User | None:
        return await current_session().scalar(select(User).where(User.username == username))

    async def user(self, user_id: int) -> User | None:
        return await current_session().get(User, user_id)

    async def company_user(self, company_id: int, user_id: int) -> User | None:
        return await current_session().scalar(select(User).where(User.id == user_id, User.company_id == company_id))

    async def sealed_verifier(self, user_id: int) -> bytes | None:
        return await current_session().scalar(
            select(ContractorVerifier.sealed).where(ContractorVerifier.user_id == user_id)
        )

    async def verifier(self, user_id: int) -> ContractorVerifier | None:
        return await current_session().get(ContractorVerifier, user_id)

    async def add_verifier(self, row: ContractorVerifier) -> None:
        current_session().add(row)

    async def salt_used(self, user_id: int, digest: str) -> bool:
        return await current_session().get(UsedSalt, (user_id, digest)) is not None

    async def add_used_salt_guarded(self, row: UsedSalt) -> None:
        """In a savepoint: the same salt in a concurrent sign-in raises IntegrityError, the transaction lives on."""
        session = current_session()
        async with session.begin_nested():
            session.add(row)

    def add_service_token(self, row: ServiceToken) -> None:
        current_session().add(row)

    async def spend_service_token(self, jti: str, user_id: int) -> str | None:
        """Mark a live service token spent; its family, or None if it was not live (spent, revoked, unknown)."""
        spent = await current_session().execute(
            update(ServiceToken)
            .where(ServiceToken.jti == jti, ServiceToken.user_id == user_id)
            .where(ServiceToken.spent.is_(False), ServiceToken.revoked.is_(False))
            .values(spent=True)
            .returning(ServiceToken.family)
        )
        return spent.scalar_one_or_none()

    async def service_token(self, jti: str) -> ServiceToken | None:
        return await current_session().get(ServiceToken, jti)

    async def revoke_family(self, family: str) -> None:
        await current_session().execute(update(ServiceToken).where(ServiceToken.family == family).values(revoked=True))


class ChangeSequenceRepository:
    """Each company's change-number and call-number sequence (see feed.py for why no change is skipped)."""

    async def take(self, company_id: int, *, changes: int, call_numbers: int) -> tuple[int, int]:
        """Advance the sequence by ``changes`` and ``call_numbers`` (creating it on first use) after flushing the
        unit of work; the last change number and the last call number taken. The row stays locked until the
        transaction ends."""
        session = current_session()
        await session.flush()
        statement = (
            update(ChangeSequence)
            .where(ChangeSequence.company_id == company_id)
            .values(
                last_change=ChangeSequence.last_change + changes,
                last_call_number=ChangeSequence.last_call_number + call_numbers,
            )
            .returning(ChangeSequence.last_change, ChangeSequence.last_call_number)
        )
        found = (await session.execute(statement)).one_or_none()
        if found is None:
            await self._create(company_id)
            found = (await session.execute(statement)).one()
        return int(found[0]), int(found[1])

    async def flush(self) -> None:
        await current_session().flush()

    async def _create(self, company_id: int) -> None:
        """The company's sequence row, created on first use (a concurrent creator wins harmlessly)."""
        session = current_session()
        dialect = session.get_bind().dialect.name
        stmt: Any
        if dialect == "postgresql":
            stmt = pg_insert(ChangeSequence).on_conflict_do_nothing(index_elements=["company_id"])
        elif dialect == "sqlite":
            stmt = sqlite_insert(ChangeSequence).on_conflict_do_nothing(index_elements=["company_id"])
        else:  # pragma: no cover - only the two supported backends
            stmt = insert(ChangeSequence)
        await session.execute(stmt.values(company_id=company_id, last_change=0, last_call_number=0))
