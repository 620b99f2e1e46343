"""Proof of work of a call: the field employee's visits and the customer's signatures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from cabinet.core.db.uow import current_session
from cabinet.domains.fieldservice.repository.scope import whole_rows
from cabinet.models import CallSignature, CallVisit


class ProofRepository:
    """Visits and signatures of one call (the service reached the call through the viewer's scope)."""

    async def add(self, row: CallVisit | CallSignature) -> None:
        """A new visit or signature, flushed (its id assigned)."""
        session = current_session()
        session.add(row)
        await session.flush()

    async def visits_of(self, call_id: int) -> list[CallVisit]:
        stmt = select(CallVisit).where(CallVisit.call_id == call_id).order_by(CallVisit.id)
        return list(await current_session().scalars(stmt))

    async def signatures_of(self, call_id: int) -> list[CallSignature]:
        """Every signature of the call, the replaced ones too, oldest first."""
        stmt = select(CallSignature).where(CallSignature.call_id == call_id).order_by(CallSignature.id)
        return list(await current_session().scalars(stmt))

    async def signature(self, call_id: int, signature_id: int) -> CallSignature | None:
        stmt = select(CallSignature).where(CallSignature.id == signature_id, CallSignature.call_id == call_id)
        return await current_session().scalar(stmt)

    async def of_calls(self, ids: Sequence[int]) -> tuple[dict[int, list[Any]], dict[int, Any]]:
        """The visits (plain rows, oldest first) and the current signature of each of the calls."""
        visits: dict[int, list[Any]] = defaultdict(list)
        signatures: dict[int, Any] = {}
        if ids:
            session = current_session()
            stmt = whole_rows(CallVisit).where(CallVisit.call_id.in_(list(ids))).order_by(CallVisit.id)
            for visit in await session.execute(stmt):
                visits[visit.call_id].append(visit)
            current = whole_rows(CallSignature).where(
                CallSignature.call_id.in_(list(ids)), CallSignature.replaced_at.is_(None)
            )
            signatures = {s.call_id: s for s in await session.execute(current)}
        return visits, signatures
