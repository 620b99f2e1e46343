"""The contractor objects over the Data API (issue 7): get.calls, get.call_tasks, get.call_messages,
get.call_jeopardies, get.call_costs, get.notifications and create.call_messages, with the contractor API's rights
and scope.

One world per test, built through the contractor REST API and the domain: tenant X with its ERP (BOT),
contractors A and B (USER) and a crew manager M; tenant Y with its contractor C. A owns calls a1 (critical),
a2 (ttf passed: expired) and a3; B owns b1 (Closed); C owns c1."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabinet.core.clock import OffsetClock
from cabinet.core.roles import Role
from cabinet.domains.credentials.schemas import PLATFORM_OPERATOR
from cabinet.domains.fieldservice.schemas import ExpenseLine, MaterialLine
from cabinet.domains.fieldservice.states import CallStatus, MaterialOwner
from cabinet.domains.registry import Services
from tests.apis.contractor.support import Tenant, make_tenant
from tests.apis.data.support import Caller, make_caller, mnemonic, ok, rpc
from tests.helpers import UserFactory, table_reads


@dataclass
class World:
    erp: Caller
    erp_y: Caller
    a: Caller
    b: Caller
    m: Caller
    c: Caller
    x: Tenant
    calls: dict[str, int]


def _erp(services: Services, tenant: Tenant) -> Caller:
    key = tenant.erp["Authorization"].removeprefix("Bearer ")
    return Caller(None, key, services)  # type: ignore[arg-type]


@pytest.fixture
async def world(client: httpx.AsyncClient, services: Services, make_user: UserFactory) -> World:
    x, y = await make_tenant(services), await make_tenant(services)
    for tenant in (x, y):
        await services.credentials.allow_network(PLATFORM_OPERATOR, tenant.company, "127.0.0.0/8")
    a, b, m = [
        await make_caller(services, make_user, roles=[role], company=x.company, network=None)
        for role in (Role.USER, Role.USER, Role.CREWMANAGER)
    ]
    c = await make_caller(services, make_user, roles=[Role.USER], company=y.company, network=None)
    calls = {
        "a1": (await x.dispatch(client, a.user.id, critical=True, ttf="2031-01-01T00:00:00Z"))["id"],
        "a2": (await x.dispatch(client, a.user.id, created="2026-11-21T09:00:00Z", ttf="2020-01-01T00:00:00Z"))["id"],
        "a3": (await x.dispatch(client, a.user.id, created="2026-11-22T09:00:00Z", clientName="Cafe"))["id"],
        "b1": (await x.dispatch(client, b.user.id, critical=True, created="2026-11-23T09:00:00Z"))["id"],
        "c1": (await y.dispatch(client, c.user.id))["id"],
    }
    as_a = await services.credentials.authenticate_key(a.key)
    as_b = await services.credentials.authenticate_key(b.key)
    await services.jeopardies.raise_jeopardy(as_a, calls["a2"], "parts late")
    message = {"message": "gate code 1234", "date": "2026-11-24T10:00:00Z"}
    response = await client.post(f"/call/{calls['a1']}/dispatcher/message", json=message, headers=x.erp)
    assert response.status_code == 200, response.text
    for status in (CallStatus.COMMITTED, CallStatus.DONE):
        await services.calls.change_status(as_b, calls["b1"], status, None)
    assert (await client.post(f"/call/{calls['b1']}/close", headers=x.erp)).status_code in (200, 204)
    return World(_erp(services, x), _erp(services, y), a, b, m, c, x, calls)


async def _get(client: httpx.AsyncClient, who: Caller, method: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    body = await rpc(client, method, who.params(**params))
    return ok(body), body["result"]["metadata"]["total_items"]


async def test_get_calls_scoped_like_the_contractor_api(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, world: World
) -> None:
    w = world.calls
    company = {w["a1"], w["a2"], w["a3"], w["b1"]}
    for who, expected in (
        (world.erp, company),
        (world.m, company),
        (world.a, {w["a1"], w["a2"], w["a3"]}),
        (world.b, {w["b1"]}),
        (world.c, {w["c1"]}),
        (world.erp_y, {w["c1"]}),
    ):
        rows, total = await _get(client, who, "get.calls")
        assert {r["id"] for r in rows} == expected and total == len(expected)
    rows, _ = await _get(client, world.erp, "get.calls", sort=[{"field": "id"}])
    by_id = {r["id"]: r for r in rows}
    a1, a2, b1 = by_id[w["a1"]], by_id[w["a2"]], by_id[w["b1"]]
    assert (a1["critical"], a1["is_expired"], a1["status"], a1["owner_id"]) == (True, False, "New", world.a.user.id)
    assert (a2["is_expired"], a2["has_jeopardy"], a2["ttf"]) == (True, True, "2020-01-01 00:00:00")
    assert (b1["status"], b1["is_expired"]) == ("Closed", False) and b1["finish_date"] is not None
    assert a1["client_name"] == "Bank of Tests" and a1["creation_date"] == "2026-11-20 09:00:00"
    assert "description_html" not in a1 and a1["service_object_latitude"] == 55.75
    # platform roles without contractor rights, and an agent without user_id: forbidden, like the REST API
    for role in (Role.ADMIN, Role.SUPPORT, Role.PARTNER):
        outsider = await make_caller(services, make_user, roles=[role], company="platform_co")
        for method in ("get.calls", "get.call_tasks", "get.call_messages", "get.call_jeopardies"):
            assert mnemonic(await rpc(client, method, outsider.params())) == "forbidden"


async def test_get_calls_filter_sort_paging(client: httpx.AsyncClient, world: World) -> None:
    w, erp = world.calls, world.erp
    three = {
        "filters": [
            {"field": "critical", "operator": "=", "value": False},
            {"field": "status", "operator": "in", "value": ["New", "Committed"]},
            {"field": "owner_id", "operator": "=", "value": world.a.user.id},
        ],
        "condition": "and",
    }
    sort = [{"field": "creation_date", "order": "desc"}]
    rows, total = await _get(client, erp, "get.calls", filter=three, sort=sort, fields=["id", "number"])
    assert [r["id"] for r in rows] == [w["a3"], w["a2"]] and total == 2 and set(rows[0]) == {"id", "number"}
    rows, total = await _get(client, erp, "get.calls", filter=three, sort=sort, limit=1, offset=1)
    assert [r["id"] for r in rows] == [w["a2"]] and total == 2
    rows, _ = await _get(client, erp, "get.calls", filter={"field": "is_expired", "operator": "=", "value": True})
    assert [r["id"] for r in rows] == [w["a2"]]
    either = {
        "filters": [
            {"field": "status", "operator": "=", "value": "Closed"},
            {"field": "client_name", "operator": "ilike", "value": "cafe"},
        ],
        "condition": "or",
    }
    rows, _ = await _get(client, erp, "get.calls", filter=either, sort=[{"field": "id", "order": "desc"}])
    assert [r["id"] for r in rows] == [w["b1"], w["a3"]]
    since = {"field": "creation_date", "operator": ">=", "value": "2026-11-22 00:00:00"}
    rows, _ = await _get(client, erp, "get.calls", filter=since, sort=[{"field": "creation_date"}])
    assert [r["id"] for r in rows] == [w["a3"], w["b1"]]
    rows, _ = await _get(
        client, erp, "get.calls", sort=[{"field": "critical", "order": "desc"}, {"field": "ttf", "order": "asc"}]
    )
    assert [r["id"] for r in rows][:2] in ([w["a1"], w["b1"]], [w["b1"], w["a1"]])
    rows, _ = await _get(client, world.a, "get.calls", filter={"field": "critical", "operator": "=", "value": True})
    assert [r["id"] for r in rows] == [w["a1"]]  # the filter never widens a confined contractor's scope
    for params, expected in (
        ({"filter": {"field": "description", "operator": "=", "value": "x"}}, ("filter_prohibited", "filter.field")),
        ({"sort": [{"field": "service_object_latitude"}]}, ("sort_prohibited", "sort.0.field")),
        ({"filter": {"field": "cost", "operator": "=", "value": 1}}, ("unexpected_parameters", "filter.field")),
        ({"filter": {"field": "critical", "operator": "like", "value": "x"}}, ("invalid_parameter_value", None)),
    ):
        body = await rpc(client, "get.calls", erp.params(**params))
        assert mnemonic(body) == expected[0]
        if expected[1]:
            assert body["error"]["data"]["field"] == expected[1]


async def test_tasks_messages_jeopardies(client: httpx.AsyncClient, world: World) -> None:
    w = world.calls
    a_calls = {w["a1"], w["a2"], w["a3"]}
    rows, total = await _get(client, world.a, "get.call_tasks")
    assert total == 6 and {r["call_id"] for r in rows} == a_calls
    assert {r["title"] for r in rows} == {"Diagnose", "Repair"} and {r["status"] for r in rows} == {"New"}
    _, total = await _get(client, world.erp, "get.call_tasks")
    assert total == 8
    rows, _ = await _get(
        client, world.c, "get.call_tasks", filter={"field": "call_id", "operator": "=", "value": w["a1"]}
    )
    assert rows == []  # another tenant's call: nothing
    rows, _ = await _get(
        client, world.erp, "get.call_tasks", filter={"field": "title", "operator": "=", "value": "Repair"}
    )
    assert len(rows) == 4
    rows, _ = await _get(client, world.a, "get.call_messages")
    assert [(r["call_id"], r["message"], r["is_dispatcher"], r["author_id"]) for r in rows] == [
        (w["a1"], "gate code 1234", True, None)
    ]
    assert rows[0]["date"] == "2026-11-24 10:00:00"
    for who in (world.b, world.c, world.erp_y):
        assert (await _get(client, who, "get.call_messages"))[1] == 0
    rows, _ = await _get(client, world.m, "get.call_jeopardies")
    assert [(r["call_id"], r["comment"], r["author_id"], r["is_answered"]) for r in rows] == [
        (w["a2"], "parts late", world.a.user.id, False)
    ]
    assert (await _get(client, world.b, "get.call_jeopardies"))[1] == 0
    open_ones = {"field": "is_answered", "operator": "=", "value": False}
    assert (await _get(client, world.erp, "get.call_jeopardies", filter=open_ones))[1] == 1


async def test_notifications_are_the_callers_own(client: httpx.AsyncClient, world: World) -> None:
    w = world.calls
    rows, total = await _get(client, world.a, "get.notifications", sort=[{"field": "id"}])
    assert total == 4
    assert [(r["kind"], r["call_id"]) for r in rows] == [
        ("call_assigned", w["a1"]),
        ("call_assigned", w["a2"]),
        ("call_assigned", w["a3"]),
        ("dispatcher_message", w["a1"]),
    ]
    assert all(r["is_read"] is False and r["read_date"] is None for r in rows)
    rows, total = await _get(
        client, world.b, "get.notifications", filter={"field": "kind", "operator": "=", "value": "call_closed"}
    )
    assert total == 1 and rows[0]["call_id"] == w["b1"]
    assert (await _get(client, world.m, "get.notifications"))[1] == 0  # the manager owns no call
    assert mnemonic(await rpc(client, "get.notifications", world.erp.params())) == "forbidden"


async def test_create_call_messages(client: httpx.AsyncClient, world: World) -> None:
    w = world.calls
    body = await rpc(client, "create.call_messages", world.a.params(call_id=w["a3"], message="on my way"))
    created = ok(body)["id"]
    assert "limits" in body["result"]["metadata"]
    rows, _ = await _get(
        client, world.erp, "get.call_messages", filter={"field": "id", "operator": "=", "value": created}
    )
    assert [(r["call_id"], r["message"], r["author_id"], r["is_dispatcher"]) for r in rows] == [
        (w["a3"], "on my way", world.a.user.id, False)
    ]
    # another contractor's call, another tenant's call: not found; the manager may write on any company call
    for who, call_id in ((world.b, w["a3"]), (world.c, w["a1"])):
        body = await rpc(client, "create.call_messages", who.params(call_id=call_id, message="hi"))
        assert mnemonic(body) == "entity_not_found" and body["error"]["data"]["field"] == "call_id"
    ok(await rpc(client, "create.call_messages", world.m.params(call_id=w["a1"], message="manager here")))
    # a Closed call takes no messages (the REST API's 409)
    body = await rpc(client, "create.call_messages", world.b.params(call_id=w["b1"], message="too late"))
    assert mnemonic(body) == "error" and body["error"]["code"] == -32602
    assert "closed" in body["error"]["message"].lower()
    body = await rpc(client, "create.call_messages", world.a.params(call_id=w["a3"], message="   "))
    assert mnemonic(body) == "invalid_parameter_value" and body["error"]["data"]["field"] == "message"
    assert mnemonic(await rpc(client, "create.call_messages", world.a.params(call_id=w["a3"]))) == (
        "required_parameter_missed"
    )
    # the external system writes dispatcher messages through the REST API, not as a contractor
    assert mnemonic(await rpc(client, "create.call_messages", world.erp.params(call_id=w["a3"], message="x"))) == (
        "forbidden"
    )
    assert (await _get(client, world.a, "get.call_messages"))[1] == 3


async def test_get_call_costs_scope_fields_filters_and_exact_money(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, world: World
) -> None:
    w = world.calls
    as_a = await services.credentials.authenticate_key(world.a.key)
    as_c = await services.credentials.authenticate_key(world.c.key)
    for who, cid in ((as_a, w["a1"]), (as_a, w["a3"]), (as_c, w["c1"])):
        await services.calls.change_status(who, cid, CallStatus.COMMITTED, None)
        await services.costs.create(who, cid)
    fuel = (await services.calls.get_call(as_a, w["a1"])).items[0].id
    await services.costs.add_expense(as_a, w["a1"], ExpenseLine(fuel, Decimal("1.5")))
    for price in ("0.1", "0.2"):
        await services.costs.add_material(
            as_a, w["a1"], MaterialLine("Fuse", "SN", MaterialOwner.CONTRACTOR, Decimal(1), Decimal(price))
        )
    await services.costs.send(as_a, w["a1"])
    await services.costs.add_material(
        as_c, w["c1"], MaterialLine("Belt", "", MaterialOwner.UNKNOWN, Decimal(2), Decimal("0.05"))
    )
    company = {w["a1"], w["a3"]}
    for who, expected in (
        (world.erp, company),
        (world.m, company),
        (world.a, company),
        (world.b, set()),
        (world.c, {w["c1"]}),
        (world.erp_y, {w["c1"]}),
    ):
        rows, total = await _get(client, who, "get.call_costs")
        assert {r["call_id"] for r in rows} == expected and total == len(expected)
    rows, _ = await _get(client, world.erp, "get.call_costs", sort=[{"field": "material_count", "order": "desc"}])
    a1, a3 = rows
    assert (a1["call_id"], a1["status"], a1["expense_count"], a1["material_count"]) == (w["a1"], "InProgress", 1, 2)
    assert a1["materials_total"] == "0.30" and a1["send_date"] is not None and a1["editable_until"] is None
    assert a1["expenses"] == [
        {"id": a1["expenses"][0]["id"], "expenditure_item_id": fuel, "count": 1.5, "status": "New"}
    ]
    assert [(m["price"], m["total"], m["owner_type"]) for m in a1["materials"]] == [
        (0.1, "0.10", "Contractor"),
        (0.2, "0.20", "Contractor"),
    ]
    assert (a3["status"], a3["materials_total"], a3["expenses"], a3["materials"]) == ("Draft", "0.00", [], [])
    # filters and sorts compile to SQL (line counts are correlated sub-queries); fields and paging
    for condition, expected_calls in (
        ({"field": "status", "operator": "=", "value": "Draft"}, [w["a3"]]),
        ({"field": "material_count", "operator": ">", "value": 1}, [w["a1"]]),
        ({"field": "expense_count", "operator": "=", "value": 0}, [w["a3"]]),
        ({"field": "send_date", "operator": "is_null"}, [w["a3"]]),
        ({"field": "status", "operator": "in", "value": ["InProgress", "Processed"]}, [w["a1"]]),
        (
            {
                "condition": "or",
                "filters": [
                    {"field": "call_id", "operator": "=", "value": w["a3"]},
                    {"field": "expense_count", "operator": ">=", "value": 1},
                ],
            },
            [w["a1"], w["a3"]],
        ),
    ):
        rows, total = await _get(
            client, world.erp, "get.call_costs", filter=condition, sort=[{"field": "call_id"}], fields=["call_id"]
        )
        assert [r["call_id"] for r in rows] == sorted(expected_calls) and total == len(expected_calls), condition
        assert all(set(r) == {"call_id"} for r in rows)
    rows, total = await _get(
        client, world.erp, "get.call_costs", sort=[{"field": "edit_date", "order": "desc"}], limit=1, offset=1
    )
    assert total == 2 and len(rows) == 1
    not_filterable = {"field": "materials_total", "operator": "=", "value": "0.30"}
    body = await rpc(client, "get.call_costs", world.erp.params(filter=not_filterable))
    assert mnemonic(body) == "filter_prohibited"
    outsider = await make_caller(services, make_user, roles=[Role.SUPPORT], company="platform_co")
    assert mnemonic(await rpc(client, "get.call_costs", outsider.params())) == "forbidden"


async def test_an_agent_acting_for_a_contractor_has_its_rights(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory, world: World
) -> None:
    w = world.calls
    agent = await make_caller(services, make_user, roles=[Role.PARTNER], company="agency")
    await services.sessions.link_client("agency", world.x.company)
    rows, _ = await _get(client, agent, "get.calls", user_id=world.a.user.id)
    assert {r["id"] for r in rows} == {w["a1"], w["a2"], w["a3"]}
    rows, _ = await _get(client, agent, "get.notifications", user_id=world.b.user.id)
    assert {r["kind"] for r in rows} == {"call_assigned", "call_closed"}
    created = ok(
        await rpc(
            client, "create.call_messages", agent.params(user_id=world.a.user.id, call_id=w["a2"], message="via agent")
        )
    )
    rows, _ = await _get(
        client, world.a, "get.call_messages", filter={"field": "id", "operator": "=", "value": created["id"]}
    )
    assert rows[0]["author_id"] == world.a.user.id
    # a company the agent is not linked to: refused before any data
    assert mnemonic(await rpc(client, "get.calls", agent.params(user_id=world.c.user.id))) == "forbidden"


# random filter trees over get.calls against a plain Python evaluation of the same rows (both backends)
DATES = ["2026-11-20 09:00:00", "2026-11-21 09:00:00", "2026-11-22 12:00:00", "2026-11-23 09:00:00"]
conditions = st.one_of(
    st.builds(lambda v: ("critical", "=", v), st.booleans()),
    st.builds(lambda v: ("is_expired", "=", v), st.booleans()),
    st.builds(lambda v: ("has_jeopardy", "!=", v), st.booleans()),
    st.builds(lambda v: ("status", "=", v), st.sampled_from(["New", "Closed", "Done"])),
    st.builds(
        lambda v: ("status", "in", v), st.lists(st.sampled_from(["New", "Committed", "Closed"]), min_size=1, max_size=3)
    ),
    st.builds(lambda op, v: ("creation_date", op, v), st.sampled_from(["<", ">=", "!="]), st.sampled_from(DATES)),
    st.builds(lambda v: ("client_name", "ilike", v), st.sampled_from(["%cafe%", "bank%", "%TESTS", "%q%"])),
    st.builds(lambda v: ("ttf", "is_null", v), st.none()),
    st.builds(lambda op, n: ("owner", op, n), st.sampled_from(["=", "!="]), st.sampled_from(["a", "b"])),
)
trees = st.recursive(
    conditions,
    lambda inner: st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=1, max_size=3)),
    max_leaves=6,
)


def _wire(tree: Any, owners: dict[str, int]) -> dict[str, Any]:
    if len(tree) == 2:
        return {"condition": tree[0], "filters": [_wire(t, owners) for t in tree[1]]}
    field, op, value = tree
    if field == "owner":
        field, value = "owner_id", owners[value]
    return {"field": field, "operator": op} | ({} if value is None else {"value": value})


def _holds(tree: Any, row: dict[str, Any], owners: dict[str, int]) -> bool:
    if len(tree) == 2:
        results = [_holds(t, row, owners) for t in tree[1]]
        return all(results) if tree[0] == "and" else any(results)
    field, op, value = tree
    if field == "owner":
        field, value = "owner_id", owners[value]
    have = row[field]
    if op == "ilike":
        text, pattern = have.lower(), value.lower()
        core = pattern.strip("%")
        starts, ends = not pattern.startswith("%"), not pattern.endswith("%")
        return (text.startswith(core) if starts else True) and (text.endswith(core) if ends else True) and core in text
    return {
        "=": lambda: have == value,
        "!=": lambda: have != value,
        "in": lambda: have in value,
        "<": lambda: have < value,
        ">=": lambda: have >= value,
        "is_null": lambda: have is None,
    }[op]()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(tree=trees)
async def test_random_filter_trees_match_a_python_reference(
    client: httpx.AsyncClient, world: World, roomy: None, tree: Any
) -> None:
    owners = {"a": world.a.user.id, "b": world.b.user.id}
    everything, _ = await _get(client, world.erp, "get.calls")
    expected = sorted(r["id"] for r in everything if _holds(tree, r, owners))
    rows, total = await _get(client, world.erp, "get.calls", filter=_wire(tree, owners), fields=["id"])
    assert sorted(r["id"] for r in rows) == expected and total == len(expected), (tree, rows)


async def test_get_calls_totals_are_exact_after_a_change_and_as_time_passes(
    app: Any, client: httpx.AsyncClient, world: World, clock: OffsetClock
) -> None:
    """The totals are kept per process under the company's change number and, with a filter on is_expired, until
    a call can next become expired: asked again they are not counted again; a new call, or time passing a
    deadline, shows in the next total."""
    erp = world.erp
    expired = {"field": "is_expired", "operator": "=", "value": True}
    in_time = {"field": "is_expired", "operator": "=", "value": False}

    async def totals() -> tuple[int, int]:
        # a page of one, so that the total is counted, not read off the page
        return (await _get(client, erp, "get.calls", filter=expired, limit=1))[1], (
            await _get(client, erp, "get.calls", filter=in_time, limit=1)
        )[1]

    before = await totals()
    assert before == (1, 3)  # a2's fix deadline passed; a1, a3 and b1 (closed) in time
    with table_reads(app, "contractor_call") as again:
        assert await totals() == before
    assert not [s for s in again if "count(" in s.lower()]
    soon = (clock.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    await world.x.dispatch(client, world.a.user.id, ttf=soon)
    assert await totals() == (1, 4)  # a change of the company's calls
    clock.advance(hours=2)
    assert await totals() == (2, 3)  # the new call's fix deadline passed, nothing changed
