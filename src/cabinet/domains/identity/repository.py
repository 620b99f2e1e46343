"""Identity queries. Never commits; always reached from a @transactional service method."""

from __future__ import annotations

from sqlalchemy import select

from cabinet.core.db.uow import current_session
from cabinet.models import Company, User


class CompanyRepository:
    async def get_by_key(self, key: str) -> Company | None:
        return await current_session().scalar(select(Company).where(Company.key == key))

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

    async def get_by_id(self, user_id: int) -> User | None:
        return await current_session().get(User, user_id)

    async def get_in_company(self, user_id: int, company_id: int) -> User | None:
        return await current_session().scalar(select(User).where(User.id == user_id, User.company_id == company_id))

    async def add(self, user: User) -> User:
        session = current_session()
        session.add(user)
        await session.flush()
        return user
