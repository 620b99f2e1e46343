"""Data API sessions (``login.user`` / ``logout.user``) and agents acting inside linked client companies.

A session key is 32 random bytes (URL-safe base64, no dot, so it never looks like an API key); only its
SHA-256 is stored. It lives SESSION_TTL; a password change, disabling or moving its user ends it (the user's
token version is kept with the session, as for access tokens).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.principal import CredentialKind, Principal, principal_of
from cabinet.core.roles import Permission
from cabinet.domains.identity.errors import (
    AccountInactive,
    ClientAccessDenied,
    CompanyNotFound,
    DataSessionExpired,
    DataSessionInvalid,
)
from cabinet.domains.identity.repository import CompanyRepository, SessionRepository, UserRepository
from cabinet.domains.identity.service import IdentityService
from cabinet.models import DataSession

SESSION_TTL = timedelta(hours=1)
MAX_SESSION_KEY = 64


@dataclass(frozen=True, slots=True)
class OpenedSession:
    key: str  # shown once
    expires_at: datetime
    company_id: int  # the account's id (``app_id``)
    principal: Principal


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SessionService:
    def __init__(self, db: Database, *, clock: Clock, identity: IdentityService) -> None:
        self.db = db
        self.clock = clock
        self.identity = identity
        self.sessions = SessionRepository()
        self.users = UserRepository()
        self.companies = CompanyRepository()

    @transactional
    async def start(self, user_id: int) -> OpenedSession:
        """A new one-hour session of an authenticated user (IdentityService.authenticate checked it)."""
        user = await self.users.get_by_id(user_id)
        if user is None:
            raise DataSessionInvalid()
        now = self.clock.now()
        key = secrets.token_urlsafe(32)
        row = DataSession(
            token_hash=_digest(key),
            user_id=user.id,
            company_id=user.company_id,
            token_version=user.token_version,
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
        await self.sessions.add(row)
        await self.sessions.delete_expired(before=now - SESSION_TTL)
        return OpenedSession(
            key, row.expires_at, user.company_id, principal_of(user, CredentialKind.SESSION, None, keep=True)
        )

    @read_only
    async def resolve(self, key: str) -> Principal:
        """The principal of a live session, or DataSessionInvalid / DataSessionExpired / AccountInactive."""
        if not isinstance(key, str) or not key or len(key) > MAX_SESSION_KEY:
            raise DataSessionInvalid()
        row = await self.sessions.by_token_hash(_digest(key))
        if row is None:
            raise DataSessionInvalid()
        user = await self.users.get_by_id(row.user_id)
        if user is None or user.company_id != row.company_id or user.token_version != row.token_version:
            raise DataSessionInvalid()
        if row.expires_at <= self.clock.now():
            raise DataSessionExpired()
        if not user.enabled:
            raise AccountInactive(extra={"company_id": user.company_id})
        return principal_of(user, CredentialKind.SESSION, str(row.id), keep=True)

    @transactional
    async def close(self, principal: Principal) -> None:
        """Delete the caller's session (``logout.user``); other credentials have no session to end."""
        if principal.credential is CredentialKind.SESSION and principal.credential_id is not None:
            await self.sessions.delete(int(principal.credential_id))

    # --- agents -----------------------------------------------------------------------------------------
    @read_only
    async def act_for_client(self, agent: Principal, user_id: int) -> Principal:
        """The client user ``user_id`` as seen by an agent: its own rights apply. ClientAccessDenied unless the
        agent may act for clients and the user's company is linked to the agent's."""
        if not agent.can(Permission.DATA_ACT_FOR_CLIENT):
            raise ClientAccessDenied()
        user = await self.users.get_by_id(user_id)
        if user is None:
            raise ClientAccessDenied()
        if not await self.sessions.linked(agent.company_id, user.company_id):
            raise ClientAccessDenied()
        if not user.enabled:
            raise AccountInactive()
        return principal_of(user, agent.credential, agent.credential_id, keep=True)

    @transactional
    async def link_client(self, partner_key: str, client_key: str) -> None:
        """Link a client company to an agent company (platform operators: CLI, demo data, tests)."""
        partner = await self.companies.get_by_key(partner_key)
        client = await self.companies.get_by_key(client_key)
        if partner is None or client is None:
            raise CompanyNotFound(resource=partner_key if partner is None else client_key)
        if not await self.sessions.linked(partner.id, client.id):
            await self.sessions.link(partner.id, client.id, self.clock.now())
