"""rpc.discover and GET /v2.0/openrpc.json: an OpenRPC 1.3 document of exactly the registered methods, valid
against the published OpenRPC meta-schema (vendored in ``openrpc_meta_schema/``), whose schemas describe what
the methods really answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest

from cabinet.apis.data.registry import REGISTRY
from cabinet.core.roles import Role
from cabinet.domains.registry import Services
from tests.apis.data.support import make_caller, mnemonic, ok, rpc
from tests.helpers import UserFactory

META = Path(__file__).parent / "openrpc_meta_schema" / "schema.json"
SPEC_RELEASES = ["1.0.0", "1.1.0", "1.2.0", "1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5", "1.2.6", "1.3.0", "1.3.1"]
SPEC_RELEASES += ["1.3.2"]


def meta_validator() -> Any:
    schema = json.loads(META.read_text())
    schema["properties"]["openrpc"]["enum"] = SPEC_RELEASES  # what the meta-schema's release build fills in

    def retrieve(uri: str) -> dict[str, Any]:
        """The JSON Schema (draft 7) the document embeds: any schema here; each is checked against the draft-07
        meta-schema in the test), with the one definition the OpenRPC meta-schema points into."""
        assert uri.rstrip("/") == "https://meta.json-schema.tools", uri
        reference = {"type": "string", "format": "uri-reference"}
        return {"type": ["object", "boolean"], "definitions": {"JSONSchemaObject": {"properties": {"$ref": reference}}}}

    return jsonschema_rs.Draft7Validator(schema, retriever=retrieve)


def embedded_schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    schemas = list(document.get("components", {}).get("schemas", {}).values())
    for method in document["methods"]:
        schemas += [p["schema"] for p in method["params"]] + [method["result"]["schema"]]
    return schemas


def schema_validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A validator for one schema of the document, its ``#/components/...`` references resolved in it."""
    return jsonschema_rs.Draft7Validator({**schema, "components": document.get("components", {})})


async def discover(client: httpx.AsyncClient, **kwargs: Any) -> dict[str, Any]:
    body = await rpc(client, "rpc.discover", **kwargs)
    assert "result" in body, body
    return body["result"]  # type: ignore[no-any-return]


async def test_document_is_valid_openrpc_of_exactly_the_registered_methods(client: httpx.AsyncClient) -> None:
    document = await discover(client)
    errors = [f"{e.instance_path}: {e.message}" for e in meta_validator().iter_errors(document)]
    assert errors == []
    for schema in embedded_schemas(document):
        assert jsonschema_rs.meta.is_valid({"$schema": "http://json-schema.org/draft-07/schema#", **schema}), schema
    assert document["openrpc"].startswith("1.3.")
    assert sorted(m["name"] for m in document["methods"]) == sorted(REGISTRY)
    for described in document["methods"]:
        method = REGISTRY[described["name"]]
        assert [p["name"] for p in described["params"]] == list(method.params)
        assert {p["name"] for p in described["params"] if p["required"]} == {
            n for n, p in method.params.items() if p.required
        }
        mnemonics = {e["data"]["mnemonic"] for e in described["errors"]}
        assert "internal_error" in mnemonics
        assert ("access_token_invalid" in mnemonics) == method.authenticated
        assert ("sort_prohibited" in mnemonics) == method.is_get
        if method.is_get:
            row = described["result"]["schema"]["properties"]["data"]["items"]
            assert list(row["properties"]) == [f.name for f in method.fields]
    served = await client.get("/v2.0/openrpc.json")
    assert served.status_code == 200 and served.headers["content-type"].startswith("application/json")
    assert served.json() == document


async def test_limits_and_filters_are_published(client: httpx.AsyncClient) -> None:
    document = await discover(client)
    calls = next(m for m in document["methods"] if m["name"] == "get.calls")
    params = {p["name"]: p["schema"] for p in calls["params"]}
    assert params["limit"]["maximum"] == 10_000 and params["limit"]["minimum"] == 1
    assert params["offset"]["maximum"] == 100_000
    assert params["sort"]["maxItems"] == 10
    filters = schema_validator(document, params["filter"])
    assert filters.is_valid({"field": "id", "operator": "=", "value": 1})
    assert filters.is_valid({"filters": [{"field": "id", "operator": ">", "value": 1}], "condition": "or"})
    assert not filters.is_valid({"field": "no_such_field", "operator": "=", "value": 1})
    assert not filters.is_valid({"filters": []})


async def test_result_schemas_describe_real_answers(
    client: httpx.AsyncClient, services: Services, make_user: UserFactory
) -> None:
    document = await discover(client)
    by_name = {m["name"]: m for m in document["methods"]}
    caller = await make_caller(services, make_user, roles=[Role.COMPANYOWNER])
    for name, params in (
        ("get.account", {}),
        ("getobj.account", {}),
        ("get.users", {}),
        ("get.companies", {}),
        ("get.api_keys", {}),
    ):
        body = await rpc(client, name, caller.params(**params))
        ok(body)
        validator = schema_validator(document, by_name[name]["result"]["schema"])
        assert [e.message for e in validator.iter_errors(body["result"])] == [], name
    login = await rpc(client, "login.user", {"login": caller.user.username, "password": caller.user.password})
    assert schema_validator(document, by_name["login.user"]["result"]["schema"]).is_valid(login["result"])


async def test_discover_needs_no_token_and_takes_no_parameters(client: httpx.AsyncClient) -> None:
    absent = await client.post("/v2.0", json={"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"})
    assert absent.status_code == 200 and absent.json()["result"]["openrpc"].startswith("1.3.")
    assert mnemonic(await rpc(client, "rpc.discover", {"access_token": "x"})) == "unexpected_parameters"
    listed = await client.post("/v2.0", json={"jsonrpc": "2.0", "id": 2, "method": "rpc.discover", "params": []})
    assert listed.json()["error"]["data"]["mnemonic"] == "invalid_request"


@pytest.mark.parametrize("path", ["/v1.0"])
async def test_deprecated_version_describes_itself(client: httpx.AsyncClient, path: str) -> None:
    document = await discover(client, path=path)
    [server] = document["servers"]
    assert server["name"] == "v1.0" and server["url"].endswith("/v1.0")
    assert sorted(m["name"] for m in document["methods"]) == sorted(REGISTRY)
