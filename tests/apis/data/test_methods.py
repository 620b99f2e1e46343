"""The get machinery over cabinet's objects and the user-management methods, with the Admin API's rights."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from cabinet.core.roles import Role
from cabinet.domains.registry import Services
from tests.apis.data.support import Caller, make_caller, mnemonic, ok, rpc
from tests.helpers import UserFactory


def _err(body: dict[str, Any]) -> tuple[str, Any]:
    return mnemonic(body), body["error"]["data"].get("field")


STAFF = ("anna_b", "boris_c", "carl_d")


@pytest.fixture
async def staff(services: Services, make_user: UserFactory, owner: Caller) -> list[int]:
    """Three more users in the owner's company, one in another company."""
    ids = []
    for name, email, tz in (
        ("anna_b", "anna@example.com", 0),
        ("boris_c", None, 3),
        ("carl_d", "carl@example.org", -5),
    ):
        made = await make_user(name, company="acme_corp", email=email, timezone=tz, roles=[Role.USER])
        ids.append(made.id)
    await make_user("zed_other", company="other_corp")
    return ids


async def test_get_users_filters_sort_paging_fields(client: httpx.AsyncClient, owner: Caller, staff: list[int]) -> None:
    body = await rpc(client, "get.users", owner.params())
    rows = ok(body)
    assert body["result"]["metadata"]["total_items"] == 4  # the owner and three; not the other company's user
    assert {r["login"] for r in rows} == {owner.user.username, "anna_b", "boris_c", "carl_d"}
    first = rows[0]
    assert set(first) == {
        "id",
        "login",
        "name",
        "email",
        "phone",
        "company_id",
        "company_name",
        "is_active",
        "roles",
        "timezone",
        "creation_date",
        "edit_date",
    }
    datetime.strptime(first["creation_date"], "%Y-%m-%d %H:%M:%S")  # C2
    assert first["phone"] is None and isinstance(first["roles"], list)  # C1
    # a tree, sort, paging, fields
    params = owner.params(
        filter={
            "condition": "or",
            "filters": [
                {"field": "email", "operator": "like", "value": "%@example.com"},
                {
                    "filters": [
                        {"field": "timezone", "operator": ">", "value": 0},
                        {"field": "login", "operator": "ilike", "value": "BOR%"},
                    ],
                    "condition": "and",
                },
                {"field": "login", "operator": "in", "value": ["carl_d"]},
            ],
        },
        sort=[{"field": "login", "order": "desc"}],
        limit=2,
        offset=0,
        fields=["login", "timezone"],
    )
    page = await rpc(client, "get.users", params)
    assert ok(page) == [{"login": "carl_d", "timezone": -5}, {"login": "boris_c", "timezone": 3}]
    assert page["result"]["metadata"]["total_items"] == 3
    params["offset"] = 2
    assert ok(await rpc(client, "get.users", params)) == [{"login": "anna_b", "timezone": 0}]
    # =null / is_not_null / overlap / regexp / not_in
    cases = [
        ({"field": "email", "operator": "=", "value": None}, {owner.user.username, "boris_c"}),
        ({"field": "email", "operator": "is_not_null"}, {"anna_b", "carl_d"}),
        ({"field": "roles", "operator": "overlap", "value": "COMPANYOWNER"}, {owner.user.username}),
        ({"field": "roles", "operator": "not_overlap", "value": ["COMPANYOWNER"]}, {"anna_b", "boris_c", "carl_d"}),
        ({"field": "login", "operator": "regexp", "value": "^[ab].*_[bc]$"}, {"anna_b", "boris_c"}),
        ({"field": "id", "operator": "not_in", "value": staff[:2]}, {owner.user.username, "carl_d"}),
        ({"field": "is_active", "operator": "=", "value": True}, {owner.user.username, "anna_b", "boris_c", "carl_d"}),
        ({"field": "login", "operator": "like", "value": "ANNA%"}, set()),  # like is case-sensitive
        ({"field": "company_name", "operator": "=", "value": "acme_corp"}, {owner.user.username, *STAFF}),
        ({"field": "company_name", "operator": "!=", "value": "acme_corp"}, set()),
    ]
    for condition, expected in cases:
        rows = ok(await rpc(client, "get.users", owner.params(filter=condition, fields=["login"])))
        assert {r["login"] for r in rows} == expected, condition


async def test_list_filters_up_to_their_bounds(client: httpx.AsyncClient, owner: Caller, staff: list[int]) -> None:
    """2000 overlap values (the whole filter's bound) compile to one test per list: an OR per value nested deeper
    than SQLite's expression tree allows (the issue's ~900 values answered internal_error)."""
    lists = [[f"NO_ROLE_{n}_{i}" for i in range(500)] for n in range(4)]
    lists[3][-1] = "COMPANYOWNER"
    condition = {"condition": "or", "filters": [{"field": "roles", "operator": "overlap", "value": v} for v in lists]}
    rows = ok(await rpc(client, "get.users", owner.params(filter=condition, fields=["login"])))
    assert [r["login"] for r in rows] == [owner.user.username]
    negated = {"field": "roles", "operator": "not_overlap", "value": lists[3]}
    rows = ok(await rpc(client, "get.users", owner.params(filter=negated, fields=["login"])))
    assert {r["login"] for r in rows} == set(STAFF)


async def test_date_times_in_the_callers_timezone(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    eastern = await make_caller(services, make_user, roles=[Role.COMPANYOWNER], timezone=3)
    created = (await services.identity.get_account_by_id(eastern.user.id)).created_at
    local = (created + timedelta(hours=3)).replace(microsecond=0)

    def shown(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    [row] = ok(await rpc(client, "get.users", eastern.params(fields=["creation_date"])))
    assert row == {"creation_date": shown(local)}
    second = timedelta(seconds=1)
    for op, value, hit in (
        ("=", local, True),
        ("<", local, False),
        ("<=", local, True),
        (">", local - second, True),
        (">", local, False),
        (">=", local + second, False),
        ("!=", local, False),
        ("!=", local + second, True),
    ):
        condition = {"field": "creation_date", "operator": op, "value": shown(value)}
        assert len(ok(await rpc(client, "get.users", eastern.params(filter=condition)))) == int(hit), (op, value)


GET_ERRORS: list[tuple[str, str, dict[str, Any], str, str | None]] = [
    (
        "unknown filter field",
        "get.users",
        {"filter": {"field": "shoe", "operator": "=", "value": 1}},
        "unexpected_parameters",
        "filter.field",
    ),
    (
        "not filterable",
        "get.audit_actions",
        {
            "filter": {"field": "process_code", "operator": "=", "value": "x"},
            "date_from": "2026-01-01 00:00:00",
            "date_till": "2026-01-02 00:00:00",
        },
        "filter_prohibited",
        "filter.field",
    ),
    ("not sortable", "get.users", {"sort": [{"field": "roles"}]}, "sort_prohibited", "sort.0.field"),
    ("unknown sort field", "get.users", {"sort": [{"field": "shoe"}]}, "unexpected_parameters", "sort.0.field"),
    (
        "bad order",
        "get.users",
        {"sort": [{"field": "login", "order": "up"}]},
        "invalid_parameter_value",
        "sort.0.order",
    ),
    ("unknown fields", "get.users", {"fields": ["login", "shoe"]}, "unexpected_parameters", "fields"),
    (
        "jsquery",
        "get.users",
        {"filter": {"field": "roles", "operator": "jsquery", "value": {"a": 1}}},
        "invalid_parameter_value",
        "filter.value",
    ),
    (
        "bad regexp",
        "get.users",
        {"filter": {"field": "login", "operator": "regexp", "value": "(["}},
        "invalid_parameter_value",
        "filter.value",
    ),
    (
        "operator vs type",
        "get.users",
        {"filter": {"field": "login", "operator": ">", "value": "a"}},
        "invalid_parameter_value",
        "filter.value",
    ),
    (
        "value vs type",
        "get.users",
        {"filter": {"field": "id", "operator": "=", "value": "1"}},
        "invalid_parameter_value",
        "filter.value",
    ),
    (
        "bad date-time",
        "get.users",
        {"filter": {"field": "creation_date", "operator": ">", "value": "2026-01-01T00:00"}},
        "invalid_parameter_value",
        "filter.value",
    ),
    (
        "unknown operator",
        "get.users",
        {"filter": {"field": "id", "operator": "~", "value": 1}},
        "invalid_parameter_value",
        "filter.operator",
    ),
    (
        "nested error path",
        "get.users",
        {
            "filter": {
                "condition": "and",
                "filters": [
                    {"field": "id", "operator": "=", "value": 1},
                    {"field": "id", "operator": "in", "value": []},
                ],
            }
        },
        "invalid_parameter_value",
        "filter.filters.1.value",
    ),
    (
        "bad condition",
        "get.users",
        {"filter": {"condition": "xor", "filters": [{"field": "id", "operator": "is_null"}]}},
        "invalid_parameter_value",
        "filter.condition",
    ),
    (
        "list over 500 values",
        "get.users",
        {"filter": {"field": "roles", "operator": "overlap", "value": [f"R{i}" for i in range(501)]}},
        "invalid_parameter_value",
        "filter.value",
    ),
    (
        "in list over 500 values",
        "get.users",
        {"filter": {"field": "id", "operator": "in", "value": list(range(1, 502))}},
        "invalid_parameter_value",
        "filter.value",
    ),
    (
        "over 2000 list values in all",
        "get.users",
        {
            "filter": {
                "condition": "or",
                "filters": [
                    {"field": "login", "operator": "in", "value": [f"u{n}_{i}" for i in range(500)]} for n in range(5)
                ],
            }
        },
        "invalid_parameter_value",
        "filter.filters.4.value",
    ),
    ("limit 0", "get.users", {"limit": 0}, "invalid_parameter_value", "limit"),
    ("limit over", "get.users", {"limit": 10_001}, "invalid_parameter_value", "limit"),
    ("offset over", "get.users", {"offset": 100_001}, "invalid_parameter_value", "offset"),
    ("limit a string", "get.users", {"limit": "5"}, "data_type_error", "limit"),
    ("report dates missing", "get.audit_actions", {}, "required_parameter_missed", "date_from"),
    (
        "report too long",
        "get.audit_actions",
        {"date_from": "2026-01-01 00:00:00", "date_till": "2026-04-01 00:00:01"},
        "date_interval_limit_reached",
        "date_till",
    ),
    (
        "report ends before it starts",
        "get.audit_actions",
        {"date_from": "2026-01-02 00:00:00", "date_till": "2026-01-01 00:00:00"},
        "invalid_parameters_combination",
        "date_till",
    ),
    (
        "report bad date",
        "get.usage_statistics",
        {"date_from": "2026-01-01", "date_till": "2026-01-02 00:00:00"},
        "invalid_date_time",
        "date_from",
    ),
]


@pytest.mark.parametrize(("row", "method", "params", "name", "field"), GET_ERRORS, ids=[c[0] for c in GET_ERRORS])
async def test_get_errors(
    client: httpx.AsyncClient,
    owner: Caller,
    row: str,
    method: str,
    params: dict[str, Any],
    name: str,
    field: str | None,
) -> None:
    body = await rpc(client, method, owner.params(**params))
    assert _err(body) == (name, field)
    assert body["error"]["code"] == -32602


async def test_rights_like_the_admin_api(client: httpx.AsyncClient, services: Services, make_user: UserFactory) -> None:
    user = await make_caller(services, make_user, roles=[Role.USER])
    for method in ("get.users", "get.companies", "get.api_keys", "create.users"):
        body = await rpc(client, method, user.params())
        assert (body["error"]["code"], mnemonic(body)) == (-32003, "forbidden"), method
    support = await make_caller(services, make_user, roles=[Role.SUPPORT], company="platform")
    await make_user("far_away", company="elsewhere")
    logins = {r["login"] for r in ok(await rpc(client, "get.users", support.params(fields=["login"])))}
    assert {"far_away", user.user.username, support.user.username} <= logins  # SUPPORT reads every company
    companies = {r["name"] for r in ok(await rpc(client, "get.companies", support.params()))}
    assert companies == {"acme_corp", "platform", "elsewhere"}
    body = await rpc(client, "disable.users", support.params(id=user.user.id))  # SUPPORT is read-only
    assert mnemonic(body) == "forbidden"


async def test_user_lifecycle(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, owner: Caller
) -> None:
    created = ok(
        await rpc(
            client,
            "create.users",
            owner.params(
                login="new_hand",
                password="s3cret-pass",
                email="new@example.com",
                phone="+7 495 123 45 67",
                roles=["USER"],
                timezone=2,
            ),
        )
    )
    uid = created["id"]
    assert isinstance(uid, int)
    duplicate = await rpc(client, "create.users", owner.params(login="new_hand", password="s3cret-pass"))
    assert mnemonic(duplicate) == "duplicate_entity"
    platform = await rpc(
        client, "create.users", owner.params(login="new_boss", password="s3cret-pass", roles=["ADMIN"])
    )
    assert mnemonic(platform) == "forbidden"
    missing = await rpc(client, "create.users", owner.params(login="x_y"))
    assert _err(missing) == ("required_parameter_missed", "password")

    def one(**extra: Any) -> dict[str, Any]:
        return owner.params(filter={"field": "id", "operator": "=", "value": uid}, **extra)

    # partial update: untouched fields stay, null clears, arrays are replaced whole
    assert ok(await rpc(client, "update.users", owner.params(id=uid, email=None, roles=["CREWMANAGER", "BOT"]))) == {
        "id": uid
    }
    [row] = ok(await rpc(client, "get.users", one(fields=["email", "phone", "roles", "timezone", "is_active"])))
    assert row == {
        "email": None,
        "phone": "+7 495 123 45 67",
        "roles": ["CREWMANAGER", "BOT"],
        "timezone": 2,
        "is_active": True,
    }
    assert ok(await rpc(client, "update.users", owner.params(id=uid, roles=None))) == {"id": uid}
    assert ok(await rpc(client, "get.users", one(fields=["roles"]))) == [{"roles": []}]
    for bad in ({"timezone": 13}, {"timezone": None}, {"company_id": None}, {"password": None}, {"roles": ["KING"]}):
        assert mnemonic(await rpc(client, "update.users", owner.params(id=uid, **bad))) == "invalid_parameter_value"
    assert mnemonic(await rpc(client, "update.users", owner.params(id=uid, is_active="yes"))) == "data_type_error"
    assert ok(await rpc(client, "disable.users", owner.params(id=uid))) == {"id": uid}
    assert ok(await rpc(client, "get.users", one(fields=["is_active"]))) == [{"is_active": False}]
    assert ok(await rpc(client, "enable.users", owner.params(id=uid))) == {"id": uid}
    assert ok(await rpc(client, "get.users", one(fields=["is_active"]))) == [{"is_active": True}]
    # another company's user is not found (no existence leak)
    stranger = await make_user("stranger", company="other_corp")
    for method in ("update.users", "delete.users", "disable.users"):
        assert mnemonic(await rpc(client, method, owner.params(id=stranger.id))) == "entity_not_found", method
    assert mnemonic(await rpc(client, "delete.users", owner.params(id=owner.user.id))) == "forbidden"  # not yourself
    assert ok(await rpc(client, "delete.users", owner.params(id=uid))) == {"id": uid}
    assert ok(await rpc(client, "get.users", one())) == []
    assert mnemonic(await rpc(client, "delete.users", owner.params(id=uid))) == "entity_not_found"


async def test_api_keys_audit_and_usage(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, owner: Caller, clock: Any
) -> None:
    keys = ok(await rpc(client, "get.api_keys", owner.params()))
    assert [(k["login"], k["is_permanent"], k["is_blocked"], k["name"]) for k in keys] == [
        (owner.user.username, True, False, "tests")
    ]
    assert owner.key[:20] == keys[0]["prefix"] and owner.key[21:] not in str(keys)
    other = await make_caller(services, make_user, roles=[Role.COMPANYOWNER], company="other_corp")
    assert len(ok(await rpc(client, "get.api_keys", other.params()))) == 1  # its own company's only
    await services.audit.flush()
    now = clock.now()
    window = {
        "date_from": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "date_till": (now + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
    }
    actions = ok(
        await rpc(
            client,
            "get.audit_actions",
            owner.params(
                **window,
                filter={"field": "operation", "operator": "=", "value": "get.api_keys"},
                fields=["login", "service", "operation", "status", "points"],
            ),
        )
    )
    assert actions == [
        {
            "login": owner.user.username,
            "service": "REGISTRY",
            "operation": "get.api_keys",
            "status": "FINISHED_IN_TIME",
            "points": 1,
        }
    ]
    # date_from and date_till name whole seconds, both inclusive: an action within that one second is found
    only = {"field": "operation", "operator": "=", "value": "get.api_keys"}
    [shown] = ok(await rpc(client, "get.audit_actions", owner.params(**window, filter=only, fields=["start_date"])))
    second = {"date_from": shown["start_date"], "date_till": shown["start_date"]}
    assert len(ok(await rpc(client, "get.audit_actions", owner.params(**second, filter=only)))) == 1
    await services.audit.flush()
    stats = ok(
        await rpc(
            client,
            "get.usage_statistics",
            owner.params(
                **window, filter={"field": "service", "operator": "=", "value": "REGISTRY"}, sort=[{"field": "points"}]
            ),
        )
    )
    assert len(stats) == 1 and stats[0]["login"] == owner.user.username and stats[0]["points"] >= 2
    assert stats[0]["date"] == now.strftime("%Y-%m-%d")


async def test_get_account_follows_the_get_conventions(client: httpx.AsyncClient, owner: Caller) -> None:
    """Seed 003's get: ``fields`` chooses the columns and ``metadata.total_items`` counts every match."""
    body = await rpc(client, "get.account", owner.params())
    [row] = ok(body)
    assert set(row) == {"app_id", "name", "timezone", "user_id", "login"} and row["login"] == owner.user.username
    assert body["result"]["metadata"]["total_items"] == 1
    chosen = await rpc(client, "get.account", owner.params(fields=["login", "app_id"]))
    assert ok(chosen) == [{"login": owner.user.username, "app_id": row["app_id"]}]
    assert chosen["result"]["metadata"]["total_items"] == 1
    assert ok(await rpc(client, "get.account", owner.params(offset=1))) == []
    unknown = await rpc(client, "get.account", owner.params(fields=["password"]))
    assert _err(unknown) == ("unexpected_parameters", "fields")
    filtered = await rpc(client, "get.account", owner.params(filter={"field": "login", "operator": "=", "value": "x"}))
    assert _err(filtered) == ("filter_prohibited", "filter.field")


def test_the_readme_names_every_data_api_method() -> None:
    from pathlib import Path

    from cabinet.apis.data import methods
    from cabinet.apis.data.registry import REGISTRY

    methods.load()
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in REGISTRY if f"`{name}`" not in readme)
    assert not missing, f"the README's Data API section lacks {missing}"
