"""Identity use cases against a real database (both backends)."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import extract_parameters

from cabinet.core.roles import Role
from cabinet.domains.identity.errors import (
    CompanyNotFound,
    UserAlreadyExists,
    UserInvalid,
)
from cabinet.domains.identity.schemas import AccountPatch, UserCreate
from cabinet.domains.registry import Services


def command(username: str, company: str = "acme_corp", **kw: object) -> UserCreate:
    base: dict[str, object] = dict(
        username=username, password="correct_horse_battery", company_key=company, roles=[Role.USER], create_company=True
    )
    base.update(kw)
    return UserCreate(**base)  # type: ignore[arg-type]


@pytest.mark.real_password_hashing
async def test_password_is_argon2id_at_owasp_cost_or_stronger(services: Services) -> None:
    user = await services.identity.create_user(command("hash_check"))
    params = extract_parameters(user.password_hash or "")
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2 and params.parallelism >= 1
    assert "correct_horse_battery" not in user.password_hash


async def test_duplicate_username_is_a_conflict(services: Services) -> None:
    await services.identity.create_user(command("twin"))
    with pytest.raises(UserAlreadyExists):
        await services.identity.create_user(command("twin", company="other_co"))


async def test_concurrent_creates_of_one_username_leave_one_user(services: Services) -> None:
    results = await asyncio.gather(
        *(services.identity.create_user(command("racer", company=f"race_co_{i}")) for i in range(5)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(e, UserAlreadyExists) for e in failed), failed


async def test_concurrent_creates_share_a_new_company(services: Services) -> None:
    users = await asyncio.gather(
        *(services.identity.create_user(command(f"member_{i}", company="brand_new_co")) for i in range(4))
    )
    assert len({u.company_id for u in users}) == 1


async def test_unknown_company_without_create_flag(services: Services) -> None:
    with pytest.raises(CompanyNotFound):
        await services.identity.create_user(command("lonely", company="missing_co", create_company=False))


@pytest.mark.parametrize(
    "bad",
    [
        dict(username="a"),
        dict(username="has space"),
        dict(username="x" * 257),
        dict(company_key="ab"),
        dict(company_key="bad-key"),
        dict(password="1234"),
        dict(roles=[Role.USER, Role.USER]),
        dict(roles=[Role.USER, Role.BOT, Role.CREW]),
        dict(timezone=13),
        dict(attributes=[{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]),
    ],
)
async def test_invalid_users_are_refused(services: Services, bad: dict[str, object]) -> None:
    username = str(bad.pop("username", "valid_name"))
    with pytest.raises(UserInvalid):
        await services.identity.create_user(command(username, **bad))


async def test_account_patch_keeps_absent_and_clears_null(services: Services) -> None:
    from cabinet.core.principal import CredentialKind, Principal

    user = await services.identity.create_user(
        command("patchy", specification="Old Name", email="old@example.com", phone="+71112223333")
    )
    principal = Principal(user.id, user.username, user.company_id, "acme_corp", (Role.USER,), 0, CredentialKind.ACCESS)
    updated = await services.identity.update_account(principal, AccountPatch(email=None))
    assert updated.specification == "Old Name" and updated.email is None and updated.phone == "+71112223333"
    updated = await services.identity.update_account(
        principal, AccountPatch(attributes=[{"key": "a", "value": "1", "strategy": None}])
    )
    assert updated.attributes == [{"key": "a", "value": "1", "strategy": None}]
    assert updated.edited_at >= updated.created_at


async def test_another_tenants_principal_does_not_reach_the_user(services: Services) -> None:
    from cabinet.core.principal import CredentialKind, Principal
    from cabinet.domains.identity.errors import UserNotFound

    user = await services.identity.create_user(command("tenant_a_user", company="tenant_a"))
    other = await services.identity.create_user(command("tenant_b_user", company="tenant_b"))
    forged = Principal(user.id, user.username, other.company_id, "tenant_b", (Role.USER,), 0, CredentialKind.ACCESS)
    with pytest.raises(UserNotFound):
        await services.identity.get_account(forged)
