"""Proof of work of a call: the field employee's visits and the customer's signatures."""

from __future__ import annotations

from sqlalchemy import select

from cabinet.core.db.uow import current_session
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
