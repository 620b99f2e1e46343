"""Adversarial parameters: whatever a get.* or update.* call carries, the answer is a documented error or a
result, never internal_error (hypothesis drives random JSON through the real app)."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabinet.apis.data.methods.directory import USER_FIELDS
from cabinet.core.query import OPERATORS
from tests.apis.data.support import Caller, rpc

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["2026-01-01 00:00:00", "2026-13-01 00:00:00", "%a%", "([", "^a", ""])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
names = st.sampled_from([f.name for f in USER_FIELDS]) | st.text(max_size=8)
operators = st.sampled_from(sorted(OPERATORS)) | st.text(max_size=4)
simple = st.fixed_dictionaries(
    {"field": names | json_values, "operator": operators | json_values}, optional={"value": json_values}
)
filters = st.recursive(
    simple | json_values,
    lambda inner: st.fixed_dictionaries(
        {"filters": st.lists(inner, max_size=3) | json_values},
        optional={"condition": st.sampled_from(["and", "or"]) | json_values},
    ),
    max_leaves=6,
)
get_params = st.fixed_dictionaries(
    {},
    optional={
        "filter": filters,
        "sort": st.lists(
            st.fixed_dictionaries({"field": names}, optional={"order": st.sampled_from(["asc", "desc"]) | json_values}),
            max_size=2,
        )
        | json_values,
        "fields": st.lists(names, max_size=3) | json_values,
        "limit": st.integers(-2, 10_002) | json_values,
        "offset": st.integers(-2, 100_002) | json_values,
        "user_id": json_values,
    },
)
update_params = st.fixed_dictionaries(
    {"id": st.just("self") | st.integers(-(2**64), 2**64) | json_values},
    optional={k: json_values for k in ("name", "email", "phone", "roles", "timezone", "company_id", "is_active")},
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(params=get_params)
async def test_get_users_never_fails_inside(
    client: httpx.AsyncClient, owner: Caller, roomy: None, params: dict[str, Any]
) -> None:
    body = await rpc(client, "get.users", {**params, "access_token": owner.key}) if _encodable(params) else None
    if body is not None and "error" in body:
        assert body["error"]["data"]["mnemonic"] != "internal_error", (params, body)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(params=update_params)
async def test_update_users_never_fails_inside(
    client: httpx.AsyncClient, owner: Caller, roomy: None, params: dict[str, Any]
) -> None:
    params = {**params, "id": owner.user.id} if params["id"] == "self" else params
    body = await rpc(client, "update.users", {**params, "access_token": owner.key}) if _encodable(params) else None
    if body is not None and "error" in body:
        assert body["error"]["data"]["mnemonic"] != "internal_error", (params, body)


def _encodable(value: Any) -> bool:
    try:
        httpx.Request("POST", "http://x", json=value)
    except (TypeError, ValueError):
        return False
    return True
