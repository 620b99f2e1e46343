"""Identity use cases: sign in, resolve and validate tokens, change password, read and edit one's account,
create users. Each public method is one unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from cabinet.core import regional
from cabinet.core.clock import Clock
from cabinet.core.db.types import is_foreign_key_violation
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import FieldIssue
from cabinet.core.events import NO_EVENTS, Events
from cabinet.core.limits import AttemptThrottle, give_back_attempt, reserve_attempt
from cabinet.core.logging import get_logger
from cabinet.core.observability import LOGIN_FAILURES
from cabinet.core.principal import CredentialKind, Principal, principal_of
from cabinet.core.roles import MAX_ROLES_PER_USER, Role
from cabinet.core.security.passwords import PasswordHasher
from cabinet.core.security.tokens import TokenClaims, TokenCodec, TokenInvalid
from cabinet.core.stamps import ChangeStamps, LocalStamps
from cabinet.core.usernames import UsernameRefused, mixed_script, skeleton
from cabinet.domains.identity.accounts import AccountCache, AccountSnapshot
from cabinet.domains.identity.counters import CounterCache
from cabinet.domains.identity.errors import (
    AccessTokenExpired,
    AccessTokenInvalid,
    AccessTokenRevoked,
    AccountInactive,
    CompanyNotFound,
    CurrentPasswordWrong,
    InvalidCredentials,
    LoginThrottled,
    PasswordUnchanged,
    UserAlreadyExists,
    UserInvalid,
    UserNotFound,
)
from cabinet.domains.identity.events import company_event, user_event
from cabinet.domains.identity.repository import (
    CHANGED_USER_COMPANIES,
    CHANGED_USERS,
    CompanyRepository,
    EndedWebSessionRepository,
    UserRepository,
)
from cabinet.domains.identity.schemas import (
    COMPANY_KEY_RE,
    EMAIL_RE,
    PHONE_RE,
    UNSET,
    USERNAME_RE,
    AccountPatch,
    IssuedToken,
    UserCreate,
    password_issue,
)
from cabinet.models import Company, EndedWebSession, User

log = get_logger("cabinet.identity")

DEFAULT_TOKEN_TTL = timedelta(seconds=86_400)
MAX_ATTRIBUTES = 250


class IdentityService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        user_throttle: AttemptThrottle,
        ip_throttle: AttemptThrottle,
        max_token_ttl: timedelta,
        events: Events = NO_EVENTS,
        stamps: ChangeStamps | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.clock = clock
        self.hasher = hasher
        self.tokens = tokens
        self.user_throttle = user_throttle
        self.ip_throttle = ip_throttle
        self.max_token_ttl = max_token_ttl
        self.users = UserRepository()
        self.companies = CompanyRepository()
        self.ended_sessions = EndedWebSessionRepository()
        # accounts behind access tokens, per process, while their change stamps hold (accounts.py)
        stamps = stamps or LocalStamps()
        self.accounts = AccountCache(stamps)
        # the user lists' overall counters per company, per process, while their stamps hold (counters.py)
        self.user_counters = CounterCache(stamps)
        db.commit_observers.append(self._users_committed)

    async def _users_committed(self, info: dict[str, Any]) -> None:
        """After a commit: the users it changed and their companies get new change stamps (every process's cached
        accounts of them and counters of the companies' users are then read again). The commit stands whatever
        happens here."""
        # other processes keep what they cached at most accounts.TTL_SECONDS / counters.TTL_SECONDS longer
        for key, cache in ((CHANGED_USERS, self.accounts), (CHANGED_USER_COMPANIES, self.user_counters)):
            changed = info.get(key)
            if not changed:
                continue
            try:
                await cache.changed(changed)
            except Exception as exc:
                log.warning("could not stamp changes", changed=key, ids=sorted(changed)[:20], error=repr(exc))

    # --- sign-in -----------------------------------------------------------------------------------
    async def sign_in(self, username: str, password: str, *, client_ip: str | None, ttl: timedelta) -> IssuedToken:
        """Password sign-in (``authenticate``), then a token.

        The verify runs outside any transaction, so a storm of sign-ins holds no database connection."""
        user = await self.authenticate(username, password, client_ip=client_ip)
        return self._issue(user, ttl)

    async def start_web_session(
        self, username: str, password: str, *, client_ip: str | None, ttl: timedelta
    ) -> IssuedToken:
        """Password sign-in to the web pages: a token of the web's own type (the APIs refuse it, and signing out
        ends it: ``end_web_session``)."""
        user = await self.authenticate(username, password, client_ip=client_ip)
        return self._issue(user, ttl, CredentialKind.WEB)

    async def authenticate(self, username: str, password: str, *, client_ip: str | None) -> User:
        """The enabled user these credentials name, or InvalidCredentials / LoginThrottled / AccountInactive.

        A slot of the username's and of the client address's throttle is reserved before the password is
        checked (so a burst gets at most the limits' number of checks); a failure keeps both, a right password
        gives them back. Unknown users and wrong passwords cost one argon2 verify alike; a throttled caller
        costs none."""
        async with self.hasher.login():  # a login is not "other traffic" its own hash should yield to
            ip_key = client_ip or "unknown"
            if not await reserve_attempt(self.user_throttle, username, self.ip_throttle, ip_key):
                LOGIN_FAILURES.labels("throttled").inc()
                raise LoginThrottled(retry_after=self.user_throttle.window_seconds)
            try:
                user = await self._find_user(username)
                password_ok = await self.hasher.verify(user.password_hash if user else None, password)
            except BaseException:  # no verdict (the database failed, the caller went away): no failure either
                await give_back_attempt(self.user_throttle, username, self.ip_throttle, ip_key)
                raise
            if user is None or not password_ok:
                LOGIN_FAILURES.labels("invalid_credentials").inc()
                raise InvalidCredentials()
            await self.user_throttle.reset(username)
            await self.ip_throttle.release(ip_key)
            if not user.enabled:
                LOGIN_FAILURES.labels("account_inactive").inc()
                raise AccountInactive()
            if self.hasher.needs_rehash(user.password_hash or ""):
                rehashed = await self.hasher.hash(password)
                await self._store_password_hash(user.id, user.token_version, rehashed, bump=False)
            return user

    @read_only
    async def _find_user(self, username: str) -> User | None:
        return await self.users.get_by_username(username)

    @transactional
    async def _store_password_hash(self, user_id: int, expected_version: int, new_hash: str, *, bump: bool) -> User:
        """Store a hash computed outside the transaction, unless the user changed meanwhile (then: revoked)."""
        user = await self.users.get_by_id(user_id)
        if user is None or user.token_version != expected_version:
            raise AccessTokenRevoked()
        user.password_hash = new_hash
        if bump:
            user.token_version += 1
            user.edited_at = self.clock.now()
        return user

    def _issue(self, user: User, ttl: timedelta, kind: CredentialKind = CredentialKind.ACCESS) -> IssuedToken:
        ttl = min(ttl, self.max_token_ttl)
        token, claims = self.tokens.issue(
            user_id=user.id,
            company=user.company.key,
            roles=user.roles,
            typ=kind.value,
            ver=user.token_version,
            now=self.clock.now(),
            ttl=ttl,
        )
        return IssuedToken(token=token, expires_at=claims.expires_at)

    # --- tokens ------------------------------------------------------------------------------------
    async def resolve_access_token(self, token: str) -> Principal:
        """The principal behind a live access token, or an Access* error saying why not. An account this process
        resolved before comes from its cache while the account's change stamp holds (``accounts.py``): one stamp
        read instead of the row."""
        claims = self._claims(token, CredentialKind.ACCESS)
        try:
            stamp = await self.accounts.stamp(claims.user_id)
        except Exception as exc:  # no stamp to trust (Redis away): the row decides, nothing is cached
            log.warning("could not read a change stamp", user_id=claims.user_id, error=repr(exc))
            return await self._resolve_claims(claims, CredentialKind.ACCESS)
        cached = self.accounts.get(claims.user_id, stamp)
        if (
            cached is not None
            and cached.company.key == claims.company
            and cached.token_version == claims.ver
            and cached.enabled
        ):
            return principal_of(cached, CredentialKind.ACCESS, claims.jti, keep=True)
        principal = await self._resolve_claims(claims, CredentialKind.ACCESS)
        if isinstance(principal.account, User):  # a live token: its account is worth keeping
            self.accounts.put(stamp, AccountSnapshot.of(principal.account))
        return principal

    @read_only
    async def resolve_web_session(self, token: str) -> Principal:
        """The person behind a live web session token (not signed out of), or an Access* error saying why not."""
        principal = await self._resolve(token, CredentialKind.WEB)
        if principal.credential_id is not None and await self.ended_sessions.ended(principal.credential_id):
            raise AccessTokenRevoked()
        return principal

    async def _resolve(self, token: str, kind: CredentialKind) -> Principal:
        return await self._resolve_claims(self._claims(token, kind), kind)

    def _claims(self, token: str, kind: CredentialKind) -> TokenClaims:
        try:
            claims = self.tokens.decode(token, now=self.clock.now())
        except TokenInvalid as exc:
            raise (AccessTokenExpired() if exc.expired else AccessTokenInvalid()) from exc
        if claims.typ != kind.value:
            raise AccessTokenInvalid()
        return claims

    @read_only
    async def _resolve_claims(self, claims: TokenClaims, kind: CredentialKind) -> Principal:
        user = await self.users.get_by_id(claims.user_id)
        if user is None or user.company.key != claims.company:
            raise AccessTokenInvalid()
        if claims.ver != user.token_version:
            raise AccessTokenRevoked()
        if not user.enabled:
            raise AccountInactive()
        return principal_of(user, kind, claims.jti, keep=True)

    @transactional
    async def end_web_session(self, token: str) -> None:
        """Sign out: the web session token is refused from now on (its jti is kept until it would have expired;
        expired ones are pruned here). A token that is already dead, or of another type, has nothing to end."""
        now = self.clock.now()
        try:
            claims = self.tokens.decode(token, now=now)
        except TokenInvalid:
            return
        if claims.typ != CredentialKind.WEB.value:
            return
        await self.ended_sessions.prune(before=now)
        if await self.ended_sessions.ended(claims.jti):
            return
        try:  # a concurrent sign-out of the same session, or its user deleted, is no error
            await self.ended_sessions.add_guarded(
                EndedWebSession(jti=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at)
            )
        except IntegrityError:
            return

    async def validate_token(self, token: str) -> tuple[bool, tuple[Role, ...]]:
        """(valid, roles): a dead token of any kind is simply not valid."""
        try:
            principal = await self.resolve_access_token(token)
        except (AccessTokenInvalid, AccessTokenExpired, AccessTokenRevoked, AccountInactive):
            return False, ()
        return True, principal.roles

    # --- own account -------------------------------------------------------------------------------
    async def change_password(self, principal: Principal, current: str, new: str) -> IssuedToken:
        """Check the current password, store the new one, kill every older token, issue a new one of the kind
        the caller used."""
        user = await self.get_account(principal)
        if not await self.hasher.verify(user.password_hash, current):
            raise CurrentPasswordWrong()
        if current == new:
            raise PasswordUnchanged()
        _check_password(new)
        new_hash = await self.hasher.hash(new)
        user = await self._store_password_hash(user.id, user.token_version, new_hash, bump=True)
        # the new token replaces the one used here: a web session stays a web session
        kind = CredentialKind.WEB if principal.credential is CredentialKind.WEB else CredentialKind.ACCESS
        return self._issue(user, DEFAULT_TOKEN_TTL, kind)

    async def account_view(self, principal: Principal) -> User | AccountSnapshot:
        """The caller's own account to show: the snapshot its access token was resolved with (as current as the
        token check itself), else ``get_account``."""
        if isinstance(principal.account, AccountSnapshot) and principal.account.id == principal.user_id:
            return principal.account
        return await self.get_account(principal)

    async def get_account(self, principal: Principal) -> User:
        """The caller's own account (the row its credential was resolved with, if this request loaded it)."""
        account = principal.account
        if isinstance(account, User) and account.id == principal.user_id:
            return account
        return await self._load_own_user(principal)

    @read_only
    async def _load_own_user(self, principal: Principal) -> User:
        return await self._own_user(principal)

    @transactional
    async def update_account(self, principal: Principal, patch: AccountPatch) -> User:
        user = await self._own_user(principal)
        for name in ("specification", "email", "phone"):
            value = getattr(patch, name)
            if value is not UNSET:
                setattr(user, name, value)
        if patch.attributes is not UNSET:
            user.attributes = _checked_attributes(patch.attributes or [])
        if patch.zone is not UNSET:
            set_zone(user, patch.zone)
        if patch.locale is not UNSET:
            issue = None if patch.locale is None else regional.locale_issue(patch.locale)
            if issue:
                raise UserInvalid(issues=[FieldIssue("locale", issue)])
            user.locale = patch.locale
        user.edited_at = self.clock.now()
        return user

    @read_only
    async def company_owners(self, company_id: int) -> list[User]:
        """The company's enabled COMPANYOWNER users (told when something of the company needs them)."""
        holders = await self.users.holders_of(company_id, Role.COMPANYOWNER.value)
        return [u for u in holders if Role.COMPANYOWNER.value in u.roles]

    @read_only
    async def get_account_by_id(self, user_id: int) -> User:
        user = await self.users.get_by_id(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def _own_user(self, principal: Principal) -> User:
        user = await self.users.get_in_company(principal.user_id, principal.company_id)
        if user is None:
            raise UserNotFound()
        return user

    # --- operators -----------------------------------------------------------------------------------
    async def create_user(self, command: UserCreate) -> User:
        issues = _check_user(command)
        if issues:
            raise UserInvalid("; ".join(i.message for i in issues), issues=issues)
        if mixed_script(command.username):
            raise UsernameRefused.mixed()
        password_hash = await self.hasher.hash(command.password) if command.password else None
        return await self._insert_user(command, password_hash)

    @transactional
    async def _insert_user(self, command: UserCreate, password_hash: str | None) -> User:
        company = await self.companies.get_by_key(command.company_key)
        now = self.clock.now()
        if company is None:
            if not command.create_company:
                raise CompanyNotFound(resource=command.company_key)
            company = await self._add_company(command.company_key, now)
        if await self.users.get_by_username(command.username) is not None:
            raise UserAlreadyExists(resource=command.username)
        shape = await self._unconfusable(command.username)
        user = User(
            username=command.username,
            username_skeleton=shape,
            company_id=company.id,
            password_hash=password_hash,
            enabled=command.enabled,
            roles=[Role(r).value for r in command.roles],
            specification=command.specification,
            email=command.email,
            phone=command.phone,
            timezone=command.timezone,
            attributes=_checked_attributes(command.attributes),
            token_version=1,
            created_at=now,
            edited_at=now,
        )
        try:
            await self.users.add(user)
        except IntegrityError as exc:
            if is_foreign_key_violation(exc):  # its company was deleted by a concurrent request
                raise CompanyNotFound(resource=command.company_key) from exc
            raise UserAlreadyExists(resource=command.username) from exc  # a concurrent create won the race
        user.company = company
        if command.zone is not None:
            set_zone(user, command.zone)
        await user_event(self.events, "created", user, company)
        return user

    async def _unconfusable(self, username: str) -> str:
        """The name's skeleton, or UsernameRefused when another user's name looks the same (usernames are
        global: a look-alike in any company would do)."""
        shape = skeleton(username)
        if await self.users.confusable_name(shape, username) is not None:
            raise UsernameRefused.confusable()
        return shape

    async def _add_company(self, key: str, now: datetime) -> Company:
        """Create a company; if a concurrent request created it first, use that one."""
        try:
            added = await self.companies.add_guarded(Company(key=key, detail=None, created_at=now, edited_at=now))
        except IntegrityError:
            company = await self.companies.get_by_key(key)
            if company is None:
                raise
            return company
        await company_event(self.events, "created", added)
        return added

    # --- user writes other domains ask for (identity alone writes users; each joins the caller's unit of work) --
    def password_issue(self, password: str) -> str | None:
        """The one password policy (``schemas.password_issue``), for domains that take a password in."""
        return password_issue(password)

    @transactional
    async def add_company_user(
        self, company_id: int, username: str, password_hash: str, roles: Sequence[Role]
    ) -> User | None:
        """A new enabled user of an existing company, its password already hashed; None when the name is taken
        (also by a concurrent registration)."""
        if await self.users.get_by_username(username) is not None:
            return None
        if mixed_script(username):
            raise UsernameRefused.mixed()
        shape = await self._unconfusable(username)
        now = self.clock.now()
        user = User(
            username=username,
            username_skeleton=shape,
            company_id=company_id,
            password_hash=password_hash,
            enabled=True,
            roles=[Role(r).value for r in roles],
            timezone=0,
            attributes=[],
            token_version=1,
            created_at=now,
            edited_at=now,
        )
        try:
            await self.users.add_guarded(user)
        except IntegrityError:
            return None
        return user

    @transactional
    async def replace_password_hash(self, user: User, password_hash: str) -> None:
        """A new password (hashed by the caller): every token issued before dies."""
        user.password_hash = password_hash
        self._revoke(user)

    @transactional
    async def revoke_tokens(self, user: User) -> None:
        """Every token issued to ``user`` so far dies (its token version moves on)."""
        self._revoke(user)

    @transactional
    async def set_user_enabled(self, user: User, enabled: bool) -> None:
        """Enable or disable ``user``; disabling (and enabling) kills every token issued before."""
        if user.enabled != enabled:
            user.enabled = enabled
            self._revoke(user)

    def _revoke(self, user: User) -> None:
        user.token_version += 1
        user.edited_at = self.clock.now()

    @transactional
    async def set_enabled(self, username: str, enabled: bool) -> User:
        """Enable or disable a user; disabling kills every token issued before."""
        user = await self.users.get_by_username(username)
        if user is None:
            raise UserNotFound(resource=username)
        if user.enabled != enabled:
            user.enabled = enabled
            user.token_version += 1
            user.edited_at = self.clock.now()
        return user


def _check_password(password: str) -> None:
    issue = password_issue(password)
    if issue:
        raise UserInvalid(issue, issues=[FieldIssue("password", issue)])


def _check_user(command: UserCreate) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if not USERNAME_RE.fullmatch(command.username):
        issues.append(FieldIssue("username", "username must be 2..256 word characters (letters, digits, _)"))
    if not COMPANY_KEY_RE.fullmatch(command.company_key):
        issues.append(FieldIssue("company_key", "company key must be 3..256 word characters (letters, digits, _)"))
    password = password_issue(command.password) if command.password is not None else None
    if password:
        issues.append(FieldIssue("password", password))
    if len(command.roles) > MAX_ROLES_PER_USER or len(set(command.roles)) != len(command.roles):
        issues.append(FieldIssue("roles", f"at most {MAX_ROLES_PER_USER} distinct roles"))
    if not -12 <= command.timezone <= 12:
        issues.append(FieldIssue("timezone", "timezone must be -12..12"))
    zone_issue = regional.zone_issue(command.zone) if command.zone is not None else None
    if zone_issue:
        issues.append(FieldIssue("zone", zone_issue))
    issues.extend(contact_issues(command.specification, command.email, command.phone))
    return issues


def contact_issues(specification: object, email: object, phone: object) -> list[FieldIssue]:
    """Name, e-mail and phone rules shared by every way a user is created or changed."""
    issues: list[FieldIssue] = []
    if isinstance(specification, str) and not 2 <= len(specification) <= 256:
        issues.append(FieldIssue("name", "name must be 2..256 characters"))
    if isinstance(email, str) and not (5 <= len(email) <= 256 and EMAIL_RE.fullmatch(email)):
        issues.append(FieldIssue("email", "not a valid e-mail address"))
    if isinstance(phone, str) and not (5 <= len(phone) <= 32 and PHONE_RE.fullmatch(phone)):
        issues.append(FieldIssue("phone", "not a valid phone number: +, then 7..16 digits"))
    return issues


def _checked_attributes(attributes: list[dict[str, object]]) -> list[dict[str, object]]:
    if len(attributes) > MAX_ATTRIBUTES:
        raise UserInvalid(f"at most {MAX_ATTRIBUTES} attributes", issues=[FieldIssue("attributes", "too many")])
    keys = [a["key"] for a in attributes]
    if len(set(keys)) != len(keys):
        raise UserInvalid(
            "attribute keys must be unique", issues=[FieldIssue("attributes", "attribute keys must be unique")]
        )
    return [dict(a) for a in attributes]


def set_zone(user: User, zone: str | None) -> None:
    """The person's IANA time zone (None: the company's), and the seeds' integer ``timezone`` in step with it."""
    if zone is not None:
        issue = regional.zone_issue(zone)
        if issue:
            raise UserInvalid(issues=[FieldIssue("zone", issue)])
    user.zone = zone
    followed = zone or user.company.zone
    if followed:
        user.timezone = regional.offset_hours(followed)


def set_offset(user: User, hours: int) -> None:
    """The seeds' integer ``timezone`` given by an API: a zone of another offset gives way to that fixed offset."""
    user.timezone = hours
    followed = user.zone or user.company.zone
    if followed and regional.offset_hours(followed) != hours:
        user.zone = regional.zone_of_offset(hours)
