"""Operators' use cases over companies and users (the Admin API), with the fine rules of policies.py."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from cabinet.core import regional
from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import FieldIssue
from cabinet.core.events import NO_EVENTS, Events
from cabinet.core.metering import note_target
from cabinet.core.principal import Principal
from cabinet.core.query import Query
from cabinet.core.roles import Permission, Role
from cabinet.core.security.passwords import PasswordHasher
from cabinet.domains.identity import policies
from cabinet.domains.identity.errors import (
    ClientAccessDenied,
    CompanyAlreadyExists,
    CompanyManagementDenied,
    CompanyNotEmpty,
    CompanyNotFound,
    RoleNotGrantable,
    SelfLockout,
    UserInUse,
    UserInvalid,
    UserNotFound,
)
from cabinet.domains.identity.events import company_event, user_event
from cabinet.domains.identity.repository import CompanyRepository, DirectoryRepository, UserRepository
from cabinet.domains.identity.schemas import (
    COMPANY_KEY_RE,
    UNSET,
    ListQuery,
    Regional,
    UserCounters,
    UserCreate,
    UserGroup,
    UserUpdate,
    password_issue,
)
from cabinet.domains.identity.service import IdentityService, contact_issues, set_offset, set_zone
from cabinet.models import Company, User

DETAIL_MAX = 1024


class DirectoryService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        hasher: PasswordHasher,
        identity: IdentityService,
        defaults: Regional | None = None,
        events: Events = NO_EVENTS,
    ) -> None:
        self.db = db
        self.events = events
        # a new company's time zone, language and currency unless its creator names them (CABINET_DEFAULT_*)
        self.defaults = defaults or Regional(zone="Europe/Moscow", locale="ru", currency="RUB")
        self.clock = clock
        self.hasher = hasher
        self.identity = identity
        self.companies = CompanyRepository()
        self.users = UserRepository()
        self.directory = DirectoryRepository()

    # --- companies ------------------------------------------------------------------------------------
    @transactional
    async def create_company(
        self, principal: Principal, key: str, detail: str | None, settings: Regional | None = None
    ) -> Company:
        if not policies.may_manage_companies(principal):
            raise CompanyManagementDenied()
        note_target("company", key)
        _check_company(key, detail)
        wanted = settings or Regional()
        _check_regional(wanted)
        if await self.companies.get_by_key(key) is not None:
            raise CompanyAlreadyExists(resource=key)
        now = self.clock.now()
        company = Company(key=key, detail=detail, created_at=now, edited_at=now)
        for name in ("zone", "locale", "currency"):
            value = getattr(wanted, name)
            setattr(company, name, getattr(self.defaults, name) if value is UNSET else value)
        try:
            added = await self.companies.add_guarded(company)
        except IntegrityError as exc:
            raise CompanyAlreadyExists(resource=key) from exc
        await company_event(self.events, "created", added)
        return added

    @transactional
    async def update_company(
        self, principal: Principal, key: str, detail: str | None, settings: Regional | None = None
    ) -> Company:
        company = await self._company(principal, key, write=True)
        if not policies.may_manage_companies(principal):
            raise CompanyManagementDenied()
        _check_company(key, detail)
        wanted = settings or Regional()
        _check_regional(wanted)
        company.detail = detail
        for name in ("zone", "locale", "currency"):
            value = getattr(wanted, name)
            if value is not UNSET:
                setattr(company, name, value)
        company.edited_at = self.clock.now()
        try:
            await self.directory.save()
        except StaleDataError as exc:  # deleted by a concurrent request
            raise CompanyNotFound(resource=key) from exc
        await company_event(self.events, "updated", company)
        return company

    @read_only
    async def list_companies(self, principal: Principal, query: ListQuery) -> tuple[Sequence[Company], int, int]:
        return await self.directory.companies(query, policies.read_scope(principal))

    @read_only
    async def search_companies(self, principal: Principal, query: Query) -> tuple[list[Company], int]:
        """Companies in the caller's read scope matching a Data API query (filtered and paged in SQL)."""
        return await self.directory.search_companies(query, policies.read_scope(principal))

    @read_only
    async def company_by_id(self, principal: Principal, company_id: int, *, write: bool) -> Company:
        """A company the caller may read (or change), else CompanyNotFound."""
        company = await self.companies.get_by_id(company_id)
        if company is None or not policies.in_scope(principal, company.id, write=write):
            raise CompanyNotFound(resource=str(company_id))
        return company

    @read_only
    async def get_company(self, principal: Principal, key: str) -> Company:
        return await self._company(principal, key, write=False)

    @transactional
    async def delete_company(self, principal: Principal, key: str) -> None:
        company = await self._company(principal, key, write=True)
        if not policies.may_manage_companies(principal):
            raise CompanyManagementDenied()
        users = await self.directory.users_in_company(company.id)
        if users:
            raise CompanyNotEmpty(f"the company still has {users} user(s): delete or move them first")
        await company_event(self.events, "deleted", company)  # before its endpoints go with it (nobody to tell after)
        try:
            await self.directory.delete(company)
        except IntegrityError as exc:  # a concurrent request added or moved a user into it
            raise CompanyNotEmpty() from exc

    async def _company(self, principal: Principal, key: str, *, write: bool) -> Company:
        company = await self.companies.get_by_key(key)
        if company is None or not policies.in_scope(principal, company.id, write=write):
            raise CompanyNotFound(resource=key)
        return company

    # --- users ----------------------------------------------------------------------------------------
    async def create_user(self, principal: Principal, command: UserCreate) -> User:
        note_target("user", command.username)
        await self._check_target_company(principal, command.company_key)
        refused = policies.roles_not_grantable(principal, command.roles)
        if refused:
            raise RoleNotGrantable(f"you may not give the role(s) {', '.join(refused)}")
        command.create_company = False
        return await self.identity.create_user(command)

    async def update_user(self, principal: Principal, change: UserUpdate) -> User:
        if change.password is not UNSET and change.password is not None:
            issue = password_issue(change.password)
            if issue:
                raise UserInvalid(issue, issues=[FieldIssue("password", issue)])
            password_hash = await self.hasher.hash(change.password)
        else:
            password_hash = None
        return await self._apply_update(principal, change, password_hash)

    @transactional
    async def _apply_update(self, principal: Principal, change: UserUpdate, password_hash: str | None) -> User:
        user = await self._user(principal, change.username, write=True)
        # as for delete: whoever may not give a role may not change its holder (no takeover of a stronger user)
        if policies.roles_not_grantable(principal, [Role(r) for r in user.roles]):
            raise RoleNotGrantable("you may not change a user holding a role you may not give")
        kills_tokens = password_hash is not None
        if change.company_key is not UNSET and change.company_key != user.company.key:
            company = await self._check_target_company(principal, change.company_key)
            user.company_id = company.id
            user.company = company
            kills_tokens = True
        if change.roles is not UNSET:
            roles = [Role(r) for r in change.roles]
            added = set(roles) - {Role(r) for r in user.roles}
            refused = policies.roles_not_grantable(principal, added)
            if refused:
                raise RoleNotGrantable(f"you may not give the role(s) {', '.join(refused)}")
            if len(roles) > 2 or len(set(roles)) != len(roles):
                raise UserInvalid(issues=[FieldIssue("roles", "at most 2 distinct roles")])
            if set(roles) != {Role(r) for r in user.roles}:  # what a token may do changed: its tokens end
                kills_tokens = True
            user.roles = [r.value for r in roles]
        switched = None
        if change.enabled is not UNSET and change.enabled != user.enabled:
            if not change.enabled and user.id == principal.user_id:
                raise SelfLockout()
            user.enabled = change.enabled
            kills_tokens = True
            switched = "unlocked" if change.enabled else "locked"
        if change.timezone is not UNSET:
            if not -12 <= change.timezone <= 12:
                raise UserInvalid(issues=[FieldIssue("timezone", "must be -12..12")])
            set_offset(user, change.timezone)
        if change.zone is not UNSET:
            set_zone(user, change.zone)
        contacts = {n: getattr(change, n) for n in ("specification", "email", "phone")}
        issues = contact_issues(*(v if v is not UNSET else None for v in contacts.values()))
        if issues:
            raise UserInvalid("; ".join(i.message for i in issues), issues=issues)
        for name, value in contacts.items():
            if value is not UNSET:
                setattr(user, name, value)
        if password_hash is not None:
            user.password_hash = password_hash
        if kills_tokens:
            user.token_version += 1
        user.edited_at = self.clock.now()
        try:
            await self.directory.save()
        except StaleDataError as exc:  # deleted by a concurrent request
            raise UserNotFound(resource=change.username) from exc
        except IntegrityError as exc:  # its new company was deleted by a concurrent request
            moved_to = change.company_key if change.company_key is not UNSET else None
            raise CompanyNotFound(resource=moved_to) from exc
        await user_event(self.events, "updated", user, user.company)
        if switched is not None:
            await user_event(self.events, switched, user, user.company)
        return user

    @read_only
    async def list_users(
        self, principal: Principal, query: ListQuery
    ) -> tuple[Sequence[User], UserCounters, UserCounters]:
        """A page of users, the counters of the scope's users and those of the users the query lists (both from
        the process's cache while no user of the scope changed, ``counters.py``)."""
        scope = policies.read_scope(principal)
        cache = self.identity.user_counters
        stamp = await cache.stamp(scope)  # before the count: a change committed after it gives a new stamp
        overall = cache.get(scope, stamp)
        if overall is None:
            overall = await self.directory.user_counters(scope)
            cache.put(scope, stamp, overall)
        unfiltered = not (query.text or query.company_key) and query.user_group == UserGroup.TOTAL
        matches = (query.company_key, query.text, query.user_group)
        known = overall if unfiltered else cache.get(scope, stamp, matches)
        rows, listed = await self.directory.users(query, scope, overall.total, known)
        if known is None:
            cache.put(scope, stamp, listed, matches)
        return rows, overall, listed

    @read_only
    async def get_user(self, principal: Principal, username: str) -> User:
        return await self._user(principal, username, write=False)

    @transactional
    async def delete_user(self, principal: Principal, username: str) -> None:
        user = await self._user(principal, username, write=True)
        if user.id == principal.user_id:
            raise SelfLockout()
        if policies.roles_not_grantable(principal, [Role(r) for r in user.roles]):
            raise RoleNotGrantable("you may not delete a user holding a platform role")
        await user_event(self.events, "deleted", user, user.company)
        try:
            await self.directory.delete(user)
        except IntegrityError as exc:  # calls it owns keep their owner (history): refused, not a 500
            raise UserInUse(resource=username) from exc

    @read_only
    async def search_users(self, principal: Principal, query: Query) -> tuple[list[User], int]:
        """Users in the caller's read scope matching a Data API query (filtered and paged in SQL)."""
        return await self.directory.search_users(query, policies.read_scope(principal))

    @read_only
    async def search_customer_users(self, principal: Principal, query: Query) -> tuple[list[User], int]:
        """An agent's client users (their ids are the Data API's ``user_id``), or ClientAccessDenied."""
        if not principal.can(Permission.DATA_ACT_FOR_CLIENT):
            raise ClientAccessDenied()
        return await self.directory.search_client_users(query, principal.company_id)

    @read_only
    async def user_by_id(self, principal: Principal, user_id: int, *, write: bool) -> User:
        """A user the caller may read (or change), by id, else UserNotFound."""
        user = await self.users.get_by_id(user_id)
        if user is None or not policies.in_scope(principal, user.company_id, write=write):
            raise UserNotFound(resource=str(user_id))
        return user

    @read_only
    async def find_user(self, principal: Principal, username: str, *, write: bool) -> User:
        """A user the caller may read (or change), else UserNotFound."""
        return await self._user(principal, username, write=write)

    async def _user(self, principal: Principal, username: str, *, write: bool) -> User:
        user = await self.users.get_by_username(username)
        if user is None or not policies.in_scope(principal, user.company_id, write=write):
            raise UserNotFound(resource=username)
        return user

    @read_only
    async def _check_target_company(self, principal: Principal, key: str) -> Company:
        company = await self.companies.get_by_key(key)
        scope = policies.write_scope(principal)
        if company is None or (scope is not None and company.id != scope):
            raise CompanyNotFound(resource=key)
        return company


def _check_company(key: str, detail: str | None) -> None:
    issues = []
    if not COMPANY_KEY_RE.fullmatch(key):
        issues.append(FieldIssue("key", "company key must be 3..256 word characters (letters, digits, _)"))
    if detail is not None and len(detail) > DETAIL_MAX:
        issues.append(FieldIssue("detail", f"at most {DETAIL_MAX} characters"))
    if issues:
        raise UserInvalid("; ".join(i.message for i in issues), issues=issues)


def _check_regional(wanted: Regional) -> None:
    checks = (
        ("timezone", wanted.zone, regional.zone_issue),
        ("locale", wanted.locale, regional.locale_issue),
        ("currency", wanted.currency, regional.currency_issue),
    )
    issues = [
        FieldIssue(name, issue)
        for name, value, check in checks
        if value is not UNSET and (issue := ("must not be null" if value is None else check(value)))
    ]
    if issues:
        raise UserInvalid("; ".join(f"{i.entity}: {i.message}" for i in issues), issues=issues)
