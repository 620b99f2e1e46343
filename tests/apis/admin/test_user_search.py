"""The user list's text search and counters over migration 0020's indexes (SQLite: FTS5 trigram table kept by
triggers; PostgreSQL: pg_trgm GIN indexes) answer what the case-folding substring scan answered: any part of the
login, name, e-mail or phone, ignoring case (Cyrillic too), only the caller's company, and follow every write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cabinet.core.roles import Role
from tests.helpers import UserFactory, bearer, login

USERS = "/admin/users"
ANNA = {"username": "anna_k", "company_key": "search_co", "roles": ["USER"]}  # a PUT names company and roles


async def _found(api: httpx.AsyncClient, token: str, text: str, **params: Any) -> tuple[list[str], dict[str, Any]]:
    query = {"sort_field": "username", **({"filter": text} if text else {}), **params}
    response = await api.get(USERS, params=query, headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    return [u["username"] for u in body["users"]], body["statistics"]


@pytest.fixture
async def owner_token(api: httpx.AsyncClient, make_user: UserFactory) -> str:
    owner = await make_user("search_owner", company="search_co", roles=[Role.COMPANYOWNER])
    await make_user("ivan_petrov", company="search_co", specification="Пётр Иванов", email="Petrov@Example.COM")
    await make_user("anna_k", company="search_co", specification="Анна Кузнецова", phone="+7 999 123-45-67")
    await make_user("quote_user", company="search_co", specification='say "hi" 100%_done')
    # the same words in another company: never listed to this company's owner
    await make_user("other_petrov", company="other_co", specification="Пётр Иванов", email="petrov@example.com")
    return await login(api, owner)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ПЁТР", ["ivan_petrov"]),  # a name, upper case, Cyrillic with ё
        ("иванов", ["ivan_petrov"]),
        ("example.com", ["ivan_petrov"]),  # the e-mail, any case
        ("PETROV", ["ivan_petrov"]),  # the login and the e-mail: listed once
        ("999 123", ["anna_k"]),  # the phone, across a space
        ("an", ["anna_k", "ivan_petrov"]),  # 2 characters: below the trigram index, the same answer by a scan
        ('"hi"', ["quote_user"]),  # quotes are text, not the search syntax
        ("100%_d", ["quote_user"]),  # % and _ are letters
        ("0%x", []),
        ("nobody here", []),
    ],
)
async def test_the_search_finds_any_part_ignoring_case_in_the_own_company(
    api: httpx.AsyncClient, owner_token: str, text: str, expected: list[str]
) -> None:
    found, statistics = await _found(api, owner_token, text)
    assert found == expected
    assert statistics["filter"]["total"] == len(expected)
    assert statistics["overall"]["total"] == 4  # this company only


async def test_the_search_and_counters_follow_every_write(api: httpx.AsyncClient, owner_token: str) -> None:
    headers = bearer(owner_token)
    assert (await _found(api, owner_token, "Кузнецова"))[0] == ["anna_k"]
    renamed = await api.put(USERS, json={**ANNA, "name": "Анна Смирнова"}, headers=headers)
    assert renamed.status_code == 200, renamed.text
    assert (await _found(api, owner_token, "Кузнецова"))[0] == []
    assert (await _found(api, owner_token, "смирнова"))[0] == ["anna_k"]
    _, before = await _found(api, owner_token, "")
    assert before["overall"]["admins"] == 1  # the owner
    promoted = await api.put(USERS, json={**ANNA, "roles": ["COMPANYOWNER"]}, headers=headers)
    assert promoted.status_code == 200, promoted.text
    found, after = await _found(api, owner_token, "", user_group="ADMINS")
    assert found == ["anna_k", "search_owner"] and after["overall"]["admins"] == 2
    demoted = await api.put(USERS, json={**ANNA, "roles": ["USER"]}, headers=headers)
    assert demoted.status_code == 200, demoted.text
    assert (await _found(api, owner_token, "", user_group="ADMINS"))[0] == ["search_owner"]
    assert (await api.delete(f"{USERS}/anna_k", headers=headers)).status_code in (200, 204)
    assert (await _found(api, owner_token, "смирнова"))[0] == []


@pytest.mark.parametrize("text", ["zeta_", "zeta_1", "zeta_2", "zeta_5"])  # 21, 11, 2, 1 of 21 users
@pytest.mark.parametrize(("sort", "direction"), [("username", "ASC"), ("creation_date", "DESC"), ("name", "DESC")])
async def test_a_search_pages_alike_whether_it_matches_few_or_most(
    api: httpx.AsyncClient, make_user: UserFactory, text: str, sort: str, direction: str
) -> None:
    """SQLite reads a search matching few of the company's users (a quarter or less) by their ids and one matching
    more by the company's index (``DirectoryRepository.users``): either way, the same users in the same order,
    page by page."""
    owner = await make_user("zeta_owner", company="zeta_co", roles=[Role.COMPANYOWNER])
    names = [f"zeta_{n}" for n in range(20, 0, -1)]
    for n, name in enumerate(names):
        await make_user(name, company="zeta_co", specification=f"Person {n % 3}", enabled=n % 4 != 0)
    token = await login(api, owner)
    # the oracle: the whole company in this order (no text: the plain statement), then the matching ones
    everyone, _ = await _found(api, token, "", sort_field=sort, sort_direction=direction, limit=100)
    assert len(everyone) == 21
    matching = [u for u in everyone if text in u]
    seen: list[str] = []
    for offset in range(0, len(matching) + 3, 3):
        page, statistics = await _found(
            api, token, text, sort_field=sort, sort_direction=direction, offset=offset, limit=3
        )
        assert statistics["filter"]["total"] == len(matching)
        seen += page
    assert seen == matching


async def test_a_search_never_spans_two_texts(api: httpx.AsyncClient, owner_token: str) -> None:
    """PostgreSQL matches the four texts joined by chr(1) (one trigram index): a text holding that character is
    matched column by column, so the end of a login and the start of a name never make a match together."""
    response = await api.get(USERS, params={"filter": "petrov\x01Пётр"}, headers=bearer(owner_token))
    assert response.status_code == 200, response.text
    assert response.json()["users"] == []
    assert (await _found(api, owner_token, "petrov"))[0] == ["ivan_petrov"]


async def test_a_search_is_read_from_its_trigram_index(app: Any) -> None:
    """A search is served by its index on the backend under test: SQLite's FTS5 table, and on PostgreSQL migration
    0021's trigram index, whose expression the search repeats character for character (one the index does not
    hold would leave the planner a scan of every row: the plan is asked with scans forbidden)."""
    from sqlalchemy import func, select, text

    from cabinet.domains.identity.repository import _user_text
    from cabinet.models import User

    engine = app.state.runtime.resources.db.engine
    dialect = engine.dialect.name
    statement = select(func.count()).select_from(User).where(_user_text("petrov", dialect))
    sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    async with engine.begin() as conn:
        if dialect == "sqlite":
            plan = " | ".join(str(row[-1]) for row in await conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "user_search VIRTUAL TABLE" in plan, plan
        else:
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in await conn.execute(text("EXPLAIN " + sql)))
            assert "ix_user_account_trgm_text" in plan, plan
