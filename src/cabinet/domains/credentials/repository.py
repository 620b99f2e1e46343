"""Credentials queries. Never commits; always reached from a unit of work of the service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cabinet.core.db.uow import current_session
from cabinet.core.query import FieldType, Query, QueryField, run_query
from cabinet.models import ApiKey, Company, CompanyNetwork, User

CHANGED_KEYS = "cabinet.changed_keys"  # the session's ``info`` key: prefixes of the keys its flushes changed


@event.listens_for(Session, "after_flush")
def _note_changed_keys(session: Session, _: Any) -> None:
    """Every flush that updates or deletes a key row notes its prefix on the session; once the unit of work has
    committed, the credentials service gives those keys new change stamps (``key_cache``). Keys are changed
    through the ORM only; the one bulk UPDATE (``touch``: when it was last used) changes nothing a check reads."""
    changed = [obj.prefix for obj in (*session.dirty, *session.deleted) if isinstance(obj, ApiKey)]
    if changed:
        session.info.setdefault(CHANGED_KEYS, set()).update(changed)


KEY_CATALOG = {
    "id": QueryField(ApiKey.id, FieldType.INTEGER),
    "user_id": QueryField(ApiKey.user_id, FieldType.INTEGER),
    "login": QueryField(User.username, FieldType.STRING),
    "company_id": QueryField(ApiKey.company_id, FieldType.INTEGER),
    "name": QueryField(ApiKey.name, FieldType.STRING),
    "prefix": QueryField(ApiKey.prefix, FieldType.STRING),
    "is_permanent": QueryField(ApiKey.expires_at.is_(None), FieldType.BOOLEAN),
    "expire_date": QueryField(ApiKey.expires_at, FieldType.DATETIME),
    "is_blocked": QueryField(ApiKey.blocked, FieldType.BOOLEAN),
    "creation_date": QueryField(ApiKey.created_at, FieldType.DATETIME),
    "last_used_date": QueryField(ApiKey.last_used_at, FieldType.DATETIME),
    "last_used_address": QueryField(ApiKey.last_used_ip, FieldType.STRING),
}


class ApiKeyRepository:
    async def search(self, query: Query, scope: int | None) -> tuple[list[tuple[ApiKey, str]], int]:
        """Keys (with their owner's username) of ``scope``'s company, or of all, matching a Data API query."""
        stmt = select(ApiKey, User.username).join(User, User.id == ApiKey.user_id)
        if scope is not None:
            stmt = stmt.where(ApiKey.company_id == scope)
        rows, total = await run_query(stmt, KEY_CATALOG, query, [ApiKey.id], scalars=False)
        return [(row[0], row[1]) for row in rows], total

    async def owner_by_username(self, username: str) -> User | None:
        return await current_session().scalar(select(User).where(User.username == username))

    async def by_prefix(self, prefix: str) -> tuple[ApiKey, User] | None:
        row = (
            await current_session().execute(
                select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.prefix == prefix)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def by_id(self, key_id: int, *, lock: bool = False) -> tuple[ApiKey, User] | None:
        """The key and its owner; ``lock`` holds the key's row until commit (PostgreSQL)."""
        stmt = select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.id == key_id)
        if lock:
            stmt = stmt.with_for_update(of=ApiKey)
        row = (await current_session().execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def for_user(self, user_id: int, *, lock: bool = False) -> Sequence[ApiKey]:
        stmt = select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.id)
        return (await current_session().scalars(stmt.with_for_update() if lock else stmt)).all()

    async def count_for_user(self, user_id: int) -> int:
        return int(
            await current_session().scalar(select(func.count()).select_from(ApiKey).where(ApiKey.user_id == user_id))
            or 0
        )

    async def prefix_taken(self, prefix: str) -> bool:
        return await current_session().scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None

    async def add(self, key: ApiKey) -> ApiKey:
        session = current_session()
        session.add(key)
        await session.flush()
        return key

    async def delete(self, key: ApiKey) -> None:
        session = current_session()
        await session.delete(key)
        await session.flush()

    async def touch(self, key_id: int, now: datetime, not_since: datetime, address: str | None) -> None:
        """Set last_used_at and its address, unless someone (another process) already did after ``not_since``."""
        await current_session().execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < not_since))
            .values(last_used_at=now, last_used_ip=address)
        )


class NetworkRepository:
    async def company_by_key(self, key: str, *, lock: bool = False) -> Company | None:
        """The company; ``lock`` holds its row until commit (PostgreSQL), so writers of one list queue."""
        query = select(Company).where(Company.key == key)
        return await current_session().scalar(query.with_for_update() if lock else query)

    async def cidrs(self, company_id: int) -> list[str]:
        rows = await current_session().scalars(
            select(CompanyNetwork.cidr).where(CompanyNetwork.company_id == company_id).order_by(CompanyNetwork.id)
        )
        return list(rows)

    async def add_guarded(self, network: CompanyNetwork) -> bool:
        """Insert inside a savepoint; False when the (company, cidr) pair already exists (a concurrent add)."""
        session = current_session()
        try:
            async with session.begin_nested():
                session.add(network)
        except IntegrityError:
            return False
        return True

    async def remove(self, company_id: int, cidr: str) -> None:
        await current_session().execute(
            delete(CompanyNetwork).where(CompanyNetwork.company_id == company_id, CompanyNetwork.cidr == cidr)
        )

    async def remove_all(self, company_id: int) -> None:
        await current_session().execute(delete(CompanyNetwork).where(CompanyNetwork.company_id == company_id))

    async def add_all(self, networks: Sequence[CompanyNetwork]) -> None:
        session = current_session()
        session.add_all(networks)
        await session.flush()
