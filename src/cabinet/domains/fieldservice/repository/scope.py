"""What every contractor-area query shares: the viewer's calls, whole rows, the isExpired rule."""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, literal, or_, select

from cabinet.core.db.types import UTCDateTime
from cabinet.domains.fieldservice.policies import Viewer
from cabinet.models import Call, ChangeSequence


def call_scope(viewer: Viewer) -> list[ColumnElement[bool]]:
    """The calls the viewer may see: of its company, and only those it owns for a confined contractor. The one
    place the tenant scope of calls is written (every query of calls or of their child rows goes through it)."""
    clauses: list[ColumnElement[bool]] = [Call.company_id == viewer.company_id]
    if viewer.owner_scope is not None:
        clauses.append(Call.owner_id == viewer.owner_scope)
    return clauses


def scope_key(viewer: Viewer) -> tuple[int, int | None]:
    """What ``call_scope`` depends on: viewers with the same key see the same calls."""
    return viewer.company_id, viewer.owner_scope


_COMPANY_SCOPE: tuple[ColumnElement[bool], ...] = (Call.company_id == bindparam("scope_company"),)
_OWNER_SCOPE: tuple[ColumnElement[bool], ...] = (*_COMPANY_SCOPE, Call.owner_id == bindparam("scope_owner"))


def bound_call_scope(viewer: Viewer) -> tuple[tuple[ColumnElement[bool], ...], dict[str, Any]]:
    """``call_scope`` with the viewer's values as bound parameters (for a statement built once and run for every
    viewer: ``call_views``), and those values. Its shape depends only on whether the viewer is confined, so the
    clauses are built once (building them was 4 % of a call view's time under load)."""
    if viewer.owner_scope is None:
        return _COMPANY_SCOPE, {"scope_company": viewer.company_id}
    return _OWNER_SCOPE, {"scope_company": viewer.company_id, "scope_owner": viewer.owner_scope}


def is_confined(viewer: Viewer) -> bool:
    """Whether the viewer sees only the calls of one owner (``call_scope``)."""
    return viewer.owner_scope is not None


def bound_call_scope_clauses(confined: bool) -> tuple[ColumnElement[bool], ...]:
    """``bound_call_scope``'s clauses for a viewer confined to an owner's calls or not."""
    return _OWNER_SCOPE if confined else _COMPANY_SCOPE


def child_scope(model: Any, viewer: Viewer) -> list[ColumnElement[bool]]:
    """A call's child rows (tasks, messages, jeopardies, estimates) the viewer may see: of its company, and of
    the calls in its ``call_scope``."""
    clauses: list[ColumnElement[bool]] = [model.company_id == viewer.company_id]
    if viewer.owner_scope is not None:
        clauses.append(model.call_id.in_(select(Call.id).where(*call_scope(viewer))))
    return clauses


def within_call_scope(stmt: Select[Any], model: Any, viewer: Viewer) -> Select[Any]:
    """``stmt`` over a call's child rows narrowed like ``child_scope``, by a join (the change feeds)."""
    stmt = stmt.where(model.company_id == viewer.company_id)
    if viewer.owner_scope is not None:
        stmt = stmt.join(Call, Call.id == model.call_id).where(*call_scope(viewer))
    return stmt


def whole_rows(model: Any) -> Select[Any]:
    """Plain rows of a model's table (attribute names = column names): lists and feeds read thousands of rows
    that nobody changes, and skipping the ORM's identity map makes them several times cheaper. Read them with
    ``plain_rows``."""
    return select(*model.__table__.c)


@functools.cache
def row_type(model: Any) -> Any:
    """The read-only row of a model's table: a named tuple of its columns, in the table's order."""
    return namedtuple(f"{model.__name__}Row", [column.name for column in model.__table__.c])


def plain_rows(model: Any, rows: Iterable[Any]) -> list[Any]:
    """Rows of ``whole_rows(model)`` (columns after the table's own left out) as ``row_type(model)``: an attribute
    of SQLAlchemy's ``Row`` costs about 1 µs (its ``__getattr__`` is Python code), a named tuple's 35 ns, and a
    call's JSON alone reads some 30 of them (30 ms of a feed page of 1,000 calls)."""
    make = row_type(model)._make
    width = len(model.__table__.c)
    return [make(row[:width]) for row in rows]


def expired_clause(now: datetime | ColumnElement[Any]) -> ColumnElement[bool]:
    """isExpired: the arrival deadline passed before acceptance, or the fix deadline before completion (at ``now``,
    a time or a bound parameter)."""
    at = now if isinstance(now, ColumnElement) else literal(now, UTCDateTime())
    return or_(
        and_(Call.tto.is_not(None), func.coalesce(Call.commited_at, at) > Call.tto),
        and_(Call.ttf.is_not(None), func.coalesce(Call.finished_at, at) > Call.ttf),
    )


def company_version(company: ColumnElement[Any]) -> ColumnElement[Any]:
    """The company's change number (``feed.stamp``) as a column: an exact version of all its calls, read by the
    statement whose answer it versions (``call_counts``)."""
    return select(ChangeSequence.last_change).where(ChangeSequence.company_id == company).scalar_subquery()


def expiry_bound(company: ColumnElement[Any], now: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """When a call of ``company`` can next become expired (``expired_clause``), as two columns: the earliest arrival
    deadline of a call not yet accepted and the earliest fix deadline of one not yet finished, from ``now`` on
    (NULL: none). While no call of the company changes, a count of calls filtered by ``isExpired`` holds until the
    earlier of the two (``call_counts``); one index seek each (``ix_contractor_call_open_tto``, ``_ttf``)."""
    return [
        select(func.min(Call.tto))
        .where(Call.company_id == company, Call.commited_at.is_(None), Call.tto >= now)
        .scalar_subquery(),
        select(func.min(Call.ttf))
        .where(Call.company_id == company, Call.finished_at.is_(None), Call.ttf >= now)
        .scalar_subquery(),
    ]


def earliest(*moments: datetime | None) -> datetime | None:
    """The earliest of the moments given (None: none)."""
    return min((moment for moment in moments if moment is not None), default=None)


def is_expired(call: Call, now: datetime) -> bool:
    tto_missed = call.tto is not None and (call.commited_at or now) > call.tto
    ttf_missed = call.ttf is not None and (call.finished_at or now) > call.ttf
    return tto_missed or ttf_missed
