"""Credentials use cases: API keys (issue, list, block, unblock, delete, authenticate) and company IP
allow-lists (list, allow, deny, replace, check). Each public method is one unit of work.

Who may do what (the coarse role checks are in the APIs; these are the fine rules):
ADMIN and OVERLORD manage every company's keys and networks, SUPPORT reads them all, a COMPANYOWNER reads and
manages only its own company's; another company's users, keys and companies are *not found* for a confined
caller. Nobody but a platform operator manages the keys of a user holding a platform role (an owner must not
mint an ADMIN's credential), and only an OVERLORD those of an OVERLORD. The command line acts as the platform
operator (``PLATFORM_OPERATOR``).

Keys are ``<prefix>.<secret>``; the database keeps only ``HMAC-SHA256(k, secret)``, where ``k`` is derived from
the server secret for this one purpose, and finds the row by its public prefix. Secrets are compared in
constant time. ``last_used_at`` (and the address it was used from) is written at most once a minute per key.

Life cycle: ``max_days`` (CABINET_API_KEY_MAX_DAYS) caps a new key's lifetime; a rotation issues a successor and
leaves the old key working for a grace period; revoking all of a user's keys blocks every one of them at once,
grace periods included.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cabinet.core.cache import ExpiringCache
from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, after_commit, read_only, transactional
from cabinet.core.errors import FieldIssue
from cabinet.core.logging import get_logger
from cabinet.core.principal import Principal
from cabinet.core.query import Query
from cabinet.core.roles import Permission, Role
from cabinet.core.stamps import ChangeStamps, LocalStamps
from cabinet.domains.credentials.errors import (
    ApiKeyAlreadyRotated,
    ApiKeyBlocked,
    ApiKeyExpired,
    ApiKeyInvalid,
    ApiKeyLimitReached,
    ApiKeyNotFound,
    ApiKeyOwnerInactive,
    ApiKeyRequestInvalid,
    CredentialsManagementDenied,
    KeyOwnerNotFound,
    NetworkCompanyNotFound,
    NetworkInvalid,
    NetworkLimitReached,
)
from cabinet.domains.credentials.key_cache import CachedKey, KeyCache
from cabinet.domains.credentials.repository import CHANGED_KEYS, ApiKeyRepository, NetworkRepository
from cabinet.domains.credentials.schemas import (
    ADDRESS_MAX_LENGTH,
    CACHE_MAX_ENTRIES,
    CIDR_MAX_LENGTH,
    KEY_LABEL,
    KEYS_PER_USER_MAX,
    LAST_USED_RESOLUTION,
    NAME_MAX,
    NETWORK_CACHE_SECONDS,
    NETWORKS_PER_COMPANY_MAX,
    PREFIX_BYTES,
    ROTATION_GRACE_HOURS_MAX,
    SECRET_BYTES,
    Caller,
    IssuedKey,
    KeyRequest,
    PlatformOperator,
    RotatedKey,
    split_key,
)
from cabinet.models import ApiKey, Company, CompanyNetwork, User

log = get_logger("cabinet.credentials")

HASH_KEY_LABEL = b"cabinet/api-key-secret/v1"
PLATFORM_ROLES = frozenset({Role.ADMIN, Role.OVERLORD, Role.SUPPORT})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class OwnedKey:
    row: ApiKey
    username: str


class CredentialService:
    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        secret: bytes,
        max_days: int | None = None,
        stamps: ChangeStamps | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.max_days = max_days
        self._hash_key = hmac.new(secret, HASH_KEY_LABEL, hashlib.sha256).digest()
        self._dummy_hash = self._digest("-" * 43)
        self.keys = ApiKeyRepository()
        self.networks = NetworkRepository()
        self._last_touch: dict[int, datetime] = {}
        self._network_cache: ExpiringCache[int, tuple[Network, ...]] = ExpiringCache(
            NETWORK_CACHE_SECONDS, CACHE_MAX_ENTRIES
        )
        # keys behind requests, per process, while their and their owners' change stamps hold (key_cache.py)
        self.key_cache = KeyCache(stamps or LocalStamps())
        db.commit_observers.append(self._keys_committed)

    async def _keys_committed(self, info: dict[str, Any]) -> None:
        """After a commit: the keys it changed get new change stamps. The commit stands whatever happens here."""
        changed = info.get(CHANGED_KEYS)
        if not changed:
            return
        try:
            await self.key_cache.changed(changed)
        except Exception as exc:  # other processes keep their entry at most key_cache.TTL_SECONDS longer
            log.warning("could not stamp changed API keys", error=repr(exc))

    # --- keys: management -----------------------------------------------------------------------------
    @transactional
    async def issue_key(self, caller: Caller, username: str, request: KeyRequest) -> IssuedKey:
        """A new key for ``username``; the returned ``key`` is its only appearance in clear."""
        owner = await self._owner(caller, username, write=True)
        _guard_owner(caller, owner)
        now = self.clock.now()
        name, expires_at = _checked_request(request, now)
        return await self._issue(owner, name, self._capped(expires_at, now), now)

    async def _issue(self, owner: User, name: str | None, expires_at: datetime | None, now: datetime) -> IssuedKey:
        if await self.keys.count_for_user(owner.id) >= KEYS_PER_USER_MAX:
            raise ApiKeyLimitReached(f"a user may hold at most {KEYS_PER_USER_MAX} API keys: delete one first")
        prefix = await self._fresh_prefix()
        secret = secrets.token_urlsafe(SECRET_BYTES)
        row = ApiKey(
            user_id=owner.id,
            company_id=owner.company_id,
            prefix=prefix,
            secret_hash=self._digest(secret),
            name=name,
            expires_at=expires_at,
            blocked=False,
            created_at=now,
            last_used_at=None,
        )
        await self.keys.add(row)
        return IssuedKey(row=row, username=owner.username, key=f"{prefix}_{secret}")

    def _capped(self, expires_at: datetime | None, now: datetime) -> datetime | None:
        """A new key's end, capped at ``max_days`` from now when the deployment sets it (permanent: the cap)."""
        if self.max_days is None:
            return expires_at
        cap = now + timedelta(days=self.max_days)
        return cap if expires_at is None or expires_at > cap else expires_at

    @transactional
    async def rotate_key(self, caller: Caller, key_id: int, grace_hours: int) -> RotatedKey:
        """A successor of a key (same owner and name; a temporary key gets its lifetime again, from now); the
        old key keeps working for ``grace_hours`` (never longer than it would have anyway)."""
        _check_grace(grace_hours)
        key, owner = await self._key(caller, key_id, write=True, lock=True)
        _guard_owner(caller, owner)
        return await self._rotate(key, owner, grace_hours)

    @transactional
    async def rotate_own_key(self, principal: Principal, key_id: int, grace_hours: int) -> RotatedKey:
        """``rotate_key`` for one of the caller's own keys (anyone may replace what acts as them); another's
        key is not found."""
        _check_grace(grace_hours)
        found = await self.keys.by_id(key_id, lock=True)
        if found is None or found[1].id != principal.user_id:
            raise ApiKeyNotFound(resource=str(key_id))
        return await self._rotate(*found, grace_hours)

    @transactional
    async def revoke_own_keys(self, principal: Principal) -> int:
        """``revoke_all`` for the caller's own keys."""
        return await self._revoke(principal.user_id)

    async def _rotate(self, key: ApiKey, owner: User, grace_hours: int) -> RotatedKey:
        if key.replaced_by_id is not None:
            raise ApiKeyAlreadyRotated(resource=str(key.id))
        now = self.clock.now()
        lifetime = None if key.expires_at is None else now + (key.expires_at - key.created_at)
        issued = await self._issue(owner, key.name, self._capped(lifetime, now), now)
        key.replaced_by_id = issued.row.id
        until = now + timedelta(hours=grace_hours)
        if key.expires_at is None or key.expires_at > until:
            key.expires_at = until
        return RotatedKey(issued=issued, old_key_valid_until=key.expires_at)

    @transactional
    async def revoke_all(self, caller: Caller, username: str) -> int:
        """Block every key of the user (those in a rotation's grace period too); how many were still usable."""
        owner = await self._owner(caller, username, write=True)
        _guard_owner(caller, owner)
        return await self._revoke(owner.id)

    async def _revoke(self, user_id: int) -> int:
        now = self.clock.now()
        revoked = 0
        for key in await self.keys.for_user(user_id, lock=True):
            if not key.blocked and (key.expires_at is None or key.expires_at > now):
                revoked += 1
            key.blocked = True
        return revoked

    @read_only
    async def list_keys(self, caller: Caller, username: str) -> Sequence[ApiKey]:
        """The user's keys (metadata only: the secrets are not kept)."""
        owner = await self._owner(caller, username, write=False)
        return await self.keys.for_user(owner.id)

    @read_only
    async def own_keys(self, principal: Principal) -> Sequence[ApiKey]:
        """The caller's own keys (metadata only): anyone may see what can act as them."""
        return await self.keys.for_user(principal.user_id)

    @read_only
    async def search_keys(self, caller: Caller, query: Query) -> tuple[list[OwnedKey], int]:
        """Keys (metadata only) in the caller's read scope matching a Data API query, filtered in SQL."""
        rows, total = await self.keys.search(query, _scope(caller, write=False))
        return [OwnedKey(key, username) for key, username in rows], total

    @read_only
    async def get_key(self, caller: Caller, key_id: int) -> OwnedKey:
        key, owner = await self._key(caller, key_id, write=False)
        return OwnedKey(key, owner.username)

    @transactional
    async def set_blocked(self, caller: Caller, key_id: int, blocked: bool) -> OwnedKey:
        """Block (or unblock) a key; blocking a blocked key is not an error."""
        key, owner = await self._key(caller, key_id, write=True)
        _guard_owner(caller, owner)
        key.blocked = blocked
        return OwnedKey(key, owner.username)

    @transactional
    async def delete_key(self, caller: Caller, key_id: int) -> None:
        key, owner = await self._key(caller, key_id, write=True)
        _guard_owner(caller, owner)
        await self.keys.delete(key)

    # --- keys: authentication -------------------------------------------------------------------------
    async def authenticate_key(self, raw: str, client_ip: str | None = None) -> Principal:
        """The principal behind a live key (the owner's current roles, company and timezone), or why not:
        ApiKeyInvalid (malformed, unknown, deleted, wrong secret, owner moved company), ApiKeyBlocked,
        ApiKeyExpired, ApiKeyOwnerInactive. ``client_ip`` is noted as the last use's address. Call it outside
        any read-only unit of work."""
        parts = split_key(raw) if isinstance(raw, str) else None
        if parts is None:
            raise ApiKeyInvalid()
        prefix, secret = parts
        digest = self._digest(secret)
        key = await self._resolved(prefix)
        if key is None:
            hmac.compare_digest(digest, self._dummy_hash)  # the same work as for a known prefix
            raise ApiKeyInvalid()
        if not hmac.compare_digest(digest, key.secret_hash):
            raise ApiKeyInvalid()
        if key.key_company_id != key.owner_company_id:  # moving a user to another company ends its keys
            raise ApiKeyInvalid()
        if key.blocked:
            raise ApiKeyBlocked()
        now = self.clock.now()
        if key.expires_at is not None and key.expires_at <= now:
            raise ApiKeyExpired()
        if not key.owner_enabled:
            raise ApiKeyOwnerInactive(extra={"company_id": key.owner_company_id})
        await self._note_use(key.key_id, key.last_used_at, now, client_ip)
        return key.principal

    async def _resolved(self, prefix: str) -> CachedKey | None:
        """The key of ``prefix`` as this process keeps it while its stamps hold, else read (None: no such key)."""
        try:
            stamps = await self.key_cache.stamps_of(prefix)
        except Exception as exc:  # the stamps' store away: read the row, as without a cache
            log.warning("could not read API key stamps", error=repr(exc))
            stamps = None
        cached = self.key_cache.get(prefix, stamps)
        if cached is not None:
            return cached
        found = await self._by_prefix(prefix)
        if found is None:
            return None
        key, owner = found
        cached = CachedKey.of(key, owner)
        self.key_cache.put(prefix, owner.id, stamps, cached)
        return cached

    @read_only
    async def _by_prefix(self, prefix: str) -> tuple[ApiKey, User] | None:
        return await self.keys.by_prefix(prefix)

    async def _note_use(self, key_id: int, last_used_at: datetime | None, now: datetime, client_ip: str | None) -> None:
        """Record the use at most once per LAST_USED_RESOLUTION per key (per process, and in the row)."""
        recent = self._last_touch.get(key_id)
        if last_used_at is not None and (recent is None or last_used_at > recent):
            recent = last_used_at
        if recent is not None and now - recent < LAST_USED_RESOLUTION:
            return
        if len(self._last_touch) > CACHE_MAX_ENTRIES:
            self._last_touch.clear()
        self._last_touch[key_id] = now
        try:
            await self._touch(key_id, now, _address_text(client_ip))
        except Exception as exc:  # a lost "last used" mark must never refuse a valid key
            log.warning("could not record API key use", key_id=key_id, error=repr(exc))

    @transactional
    async def _touch(self, key_id: int, now: datetime, address: str | None) -> None:
        await self.keys.touch(key_id, now, now - LAST_USED_RESOLUTION, address)

    def _digest(self, secret: str) -> str:
        return hmac.new(self._hash_key, secret.encode(), hashlib.sha256).hexdigest()

    async def _fresh_prefix(self) -> str:
        for _ in range(8):
            prefix = KEY_LABEL + secrets.token_hex(PREFIX_BYTES)
            if not await self.keys.prefix_taken(prefix):
                return prefix
        raise RuntimeError("no free API key prefix after 8 draws")  # 64 random bits: never in practice

    async def _owner(self, caller: Caller, username: str, *, write: bool) -> User:
        scope = _scope(caller, write=write)
        owner = await self.keys.owner_by_username(username)
        if owner is None or (scope is not None and owner.company_id != scope):
            raise KeyOwnerNotFound(resource=username)
        return owner

    async def _key(self, caller: Caller, key_id: int, *, write: bool, lock: bool = False) -> tuple[ApiKey, User]:
        scope = _scope(caller, write=write)
        found = await self.keys.by_id(key_id, lock=lock)
        if found is None or (scope is not None and found[1].company_id != scope):
            raise ApiKeyNotFound(resource=str(key_id))
        return found

    # --- networks -------------------------------------------------------------------------------------
    @read_only
    async def list_networks(self, caller: Caller, company_key: str) -> list[str]:
        company = await self._company(caller, company_key, write=False)
        return await self.networks.cidrs(company.id)

    @transactional
    async def allow_network(self, caller: Caller, company_key: str, cidr: str) -> list[str]:
        """Add a network (normalised); one already there is not an error. Returns the company's list."""
        network = normalise_cidr(cidr, "cidr")
        company = await self._company(caller, company_key, write=True)
        current = await self.networks.cidrs(company.id)
        if network in current:
            return current
        if len(current) >= NETWORKS_PER_COMPANY_MAX:
            raise NetworkLimitReached(f"a company may allow at most {NETWORKS_PER_COMPANY_MAX} networks")
        if await self.networks.add_guarded(
            CompanyNetwork(company_id=company.id, cidr=network, created_at=self.clock.now())
        ):
            current.append(network)
        self._forget_after_commit(company.id)
        return current

    @transactional
    async def deny_network(self, caller: Caller, company_key: str, cidr: str) -> list[str]:
        """Remove a network (matched after normalisation); one not there is not an error. Returns the list."""
        network = normalise_cidr(cidr, "cidr")
        company = await self._company(caller, company_key, write=True)
        await self.networks.remove(company.id, network)
        self._forget_after_commit(company.id)
        return await self.networks.cidrs(company.id)

    @transactional
    async def replace_networks(self, caller: Caller, company_key: str, cidrs: Sequence[str]) -> list[str]:
        """Replace the whole list (normalised, duplicates dropped, order kept); empty = no access at all."""
        networks = normalise_cidrs(cidrs, "networks")
        company = await self._company(caller, company_key, write=True)
        await self.networks.remove_all(company.id)
        now = self.clock.now()
        await self.networks.add_all([CompanyNetwork(company_id=company.id, cidr=n, created_at=now) for n in networks])
        self._forget_after_commit(company.id)
        return networks

    async def is_allowed(self, company_id: int, ip: str | Address | None) -> bool:
        """May a call from ``ip`` act for this company? No networks = nobody (the Data API's rule).
        An IPv4-mapped IPv6 address also matches the IPv4 networks. Cached for NETWORK_CACHE_SECONDS."""
        address = _address(ip)
        if address is None:
            return False
        networks = await self._allowed_networks(company_id)
        candidates: list[Address] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        return any(a in n for n in networks for a in candidates if a.version == n.version)

    async def _allowed_networks(self, company_id: int) -> tuple[Network, ...]:
        async def load() -> tuple[Network, ...]:
            return tuple(ipaddress.ip_network(c, strict=False) for c in await self._stored_cidrs(company_id))

        return await self._network_cache.get(company_id, load)

    @read_only
    async def _stored_cidrs(self, company_id: int) -> list[str]:
        return await self.networks.cidrs(company_id)

    def _forget_after_commit(self, company_id: int) -> None:
        async def forget() -> None:
            self._network_cache.drop(company_id)

        after_commit(forget)

    async def _company(self, caller: Caller, key: str, *, write: bool) -> Company:
        scope = _scope(caller, write=write)
        company = await self.networks.company_by_key(key, lock=write)
        if company is None or (scope is not None and company.id != scope):
            raise NetworkCompanyNotFound(resource=key)
        return company


# --- rules ------------------------------------------------------------------------------------------------
def _scope(caller: Caller, *, write: bool) -> int | None:
    """The company a caller is confined to (None: every company), or CredentialsManagementDenied."""
    if isinstance(caller, PlatformOperator):
        return None
    if write:
        if caller.can(Permission.ADMIN_WRITE_ALL):
            return None
        if caller.can(Permission.ADMIN_WRITE_COMPANY):
            return caller.company_id
        raise CredentialsManagementDenied("you may not change API keys or networks (read-only role)")
    if caller.can(Permission.ADMIN_READ_ALL):
        return None
    if caller.can(Permission.ADMIN_READ_COMPANY):
        return caller.company_id
    raise CredentialsManagementDenied("you may not read API keys or networks")


def _check_grace(grace_hours: int) -> None:
    if not 0 <= grace_hours <= ROTATION_GRACE_HOURS_MAX:
        issue = FieldIssue("grace_hours", f"0..{ROTATION_GRACE_HOURS_MAX} hours")
        raise ApiKeyRequestInvalid(f"grace_hours: {issue.message}", issues=[issue])


def _guard_owner(caller: Caller, owner: User) -> None:
    """Managing a user's keys is acting as that user: only as far as one could grant that user's roles."""
    if isinstance(caller, PlatformOperator):
        return
    for value in owner.roles:
        role = Role(value)
        if (role is Role.OVERLORD and not caller.can(Permission.GRANT_PLATFORM_ROLES)) or (
            role in PLATFORM_ROLES and not caller.can(Permission.ADMIN_WRITE_ALL)
        ):
            raise CredentialsManagementDenied(f"you may not manage the API keys of a user holding the role {role}")


def _checked_request(request: KeyRequest, now: datetime) -> tuple[str | None, datetime | None]:
    issues: list[FieldIssue] = []
    name = request.name
    if name is not None and (not 1 <= len(name) <= NAME_MAX or "\x00" in name):
        issues.append(FieldIssue("name", f"1..{NAME_MAX} characters, no NUL"))
    expires_at = request.expires_at
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
        expires_at = expires_at.astimezone(UTC)
        if expires_at <= now:
            issues.append(FieldIssue("expires_at", "must be in the future"))
    if issues:
        raise ApiKeyRequestInvalid("; ".join(f"{i.entity}: {i.message}" for i in issues), issues=issues)
    return name, expires_at


def normalise_cidr(value: object, field: str) -> str:
    """An IPv4 or IPv6 network in its canonical text (host bits dropped: ``10.1.2.3/8`` -> ``10.0.0.0/8``;
    a bare address is a /32 or /128), or NetworkInvalid."""
    if not isinstance(value, str) or not value or len(value) > CIDR_MAX_LENGTH or "%" in value:
        raise NetworkInvalid(issues=[FieldIssue(field, "not an IPv4 or IPv6 network (CIDR)")])
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as exc:
        raise NetworkInvalid(
            f"{value[:CIDR_MAX_LENGTH]!r} is not an IPv4 or IPv6 network (CIDR)",
            issues=[FieldIssue(field, "not an IPv4 or IPv6 network (CIDR)")],
        ) from exc
    return str(network)


def normalise_cidrs(values: Iterable[object], field: str) -> list[str]:
    networks: list[str] = []
    issues: list[FieldIssue] = []
    for index, value in enumerate(values):
        try:
            network = normalise_cidr(value, f"{field}.{index}")
        except NetworkInvalid as exc:
            issues.extend(exc.issues)
            continue
        if network not in networks:
            networks.append(network)
    if issues:
        raise NetworkInvalid(f"{len(issues)} entries are not IPv4 or IPv6 networks (CIDR)", issues=issues[:100])
    if len(networks) > NETWORKS_PER_COMPANY_MAX:
        raise NetworkInvalid(
            f"at most {NETWORKS_PER_COMPANY_MAX} networks", issues=[FieldIssue(field, "too many networks")]
        )
    return networks


def _address_text(ip: str | None) -> str | None:
    """The canonical text of a client address worth keeping, or None."""
    address = _address(ip)
    return None if address is None else str(address)[:ADDRESS_MAX_LENGTH]


def _address(ip: str | Address | None) -> Address | None:
    if ip is None:
        return None
    if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ip
    try:
        return ipaddress.ip_address(ip.split("%", 1)[0].strip())
    except (ValueError, AttributeError):
        return None
