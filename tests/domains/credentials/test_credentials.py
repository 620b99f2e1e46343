"""Credentials use cases against a real database (both backends): API keys and company IP allow-lists."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cabinet.core import cache as expiring_cache
from cabinet.core.clock import OffsetClock
from cabinet.core.principal import CredentialKind, Principal
from cabinet.core.roles import Role
from cabinet.domains.credentials import service as credential_service
from cabinet.domains.credentials.errors import (
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
)
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR, KeyRequest
from cabinet.domains.credentials.service import CredentialService
from cabinet.domains.registry import Services
from cabinet.models import ApiKey, Company, User
from tests.helpers import MadeUser, UserFactory

OP = PLATFORM_OPERATOR


async def principal_of(services: Services, made: MadeUser) -> Principal:
    user = await services.identity.get_account_by_id(made.id)
    return Principal(
        user_id=user.id,
        username=user.username,
        company_id=user.company_id,
        company_key=user.company.key,
        roles=tuple(made.roles),
        timezone=user.timezone,
        credential=CredentialKind.ACCESS,
    )


async def raw_rows(services: Services, table: type) -> list[tuple]:  # type: ignore[type-arg]
    async with services.credentials.db.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(select(table.__table__))).all()]  # type: ignore[attr-defined]


async def set_user(services: Services, user_id: int, **values: object) -> None:
    async with services.credentials.db.engine.begin() as conn:
        await conn.execute(update(User.__table__).where(User.__table__.c.id == user_id).values(**values))


@pytest.fixture
def creds(services: Services) -> CredentialService:
    return services.credentials


# --- keys: issue, hashing at rest, authentication ------------------------------------------------------------
async def test_issue_returns_the_secret_once_and_keeps_only_its_hmac(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    owner = await make_user(roles=[Role.BOT], timezone=3)
    issued = await creds.issue_key(OP, owner.username, KeyRequest(name="erp"))
    prefix, secret = issued.key[:20], issued.key[21:]
    assert issued.key == f"{prefix}_{secret}" and re.fullmatch(r"cab_[0-9a-f]{16}", prefix)
    assert issued.row.prefix == prefix and len(secret) == 43
    assert issued.row.name == "erp" and issued.row.expires_at is None and issued.row.blocked is False
    rows = await raw_rows(services, ApiKey)
    assert len(rows) == 1
    dump = repr(rows)
    assert secret not in dump and issued.key not in dump
    stored = issued.row.secret_hash
    assert len(stored) == 64 and int(stored, 16) >= 0 and stored != secret
    listed = await creds.list_keys(OP, owner.username)
    assert [k.id for k in listed] == [issued.row.id]
    assert all(secret not in repr(vars(k)) for k in listed)

    principal = await creds.authenticate_key(issued.key)
    assert principal.credential is CredentialKind.API_KEY
    assert principal.user_id == owner.id and principal.username == owner.username
    assert principal.company_key == owner.company and principal.roles == (Role.BOT,) and principal.timezone == 3
    assert principal.credential_id == str(issued.row.id)


async def test_two_keys_differ_and_each_works(creds: CredentialService, make_user: UserFactory) -> None:
    owner = await make_user()
    first = await creds.issue_key(OP, owner.username, KeyRequest())
    second = await creds.issue_key(OP, owner.username, KeyRequest())
    assert first.key != second.key and first.row.secret_hash != second.row.secret_hash
    assert (await creds.authenticate_key(first.key)).user_id == owner.id
    assert (await creds.authenticate_key(second.key)).user_id == owner.id


async def test_hash_depends_on_the_server_secret(creds: CredentialService, make_user: UserFactory) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    other = CredentialService(creds.db, clock=creds.clock, secret=b"another-server-secret-" + b"y" * 20)
    with pytest.raises(ApiKeyInvalid):
        await other.authenticate_key(issued.key)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-dot-here",
        ".",
        "0123456789abcdef.",
        ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "0123456789abcdef.short",
        "0123456789ABCDEF.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  # prefixes are lower-case hex
        "0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.extra",
        "0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\u00e9",
        "x" * 10_000,
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",  # a JWT is not a key
    ],
)
async def test_malformed_keys_are_invalid(creds: CredentialService, raw: str) -> None:
    with pytest.raises(ApiKeyInvalid) as info:
        await creds.authenticate_key(raw)
    assert info.value.data_api_mnemonic == "access_token_invalid"


async def test_non_string_key_is_invalid(creds: CredentialService) -> None:
    with pytest.raises(ApiKeyInvalid):
        await creds.authenticate_key(None)  # type: ignore[arg-type]


async def test_wrong_prefix_and_tampered_secret_are_invalid(creds: CredentialService, make_user: UserFactory) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    other = await creds.issue_key(OP, owner.username, KeyRequest())
    prefix, secret = issued.key[:20], issued.key[21:]
    other_prefix, other_secret = other.key[:20], other.key[21:]
    unknown_prefix = "cab_" + ("0" if prefix[4] != "0" else "1") + prefix[5:]
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for raw in (
        f"{unknown_prefix}_{secret}",
        f"{prefix}_{tampered}",
        f"{prefix}_{other_secret}",
        f"{other_prefix}_{secret}",
        f"{prefix}.{secret}",
        f"{prefix[4:]}.{secret}",
    ):
        with pytest.raises(ApiKeyInvalid):
            await creds.authenticate_key(raw)
    assert (await creds.authenticate_key(issued.key)).user_id == owner.id


async def test_blocked_key_is_refused_until_unblocked(creds: CredentialService, make_user: UserFactory) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    blocked = await creds.set_blocked(OP, issued.row.id, True)
    assert blocked.row.blocked is True and blocked.username == owner.username
    await creds.set_blocked(OP, issued.row.id, True)  # idempotent
    with pytest.raises(ApiKeyBlocked) as info:
        await creds.authenticate_key(issued.key)
    assert info.value.data_api_mnemonic == "access_token_blocked"
    await creds.set_blocked(OP, issued.row.id, False)
    assert (await creds.authenticate_key(issued.key)).user_id == owner.id


async def test_expired_key(creds: CredentialService, make_user: UserFactory, clock: OffsetClock) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest(expires_at=clock.now() + timedelta(hours=1)))
    assert issued.row.expires_at is not None
    assert (await creds.authenticate_key(issued.key)).user_id == owner.id
    clock.advance(hours=1, seconds=1)
    with pytest.raises(ApiKeyExpired) as info:
        await creds.authenticate_key(issued.key)
    assert info.value.data_api_mnemonic == "access_token_expired"


async def test_blocked_wins_over_expired(creds: CredentialService, make_user: UserFactory, clock: OffsetClock) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest(expires_at=clock.now() + timedelta(minutes=5)))
    await creds.set_blocked(OP, issued.row.id, True)
    clock.advance(hours=1)
    with pytest.raises(ApiKeyBlocked):
        await creds.authenticate_key(issued.key)


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=-1), timedelta(days=-400)])
async def test_expiry_must_be_in_the_future(
    creds: CredentialService, make_user: UserFactory, clock: OffsetClock, delta: timedelta
) -> None:
    owner = await make_user()
    with pytest.raises(ApiKeyRequestInvalid) as info:
        await creds.issue_key(OP, owner.username, KeyRequest(expires_at=clock.now() + delta))
    assert [i.entity for i in info.value.issues] == ["expires_at"]
    assert await creds.list_keys(OP, owner.username) == []


async def test_naive_expiry_is_utc(creds: CredentialService, make_user: UserFactory) -> None:
    owner = await make_user()
    naive = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(days=2)
    issued = await creds.issue_key(OP, owner.username, KeyRequest(expires_at=naive))
    assert issued.row.expires_at == naive.replace(tzinfo=UTC)


@pytest.mark.parametrize("name", ["", "x" * 257, "nul\x00name"])
async def test_bad_names(creds: CredentialService, make_user: UserFactory, name: str) -> None:
    owner = await make_user()
    with pytest.raises(ApiKeyRequestInvalid):
        await creds.issue_key(OP, owner.username, KeyRequest(name=name))


async def test_deleted_key_is_invalid_and_gone(creds: CredentialService, make_user: UserFactory) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    await creds.delete_key(OP, issued.row.id)
    with pytest.raises(ApiKeyInvalid):
        await creds.authenticate_key(issued.key)
    assert await creds.list_keys(OP, owner.username) == []
    with pytest.raises(ApiKeyNotFound):
        await creds.delete_key(OP, issued.row.id)
    with pytest.raises(ApiKeyNotFound):
        await creds.set_blocked(OP, issued.row.id, True)


async def test_disabled_owner(creds: CredentialService, services: Services, make_user: UserFactory) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    await set_user(services, owner.id, enabled=False)
    with pytest.raises(ApiKeyOwnerInactive) as info:
        await creds.authenticate_key(issued.key)
    assert info.value.data_api_mnemonic == "account_inactive"
    await set_user(services, owner.id, enabled=True)
    assert (await creds.authenticate_key(issued.key)).user_id == owner.id


async def test_owner_moved_to_another_company_ends_its_keys(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    owner = await make_user(company="first_co")
    elsewhere = await make_user(company="second_co")
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    target = await services.identity.get_account_by_id(elsewhere.id)
    await set_user(services, owner.id, company_id=target.company_id)
    with pytest.raises(ApiKeyInvalid):
        await creds.authenticate_key(issued.key)


async def test_principal_follows_the_owners_current_roles(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    owner = await make_user(roles=[Role.USER])
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    await set_user(services, owner.id, roles=["BOT"])
    assert (await creds.authenticate_key(issued.key)).roles == (Role.BOT,)


async def test_deleting_the_user_deletes_its_keys(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    async with services.credentials.db.engine.begin() as conn:
        await conn.execute(User.__table__.delete().where(User.__table__.c.id == owner.id))
    assert await raw_rows(services, ApiKey) == []  # ON DELETE CASCADE
    with pytest.raises(ApiKeyInvalid):
        await creds.authenticate_key(issued.key)


async def test_last_used_is_written_at_most_once_a_minute(
    creds: CredentialService, make_user: UserFactory, clock: OffsetClock
) -> None:
    owner = await make_user()
    issued = await creds.issue_key(OP, owner.username, KeyRequest())
    assert (await creds.get_key(OP, issued.row.id)).row.last_used_at is None
    await creds.authenticate_key(issued.key)
    first = (await creds.get_key(OP, issued.row.id)).row.last_used_at
    assert first is not None
    clock.advance(seconds=30)
    await creds.authenticate_key(issued.key)
    assert (await creds.get_key(OP, issued.row.id)).row.last_used_at == first
    # another process (a fresh service) sees the recent mark in the row and does not write either
    fresh = CredentialService(creds.db, clock=clock, secret=b"unused")
    fresh._hash_key = creds._hash_key
    await fresh.authenticate_key(issued.key)
    assert (await creds.get_key(OP, issued.row.id)).row.last_used_at == first
    clock.advance(seconds=31)
    await creds.authenticate_key(issued.key)
    later = (await creds.get_key(OP, issued.row.id)).row.last_used_at
    assert later is not None and later > first


async def test_key_count_is_bounded(
    creds: CredentialService, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(credential_service, "KEYS_PER_USER_MAX", 2)
    owner = await make_user()
    await creds.issue_key(OP, owner.username, KeyRequest())
    await creds.issue_key(OP, owner.username, KeyRequest())
    with pytest.raises(ApiKeyLimitReached):
        await creds.issue_key(OP, owner.username, KeyRequest())


async def test_unknown_user_and_key(creds: CredentialService) -> None:
    with pytest.raises(KeyOwnerNotFound):
        await creds.issue_key(OP, "nobody_here", KeyRequest())
    with pytest.raises(KeyOwnerNotFound):
        await creds.list_keys(OP, "nobody_here")
    with pytest.raises(ApiKeyNotFound):
        await creds.set_blocked(OP, 987654321, True)


# --- keys: who may manage whose -------------------------------------------------------------------------------
async def test_company_owner_manages_only_its_company(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    owner = await principal_of(services, await make_user(company="own_co", roles=[Role.COMPANYOWNER]))
    mine = await make_user(company="own_co")
    theirs = await make_user(company="their_co")
    their_key = await creds.issue_key(OP, theirs.username, KeyRequest())

    issued = await creds.issue_key(owner, mine.username, KeyRequest())
    assert [k.id for k in await creds.list_keys(owner, mine.username)] == [issued.row.id]
    await creds.set_blocked(owner, issued.row.id, True)
    await creds.delete_key(owner, issued.row.id)

    with pytest.raises(KeyOwnerNotFound):
        await creds.issue_key(owner, theirs.username, KeyRequest())
    with pytest.raises(KeyOwnerNotFound):
        await creds.list_keys(owner, theirs.username)
    for action in (
        creds.get_key(owner, their_key.row.id),
        creds.set_blocked(owner, their_key.row.id, True),
        creds.delete_key(owner, their_key.row.id),
    ):
        with pytest.raises(ApiKeyNotFound):
            await action
    assert (await creds.authenticate_key(their_key.key)).user_id == theirs.id


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT, Role.OVERLORD])
async def test_company_owner_cannot_mint_platform_credentials(
    creds: CredentialService, services: Services, make_user: UserFactory, role: Role
) -> None:
    owner = await principal_of(services, await make_user(company="own_co", roles=[Role.COMPANYOWNER]))
    operator = await make_user(company="own_co", roles=[role])
    with pytest.raises(CredentialsManagementDenied):
        await creds.issue_key(owner, operator.username, KeyRequest())
    existing = await creds.issue_key(OP, operator.username, KeyRequest())
    assert len(await creds.list_keys(owner, operator.username)) == 1  # reading is fine
    with pytest.raises(CredentialsManagementDenied):
        await creds.delete_key(owner, existing.row.id)


async def test_admin_manages_every_company_but_not_an_overlords_keys(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    admin = await principal_of(services, await make_user(company="ops_co", roles=[Role.ADMIN]))
    other = await make_user(company="client_co", roles=[Role.COMPANYOWNER])
    issued = await creds.issue_key(admin, other.username, KeyRequest())
    await creds.set_blocked(admin, issued.row.id, True)
    overlord = await make_user(company="ops_co", roles=[Role.OVERLORD])
    with pytest.raises(CredentialsManagementDenied):
        await creds.issue_key(admin, overlord.username, KeyRequest())
    boss = await principal_of(services, overlord)
    assert (await creds.issue_key(boss, overlord.username, KeyRequest())).row.user_id == overlord.id


async def test_support_reads_everything_changes_nothing(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    support = await principal_of(services, await make_user(company="ops_co", roles=[Role.SUPPORT]))
    other = await make_user(company="client_co")
    issued = await creds.issue_key(OP, other.username, KeyRequest())
    assert len(await creds.list_keys(support, other.username)) == 1
    assert (await creds.get_key(support, issued.row.id)).username == other.username
    assert await creds.list_networks(support, "client_co") == []
    for action in (
        creds.issue_key(support, other.username, KeyRequest()),
        creds.set_blocked(support, issued.row.id, True),
        creds.delete_key(support, issued.row.id),
        creds.allow_network(support, "client_co", "10.0.0.0/8"),
        creds.deny_network(support, "client_co", "10.0.0.0/8"),
        creds.replace_networks(support, "client_co", []),
    ):
        with pytest.raises(CredentialsManagementDenied):
            await action


async def test_plain_users_may_not_even_read(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    user = await make_user(roles=[Role.USER])
    me = await principal_of(services, user)
    with pytest.raises(CredentialsManagementDenied):
        await creds.list_keys(me, user.username)
    with pytest.raises(CredentialsManagementDenied):
        await creds.issue_key(me, user.username, KeyRequest())
    with pytest.raises(CredentialsManagementDenied):
        await creds.list_networks(me, user.company)


# --- networks ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("192.168.1.7", "192.168.1.7/32"),
        ("10.0.0.0/255.255.0.0", "10.0.0.0/16"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        (" 172.16.0.0/12 ", "172.16.0.0/12"),
        ("2001:DB8::1/32", "2001:db8::/32"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"),
        ("::1", "::1/128"),
        ("::/0", "::/0"),
    ],
)
async def test_allow_normalises(creds: CredentialService, make_user: UserFactory, given: str, stored: str) -> None:
    await make_user(company="net_co")
    assert await creds.allow_network(OP, "net_co", given) == [stored]
    assert await creds.list_networks(OP, "net_co") == [stored]


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "garbage",
        "10.0.0.0/33",
        "1.2.3",
        "01.2.3.4",
        "256.0.0.1",
        "10.0.0.0/8/8",
        "2001:db8::/129",
        "fe80::1%eth0",
        "10.0.0.0/-1",
        "1" * 200,
        "10.0.0.0/8; DROP TABLE company",
        "::ffff:zzzz",
    ],
)
async def test_allow_refuses_garbage(creds: CredentialService, make_user: UserFactory, garbage: str) -> None:
    await make_user(company="net_co")
    with pytest.raises(NetworkInvalid) as info:
        await creds.allow_network(OP, "net_co", garbage)
    assert info.value.issues and info.value.issues[0].entity == "cidr"
    with pytest.raises(NetworkInvalid):
        await creds.deny_network(OP, "net_co", garbage)
    assert await creds.list_networks(OP, "net_co") == []


async def test_allow_is_idempotent_and_deny_removes(creds: CredentialService, make_user: UserFactory) -> None:
    await make_user(company="net_co")
    await creds.allow_network(OP, "net_co", "10.0.0.0/8")
    await creds.allow_network(OP, "net_co", "2001:db8::/32")
    assert await creds.allow_network(OP, "net_co", "10.9.9.9/8") == ["10.0.0.0/8", "2001:db8::/32"]
    assert await creds.deny_network(OP, "net_co", "10.1.1.1/8") == ["2001:db8::/32"]
    assert await creds.deny_network(OP, "net_co", "10.0.0.0/8") == ["2001:db8::/32"]  # absent: no error
    assert await creds.deny_network(OP, "net_co", "2001:DB8::/32") == []


async def test_replace_dedupes_and_reports_every_bad_entry(creds: CredentialService, make_user: UserFactory) -> None:
    await make_user(company="net_co")
    await creds.allow_network(OP, "net_co", "192.168.0.0/16")
    replaced = await creds.replace_networks(OP, "net_co", ["10.0.0.0/8", "10.1.2.3/8", "::1", "127.0.0.1"])
    assert replaced == ["10.0.0.0/8", "::1/128", "127.0.0.1/32"]
    assert await creds.list_networks(OP, "net_co") == replaced
    with pytest.raises(NetworkInvalid) as info:
        await creds.replace_networks(OP, "net_co", ["10.0.0.0/8", "nope", "1.1.1.1", "300.1.1.1"])
    assert [i.entity for i in info.value.issues] == ["networks.1", "networks.3"]
    assert await creds.list_networks(OP, "net_co") == replaced  # nothing changed
    assert await creds.replace_networks(OP, "net_co", []) == []
    assert await creds.list_networks(OP, "net_co") == []


async def test_networks_of_an_unknown_company(creds: CredentialService) -> None:
    with pytest.raises(NetworkCompanyNotFound):
        await creds.list_networks(OP, "no_such_co")
    with pytest.raises(NetworkCompanyNotFound):
        await creds.allow_network(OP, "no_such_co", "10.0.0.0/8")


async def test_company_owner_networks_scope(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    owner = await principal_of(services, await make_user(company="own_co", roles=[Role.COMPANYOWNER]))
    await make_user(company="their_co")
    assert await creds.allow_network(owner, "own_co", "10.0.0.0/8") == ["10.0.0.0/8"]
    for action in (
        creds.list_networks(owner, "their_co"),
        creds.allow_network(owner, "their_co", "10.0.0.0/8"),
        creds.deny_network(owner, "their_co", "10.0.0.0/8"),
        creds.replace_networks(owner, "their_co", ["0.0.0.0/0"]),
    ):
        with pytest.raises(NetworkCompanyNotFound):
            await action
    assert await creds.list_networks(OP, "their_co") == []


async def company_id(services: Services, key: str) -> int:
    async with services.credentials.db.engine.connect() as conn:
        return int(await conn.scalar(select(Company.__table__.c.id).where(Company.__table__.c.key == key)))


async def test_empty_list_denies_everyone(creds: CredentialService, services: Services, make_user: UserFactory) -> None:
    await make_user(company="net_co")
    cid = await company_id(services, "net_co")
    for ip in ("127.0.0.1", "10.0.0.1", "::1", "8.8.8.8"):
        assert await creds.is_allowed(cid, ip) is False
    assert await creds.is_allowed(987654, "127.0.0.1") is False  # unknown company


async def test_is_allowed_matches_v4_v6_and_mapped(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    await make_user(company="net_co")
    cid = await company_id(services, "net_co")
    await creds.replace_networks(OP, "net_co", ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"])
    assert await creds.is_allowed(cid, "10.200.3.4")
    assert await creds.is_allowed(cid, ipaddress.ip_address("10.0.0.1"))
    assert await creds.is_allowed(cid, "127.0.0.1")
    assert await creds.is_allowed(cid, "::ffff:10.1.1.1")  # IPv4-mapped IPv6
    assert await creds.is_allowed(cid, "2001:db8:ffff::1")
    assert await creds.is_allowed(cid, "2001:DB8::1%eth0")
    assert not await creds.is_allowed(cid, "11.0.0.1")
    assert not await creds.is_allowed(cid, "127.0.0.2")
    assert not await creds.is_allowed(cid, "::1")
    assert not await creds.is_allowed(cid, "2001:db9::1")
    for junk in ("", "garbage", "10.0.0.0/8", "999.1.1.1", None):
        assert not await creds.is_allowed(cid, junk)


async def test_everything_networks(creds: CredentialService, services: Services, make_user: UserFactory) -> None:
    await make_user(company="net_co")
    cid = await company_id(services, "net_co")
    await creds.allow_network(OP, "net_co", "0.0.0.0/0")
    assert await creds.is_allowed(cid, "203.0.113.9")
    assert not await creds.is_allowed(cid, "2001:db8::1")  # 0.0.0.0/0 is IPv4 only
    await creds.allow_network(OP, "net_co", "::/0")
    assert await creds.is_allowed(cid, "2001:db8::1")


async def test_changes_apply_at_once_in_this_process(
    creds: CredentialService, services: Services, make_user: UserFactory
) -> None:
    await make_user(company="net_co")
    cid = await company_id(services, "net_co")
    assert not await creds.is_allowed(cid, "10.0.0.1")  # now cached: no access
    await creds.allow_network(OP, "net_co", "10.0.0.0/8")
    assert await creds.is_allowed(cid, "10.0.0.1")
    await creds.deny_network(OP, "net_co", "10.0.0.0/8")
    assert not await creds.is_allowed(cid, "10.0.0.1")
    await creds.replace_networks(OP, "net_co", ["10.0.0.1"])
    assert await creds.is_allowed(cid, "10.0.0.1")


async def test_other_processes_see_changes_after_the_cache_window(
    creds: CredentialService, services: Services, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_user(company="net_co")
    cid = await company_id(services, "net_co")
    other = CredentialService(creds.db, clock=creds.clock, secret=b"x" * 32)
    assert not await other.is_allowed(cid, "10.0.0.1")
    await creds.allow_network(OP, "net_co", "10.0.0.0/8")
    assert not await other.is_allowed(cid, "10.0.0.1")  # still cached there
    monkeypatch.setattr(expiring_cache.time, "monotonic", lambda: 10.0**12)
    assert await other.is_allowed(cid, "10.0.0.1")
