"""Contractor accounts: registration by the external system, the salted-hash sign-in, service-token rotation,
password changes, lock and unlock. Each public method is one unit of work (slow hashing runs outside it).

The sign-in protocol (seed 004) sends ``SHA256(SHA256(utf8 password) || salt)``, so the server must hold
``SHA256(password)``: it is kept only sealed with AES-GCM under a key derived from the server secret and bound to
the user id and the user's current argon2 password hash (core/security/sealing.py), never in clear and never in
a response. A password changed anywhere else (the Account API, an operator) changes that hash, so the old
verifier no longer opens and the old password stops working here too (until the ERP sets one again).

Every salt is accepted once per user, forever: the SHA-256 of each used salt is stored with a primary key on
(user, digest), so a replayed pair is refused (code 2) even across processes and under races.

Service tokens buy a new pair at ``POST /user/token`` and are spent by that use; presenting a spent or revoked
one (a stolen copy, or the thief's) revokes its whole family and bumps the user's token version, which kills
every access token of the user as well.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import FieldIssue
from cabinet.core.limits import AttemptThrottle, give_back_attempt, reserve_attempt
from cabinet.core.principal import CredentialKind, Principal, principal_of
from cabinet.core.roles import Role
from cabinet.core.security.passwords import PasswordHasher
from cabinet.core.security.sealing import SealBroken, Sealer
from cabinet.core.security.tokens import TokenClaims, TokenCodec, TokenInvalid
from cabinet.core.usernames import MIXED_SCRIPT, mixed_script
from cabinet.domains.fieldservice.errors import (
    ContractorUserExists,
    ContractorUserInvalid,
    ContractorUserNotFound,
    SaltReused,
    ServiceTokenInvalid,
    SignInFailed,
    SignInLocked,
    SignInThrottled,
    TargetUserLocked,
)
from cabinet.domains.fieldservice.policies import require_external
from cabinet.domains.fieldservice.repository import ContractorAccountRepository
from cabinet.domains.fieldservice.schemas import (
    ACCESS_TOKEN_TTL_SECONDS,
    SALT_MAX_BYTES,
    SALT_MIN_BYTES,
    SERVICE_TOKEN_TTL_SECONDS,
    USERNAME_RE,
    IssuedPair,
)
from cabinet.models import ContractorVerifier, ServiceToken, UsedSalt, User

SEAL_PURPOSE = "cabinet/contractor-verifier/v1"
# The external system manages only contractor staff: never a BOT, an owner or a platform role.
MANAGED_ROLES = frozenset({Role.USER.value, Role.CREW.value, Role.CREWMANAGER.value})


class UserWriter(Protocol):
    """The identity domain's user writes (identity alone writes users; domains/registry.py passes its service)."""

    def password_issue(self, password: str) -> str | None: ...

    async def add_company_user(
        self, company_id: int, username: str, password_hash: str, roles: Sequence[Role]
    ) -> User | None: ...

    async def replace_password_hash(self, user: User, password_hash: str) -> None: ...

    async def revoke_tokens(self, user: User) -> None: ...

    async def set_user_enabled(self, user: User, enabled: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class _Candidate:
    user: User
    sealed: bytes | None


class ContractorAccountService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        secret: bytes,
        throttle: AttemptThrottle,
        ip_throttle: AttemptThrottle,
        users: UserWriter,
        access_ttl: timedelta = timedelta(seconds=ACCESS_TOKEN_TTL_SECONDS),
        service_ttl: timedelta = timedelta(seconds=SERVICE_TOKEN_TTL_SECONDS),
    ) -> None:
        self.db = db
        self.clock = clock
        self.hasher = hasher
        self.tokens = tokens
        self.throttle = throttle
        self.ip_throttle = ip_throttle
        self.users = users
        self.accounts = ContractorAccountRepository()
        self.access_ttl = access_ttl
        self.service_ttl = service_ttl
        self._sealer = Sealer(secret, SEAL_PURPOSE)
        self._dummy_sealed = self._sealer.seal(b"\0" * 32, bound_to=b"0")

    # --- registration ------------------------------------------------------------------------------------
    async def register(self, principal: Principal, username: str, password: str) -> User:
        viewer = require_external(principal)
        issues: list[FieldIssue] = []
        if not USERNAME_RE.fullmatch(username or ""):
            issues.append(FieldIssue("userName", "2..256 word characters (letters, digits, _)"))
        elif mixed_script(username):
            issues.append(FieldIssue("userName", MIXED_SCRIPT))
        refused = self.users.password_issue(password)
        if refused:
            issues.append(FieldIssue("password", refused))
        if issues:
            raise ContractorUserInvalid("; ".join(i.message for i in issues), issues=issues)
        password_hash = await self.hasher.hash(password)
        return await self._insert(viewer.company_id, username, password_hash, _verifier(password))

    @transactional
    async def _insert(self, company_id: int, username: str, password_hash: str, verifier: bytes) -> User:
        user = await self.users.add_company_user(company_id, username, password_hash, [Role.USER])
        if user is None:  # the name is taken (or a concurrent registration of it won)
            raise ContractorUserExists(resource=username)
        await self.accounts.add_verifier(
            ContractorVerifier(user_id=user.id, sealed=self._seal(user, verifier), edited_at=self.clock.now())
        )
        return user

    # --- sign-in -----------------------------------------------------------------------------------------
    async def sign_in(
        self, username: str, salt_b64: str, hashed_b64: str, *, client_ip: str | None = None
    ) -> IssuedPair:
        """Salted-hash sign-in. A slot of the username's and of the client address's throttle is reserved before
        the check (a failure keeps both, success gives them back), so a burst gets at most the limits' number of
        checks; known and unknown names take the same path."""
        salt = _b64(salt_b64, "salt")
        hashed = _b64(hashed_b64, "hashedPassword")
        if not SALT_MIN_BYTES <= len(salt) <= SALT_MAX_BYTES:
            raise ContractorUserInvalid(
                f"salt must be {SALT_MIN_BYTES}..{SALT_MAX_BYTES} bytes",
                issues=[FieldIssue("salt", f"{SALT_MIN_BYTES}..{SALT_MAX_BYTES} bytes, base64")],
            )
        throttle_key = username[:256]
        ip_key = client_ip or "unknown"
        if not await reserve_attempt(self.throttle, throttle_key, self.ip_throttle, ip_key):
            raise SignInThrottled(retry_after=self.throttle.window_seconds)
        try:
            candidate = await self._candidate(username)
            ok = self._check(candidate, salt, hashed)
        except BaseException:  # no verdict: no failure either
            await give_back_attempt(self.throttle, throttle_key, self.ip_throttle, ip_key)
            raise
        if candidate is None or not ok:
            raise SignInFailed()
        await self.throttle.reset(throttle_key)
        await self.ip_throttle.release(ip_key)
        if not candidate.user.enabled:
            raise SignInLocked()
        return await self._consume_salt(
            candidate.user.id, candidate.user.token_version, hashlib.sha256(salt).hexdigest()
        )

    def _check(self, candidate: _Candidate | None, salt: bytes, hashed: bytes) -> bool:
        """Whether ``hashed`` is the candidate's verifier salted with ``salt``; the same work for an unknown
        user (a dummy seal opened, a digest compared)."""
        sealed, bound, known = self._dummy_sealed, b"0", False
        if candidate is not None and candidate.sealed is not None:
            sealed, bound, known = candidate.sealed, _bound(candidate.user), True
        try:
            verifier = self._sealer.open(sealed, bound_to=bound)
        except SealBroken:
            verifier, known = b"\0" * 32, False
        return hmac.compare_digest(hashlib.sha256(verifier + salt).digest(), hashed) and known

    @read_only
    async def _candidate(self, username: str) -> _Candidate | None:
        found = await self.accounts.user_and_verifier(username)
        return None if found is None else _Candidate(*found)

    @transactional
    async def _consume_salt(self, user_id: int, version: int, salt_digest: str) -> IssuedPair:
        user = await self.accounts.user(user_id)
        if user is None or user.token_version != version:
            raise SignInFailed()
        if not user.enabled:
            raise SignInLocked()
        if await self.accounts.salt_used(user_id, salt_digest):
            raise SaltReused()
        try:
            await self.accounts.add_used_salt_guarded(
                UsedSalt(user_id=user_id, digest=salt_digest, used_at=self.clock.now())
            )
        except IntegrityError as exc:  # the same salt in a concurrent sign-in
            raise SaltReused() from exc
        return self._issue_pair(user, uuid.uuid4().hex)

    def _issue_pair(self, user: User, family: str) -> IssuedPair:
        now = self.clock.now()
        issue = functools.partial(
            self.tokens.issue, user_id=user.id, company=user.company.key, roles=user.roles, ver=user.token_version
        )
        access, _ = issue(typ=CredentialKind.ACCESS.value, now=now, ttl=self.access_ttl)
        service, claims = issue(typ=CredentialKind.SERVICE.value, now=now, ttl=self.service_ttl)
        self.accounts.add_service_token(
            ServiceToken(
                jti=claims.jti, user_id=user.id, family=family, spent=False, revoked=False, expires_at=claims.expires_at
            )
        )
        return IssuedPair(
            access=access,
            access_expires_in_ms=int(self.access_ttl.total_seconds() * 1000),
            service=service,
            service_expires_in_ms=int(self.service_ttl.total_seconds() * 1000),
        )

    # --- service-token rotation --------------------------------------------------------------------------
    def _service_claims(self, service_token: str) -> TokenClaims:
        try:
            claims = self.tokens.decode(service_token, now=self.clock.now())
        except TokenInvalid as exc:
            raise ServiceTokenInvalid() from exc
        if claims.typ != CredentialKind.SERVICE.value:
            raise ServiceTokenInvalid()
        return claims

    @read_only
    async def service_principal(self, service_token: str) -> Principal:
        """Who a service token belongs to (for metering and audit). Whether it is spent is the rotation's
        business: a spent token must reach it, to revoke its family."""
        claims = self._service_claims(service_token)
        user = await self.accounts.user(claims.user_id)
        if user is None or user.company.key != claims.company or user.token_version != claims.ver:
            raise ServiceTokenInvalid()
        if not user.enabled:
            raise SignInLocked()
        return principal_of(user, CredentialKind.SERVICE, claims.jti)

    async def rotate(self, service_token: str) -> IssuedPair:
        claims = self._service_claims(service_token)
        pair = await self._rotate(claims.jti, claims.user_id, claims.ver)
        if pair is None:
            raise ServiceTokenInvalid()
        return pair

    @transactional
    async def _rotate(self, jti: str, user_id: int, version: int) -> IssuedPair | None:
        """A new pair, or None (after revoking the family when a spent token came back: committed)."""
        family = await self.accounts.spend_service_token(jti, user_id)
        user = await self.accounts.user(user_id)
        if family is None:
            row = await self.accounts.service_token(jti)
            if row is not None and row.user_id == user_id:  # reuse of a spent/revoked token: theft suspected
                await self.accounts.revoke_family(row.family)
                if user is not None:
                    await self.users.revoke_tokens(user)
            return None
        if user is None or not user.enabled or user.token_version != version:
            return None
        return self._issue_pair(user, family)

    # --- management by the external system ---------------------------------------------------------------
    async def change_password(self, principal: Principal, user_id: int, new_password: str) -> None:
        viewer = require_external(principal)
        refused = self.users.password_issue(new_password)
        if refused:
            raise ContractorUserInvalid(f"newPassword: {refused}", issues=[FieldIssue("newPassword", refused)])
        await self._managed(viewer.company_id, user_id)  # 404 / 401 before the slow hash
        password_hash = await self.hasher.hash(new_password)
        await self._store_password(viewer.company_id, user_id, password_hash, _verifier(new_password))

    @read_only
    async def _managed(self, company_id: int, user_id: int) -> User:
        return await self._managed_user(company_id, user_id, allow_locked=False)

    async def _managed_user(self, company_id: int, user_id: int, *, allow_locked: bool) -> User:
        user = await self.accounts.company_user(company_id, user_id)
        if user is None or not set(user.roles) <= MANAGED_ROLES:
            raise ContractorUserNotFound(resource=str(user_id))
        if not allow_locked and not user.enabled:
            raise TargetUserLocked()
        return user

    @transactional
    async def _store_password(self, company_id: int, user_id: int, password_hash: str, verifier: bytes) -> None:
        user = await self._managed_user(company_id, user_id, allow_locked=False)
        now = self.clock.now()
        await self.users.replace_password_hash(user, password_hash)
        sealed = self._seal(user, verifier)
        row = await self.accounts.verifier(user.id)
        if row is None:
            await self.accounts.add_verifier(ContractorVerifier(user_id=user.id, sealed=sealed, edited_at=now))
        else:
            row.sealed = sealed
            row.edited_at = now

    @transactional
    async def set_locked(self, principal: Principal, user_id: int, locked: bool) -> None:
        """Lock (every token of the user dies at once) or unlock a contractor user of the caller's company."""
        viewer = require_external(principal)
        user = await self._managed_user(viewer.company_id, user_id, allow_locked=True)
        await self.users.set_user_enabled(user, not locked)

    def _seal(self, user: User, verifier: bytes) -> bytes:
        return self._sealer.seal(verifier, bound_to=_bound(user))


def _verifier(password: str) -> bytes:
    return hashlib.sha256(password.encode("utf-8")).digest()


def _bound(user: User) -> bytes:
    """What a sealed verifier belongs to: this user, with this password (its argon2 hash)."""
    return f"user:{user.id}:".encode() + hashlib.sha256((user.password_hash or "").encode()).digest()


def _b64(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ContractorUserInvalid(f"{name} is not base64", issues=[FieldIssue(name, "not base64")]) from exc
