"""SQL of the idempotency domain. Never commits; always reached from a unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cabinet.core.db.uow import current_session
from cabinet.domains.idempotency.schemas import KeyClaim
from cabinet.models import IdempotentRequest


class IdempotencyRepository:
    async def claim(self, claim: KeyClaim, now: datetime) -> bool:
        """Insert the key's row; False when it exists. On PostgreSQL a concurrent transaction holding the same key
        makes this wait for it to end, then see its row (the unique index); on SQLite writers take turns."""
        session = current_session()
        values = {"scope": claim.scope, "key": claim.key, "fingerprint": claim.fingerprint, "created_at": now}
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(IdempotentRequest)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(IdempotentRequest.id)
        )
        return (await session.execute(stmt)).scalar() is not None

    async def find(self, scope: str, key: str) -> IdempotentRequest | None:
        stmt = select(IdempotentRequest).where(IdempotentRequest.scope == scope, IdempotentRequest.key == key)
        return await current_session().scalar(stmt.execution_options(populate_existing=True))

    async def flush(self) -> None:
        await current_session().flush()

    async def delete_before(self, cutoff: datetime, limit: int) -> int:
        session = current_session()
        ids = select(IdempotentRequest.id).where(IdempotentRequest.created_at < cutoff).limit(limit)
        result = await session.execute(
            delete(IdempotentRequest)
            .where(IdempotentRequest.id.in_(ids.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
