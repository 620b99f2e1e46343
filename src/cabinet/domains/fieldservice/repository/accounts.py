"""Contractor sign-in: users by name, sealed verifiers, used salts, service-token families."""

from __future__ import annotations

from sqlalchemy import select, update

from cabinet.core.db.uow import current_session
from cabinet.models import ContractorVerifier, ServiceToken, UsedSalt, User


class ContractorAccountRepository:
    """Contractor sign-in: users by name, sealed verifiers, used salts, service-token families."""

    async def user(self, user_id: int) -> User | None:
        return await current_session().get(User, user_id)

    async def company_user(self, company_id: int, user_id: int) -> User | None:
        return await current_session().scalar(select(User).where(User.id == user_id, User.company_id == company_id))

    async def user_and_verifier(self, username: str) -> tuple[User, bytes | None] | None:
        """The user of this name and its sealed verifier, in one query (a known and an unknown name cost the
        same round trip)."""
        row = (
            await current_session().execute(
                select(User, ContractorVerifier.sealed)
                .outerjoin(ContractorVerifier, ContractorVerifier.user_id == User.id)
                .where(User.username == username)
            )
        ).first()
        return None if row is None else (row[0], row[1])

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
