"""Identity queries. Never commits; always reached from a @transactional service method."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    cast,
    delete,
    event,
    func,
    inspect,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from cabinet.core.db.like import LIKE_ESCAPE, contains_pattern
from cabinet.core.db.uow import current_session
from cabinet.core.query import FieldType, Query, QueryField, run_query
from cabinet.domains.identity.schemas import ListQuery, UserCounters, UserGroup
from cabinet.models import Company, DataSession, EndedWebSession, PartnerLink, User

CHANGED_USERS = "cabinet.changed_users"  # the session's ``info`` key: ids of the users its flushes changed
# the session's ``info`` key: ids of the companies whose users its flushes added, changed or deleted
CHANGED_USER_COMPANIES = "cabinet.changed_user_companies"


@event.listens_for(Session, "after_flush")
def _note_changed_users(session: Session, _: Any) -> None:
    """Every flush that updates or deletes a user row notes its id on the session, and every flush that adds,
    updates or deletes one (or deletes a company) notes the company; once the unit of work has committed, the
    identity service gives those users and companies new change stamps (the per-process caches of accounts and
    of the user lists' counters drop them). Users are written through the ORM only (identity alone writes them:
    a rule test), so every change passes here; a change rolled back never reaches the commit observers."""
    changed = [obj.id for obj in (*session.dirty, *session.deleted) if isinstance(obj, User) and obj.id is not None]
    if changed:
        session.info.setdefault(CHANGED_USERS, set()).update(changed)
    companies: set[int | None] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User):
            state = inspect(obj)
            # the loaded values only (no lazy load in a flush), and the company a moved user left
            companies.add(state.dict.get("company_id"))
            companies.update(state.attrs.company_id.history.deleted or ())
        elif isinstance(obj, Company) and obj in session.deleted:
            companies.add(obj.id)
    companies.discard(None)
    if companies:
        session.info.setdefault(CHANGED_USER_COMPANIES, set()).update(companies)


class CompanyRepository:
    async def get_by_key(self, key: str) -> Company | None:
        return await current_session().scalar(select(Company).where(Company.key == key))

    async def get_by_id(self, company_id: int) -> Company | None:
        return await current_session().get(Company, company_id)

    async def add(self, company: Company) -> Company:
        session = current_session()
        session.add(company)
        await session.flush()
        return company

    async def add_guarded(self, company: Company) -> Company:
        """Insert inside a savepoint, so a unique-key clash leaves the outer transaction usable."""
        session = current_session()
        async with session.begin_nested():
            session.add(company)
        return company


class UserRepository:
    async def get_by_username(self, username: str) -> User | None:
        return await current_session().scalar(select(User).where(User.username == username))

    async def confusable_name(self, skeleton: str, username: str) -> str | None:
        """Another user's name with this skeleton (the indexed column), if any."""
        return await current_session().scalar(
            select(User.username).where(User.username_skeleton == skeleton, User.username != username).limit(1)
        )

    async def get_by_id(self, user_id: int) -> User | None:
        return await current_session().get(User, user_id)

    async def get_in_company(self, user_id: int, company_id: int) -> User | None:
        return await current_session().scalar(select(User).where(User.id == user_id, User.company_id == company_id))

    async def holders_of(self, company_id: int, role: str) -> Sequence[User]:
        """The company's enabled users holding ``role`` (the JSON list's text narrows, the caller checks)."""
        stmt = (
            select(User)
            .where(User.company_id == company_id, User.enabled.is_(True), cast(User.roles, String).like(f'%"{role}"%'))
            .order_by(User.id)
        )
        return (await current_session().scalars(stmt)).all()

    async def add(self, user: User) -> User:
        session = current_session()
        session.add(user)
        await session.flush()
        return user

    async def add_guarded(self, user: User) -> User:
        """Add in a savepoint: a unique violation (a concurrent insert of the name) leaves the transaction usable."""
        session = current_session()
        async with session.begin_nested():
            session.add(user)
        return user


class EndedWebSessionRepository:
    """Web sessions signed out of (their jti until the token would have expired)."""

    async def ended(self, jti: str) -> bool:
        return await current_session().get(EndedWebSession, jti) is not None

    async def prune(self, *, before: datetime) -> None:
        await current_session().execute(delete(EndedWebSession).where(EndedWebSession.expires_at < before))

    async def add_guarded(self, row: EndedWebSession) -> None:
        """In a savepoint: a unique or foreign-key violation leaves the transaction usable (and is raised)."""
        session = current_session()
        async with session.begin_nested():
            session.add(row)


class SessionRepository:
    """Data API sessions and the partner links agents act through."""

    async def add(self, row: DataSession) -> None:
        session = current_session()
        session.add(row)
        await session.flush()

    async def delete_expired(self, *, before: datetime) -> None:
        await current_session().execute(delete(DataSession).where(DataSession.expires_at < before))

    async def by_token_hash(self, token_hash: str) -> DataSession | None:
        return await current_session().scalar(select(DataSession).where(DataSession.token_hash == token_hash))

    async def delete(self, session_id: int) -> None:
        await current_session().execute(delete(DataSession).where(DataSession.id == session_id))

    async def linked(self, partner_company_id: int, client_company_id: int) -> bool:
        link = await current_session().scalar(
            select(PartnerLink.id).where(
                PartnerLink.partner_company_id == partner_company_id,
                PartnerLink.client_company_id == client_company_id,
            )
        )
        return link is not None

    async def link(self, partner_company_id: int, client_company_id: int, now: datetime) -> None:
        current_session().add(
            PartnerLink(partner_company_id=partner_company_id, client_company_id=client_company_id, created_at=now)
        )


COMPANY_SORT = {"key": Company.key, "detail": Company.detail, "creation_date": Company.created_at}
USER_SORT = {
    "username": User.username,
    "name": User.specification,
    "email": User.email,
    "phone": User.phone,
    "enabled": User.enabled,
    "timezone": User.timezone,
    "creation_date": User.created_at,
    "edit_date": User.edited_at,
}


# Data API ``get`` queries: field -> column (compiled to SQL by core.query)
_T = FieldType
COMPANY_CATALOG = {
    "id": QueryField(Company.id, _T.INTEGER),
    "name": QueryField(Company.key, _T.STRING),
    "description": QueryField(Company.detail, _T.STRING),
    "creation_date": QueryField(Company.created_at, _T.DATETIME),
    "edit_date": QueryField(Company.edited_at, _T.DATETIME),
}
USER_CATALOG = {
    "id": QueryField(User.id, _T.INTEGER),
    "login": QueryField(User.username, _T.STRING),
    "name": QueryField(User.specification, _T.STRING),
    "email": QueryField(User.email, _T.STRING),
    "phone": QueryField(User.phone, _T.STRING),
    "company_id": QueryField(User.company_id, _T.INTEGER),
    "company_name": QueryField(
        select(Company.key).where(Company.id == User.company_id).correlate(User).scalar_subquery(), _T.STRING
    ),
    "is_active": QueryField(User.enabled, _T.BOOLEAN),
    "roles": QueryField(User.roles, _T.STRING_ARRAY),
    "timezone": QueryField(User.timezone, _T.INTEGER),
    "creation_date": QueryField(User.created_at, _T.DATETIME),
    "edit_date": QueryField(User.edited_at, _T.DATETIME),
}


class DirectoryRepository:
    """Company and user lists for operators, always confined to ``scope`` (a company id) when given."""

    async def companies(self, query: ListQuery, scope: int | None) -> tuple[Sequence[Company], int, int]:
        session = current_session()
        base = [Company.id == scope] if scope is not None else []
        where = list(base)
        if query.text:
            pattern = contains_pattern(query.text)
            where.append(
                or_(Company.key.ilike(pattern, escape=LIKE_ESCAPE), Company.detail.ilike(pattern, escape=LIKE_ESCAPE))
            )
        column = COMPANY_SORT[query.sort_field or "key"]
        order = [_direction(column, query.descending), Company.id]
        rows = (
            await session.scalars(
                select(Company).where(*where).order_by(*order).offset(query.offset).limit(query.limit)
            )
        ).all()
        overall = await session.scalar(select(func.count()).select_from(Company).where(*base)) or 0
        filtered = await session.scalar(select(func.count()).select_from(Company).where(*where)) or 0
        return rows, int(overall), int(filtered)

    async def users(
        self, query: ListQuery, scope: int | None, scope_total: int, counters: UserCounters | None = None
    ) -> tuple[Sequence[User], UserCounters]:
        """A page of the users in ``scope`` (``scope_total`` of them) the query lists, and the counters of all it
        lists (``counters`` when the caller has them, else counted first: they choose how the page is read)."""
        session = current_session()
        by_match = len(query.text or "") >= TRIGRAM  # a text the trigram indexes serve
        if counters is None:
            counters = await self._counters(self._listed(query, scope, session, by_match=by_match))
        column = USER_SORT[query.sort_field or "username"]
        order = [_direction(column, query.descending), User.id]
        if by_match and counters.total * 4 <= scope_total:
            # a search matching few of the scope's users: sort the matches' ids, then read the page's rows
            ids = select(User.id).where(*self._listed(query, scope, session, by_match=True))
            page = select(User).where(User.id.in_(ids.order_by(*order).offset(query.offset).limit(query.limit)))
            rows = (await session.scalars(page.order_by(*order))).all()
        else:
            listed = self._listed(query, scope, session, by_match=False)
            page = select(User).where(*listed).order_by(*order).offset(query.offset).limit(query.limit)
            rows = (await session.scalars(page)).all()
        return rows, counters

    @staticmethod
    def _listed(query: ListQuery, scope: int | None, session: Any, *, by_match: bool) -> list[ColumnElement[bool]]:
        """The conditions of the users a query lists. ``by_match`` (a text of 3 characters and more): the company
        compared as ``company_id + 0``, which no index serves. Neither database knows how many users a trigram
        match finds (SQLite nothing of an FTS5 match; PostgreSQL prices ILIKE as cheap), so both walked the
        company's index and tested each user (100,000 users for 11,111 matches: SQLite 13 ms for the counters,
        PostgreSQL 160 ms); this way they read the matches from the trigram index (4 ms; 23 ms)."""
        company = User.company_id + 0 if by_match else User.company_id
        listed: list[ColumnElement[bool]] = [company == scope] if scope is not None else []
        if query.company_key:
            listed.append(company.in_(select(Company.id).where(Company.key == query.company_key)))
        if query.text:
            listed.append(_user_text(query.text, session.get_bind().dialect.name))
        if query.user_group == UserGroup.ACTIVE:
            listed.append(User.enabled.is_(True))
        elif query.user_group == UserGroup.BLOCKED:
            listed.append(User.enabled.is_(False))
        elif query.user_group == UserGroup.ADMINS:
            listed.append(User.is_admin.is_(True))
        return listed

    async def user_counters(self, scope: int | None) -> UserCounters:
        """The counters of every user in ``scope`` (a company id, None: all companies)."""
        return await self._counters([User.company_id == scope] if scope is not None else [])

    async def _counters(self, where: list[ColumnElement[bool]]) -> UserCounters:
        row = (
            await current_session().execute(
                select(
                    func.count(),
                    func.count().filter(User.enabled.is_(True)),
                    func.count().filter(User.enabled.is_(False)),
                    func.count().filter(User.is_admin.is_(True)),
                ).where(*where)
            )
        ).one()
        return UserCounters(int(row[0]), int(row[1]), int(row[2]), int(row[3]))

    async def search_companies(self, query: Query, scope: int | None) -> tuple[list[Company], int]:
        stmt = select(Company).where(*([Company.id == scope] if scope is not None else []))
        return await run_query(stmt, COMPANY_CATALOG, query, [Company.id])

    async def search_users(self, query: Query, scope: int | None) -> tuple[list[User], int]:
        stmt = select(User).where(*([User.company_id == scope] if scope is not None else []))
        return await run_query(stmt, USER_CATALOG, query, [User.id])

    async def search_client_users(self, query: Query, partner_company_id: int) -> tuple[list[User], int]:
        """Users of the client companies linked to an agent company."""
        clients = select(PartnerLink.client_company_id).where(PartnerLink.partner_company_id == partner_company_id)
        return await run_query(select(User).where(User.company_id.in_(clients)), USER_CATALOG, query, [User.id])

    async def users_in_company(self, company_id: int) -> int:
        return int(
            await current_session().scalar(select(func.count()).select_from(User).where(User.company_id == company_id))
            or 0
        )

    async def delete(self, row: Company | User) -> None:
        session = current_session()
        await session.delete(row)
        await session.flush()

    async def save(self) -> None:
        """Write pending changes now, so a row deleted or referenced meanwhile fails here, not at commit."""
        await current_session().flush()


def _direction(column: Any, descending: bool) -> Any:
    """NULL sorts as the largest value on every backend (SQLite and PostgreSQL disagree by default)."""
    return column.desc().nulls_first() if descending else column.asc().nulls_last()


# The trigram index of migration 0020 finds substrings of 3 characters and more
TRIGRAM = 3
# PostgreSQL: the expression migration 0021 indexes (GIN trigram), written as it is there (a planner matches an
# index's expression only to the same expression with the same constants, never to bound parameters)
USER_TEXT_SEPARATOR = chr(1)
_USER_TEXT = literal_column(
    "(coalesce(user_account.username, '') || chr(1) || coalesce(user_account.specification, '') || chr(1) || "
    "coalesce(user_account.email, '') || chr(1) || coalesce(user_account.phone, ''))",
    String(),
)
_USER_SEARCH = table("user_search")  # SQLite: FTS5 over login, name, e-mail and phone (trigram, case-folded)
_USER_SEARCH_MATCH = text("user_search MATCH :user_text")


def _user_text(needle: str, dialect: str) -> ColumnElement[bool]:
    """Users whose login, name, e-mail or phone contains ``needle``, ignoring case. On SQLite a needle of 3
    characters and more is looked up in the FTS5 trigram table (one quoted phrase: the characters as they are,
    quotes doubled), a shorter one scans. On PostgreSQL the four texts joined by ``chr(1)`` are matched with one
    ILIKE, which migration 0021's GIN trigram index over that same expression serves (the planner chose to scan
    every row for four ORed ILIKEs); a needle holding that character is matched column by column."""
    if dialect == "sqlite" and len(needle) >= TRIGRAM:
        phrase = '"' + needle.replace('"', '""') + '"'
        found: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(_USER_SEARCH)
            .where(_USER_SEARCH_MATCH.bindparams(bindparam("user_text", phrase)))
        )
        return User.id.in_(found)
    pattern = contains_pattern(needle)
    if dialect == "postgresql" and USER_TEXT_SEPARATOR not in needle:
        return _USER_TEXT.ilike(pattern, escape=LIKE_ESCAPE)
    return or_(
        *(c.ilike(pattern, escape=LIKE_ESCAPE) for c in (User.username, User.specification, User.email, User.phone))
    )
