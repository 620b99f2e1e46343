"""Property-based fuzzing of the Admin API against its own OpenAPI document (schemathesis 4.x).

The schema is loaded from the mounted sub-app (``/admin/openapi.json``; its ``servers`` entry gives the base
path ``/admin``) and every operation is fuzzed in-process over ASGI with an ADMIN's bearer token, and once
more without a token. schemathesis runs the app's lifespan itself, on its own event loop, so this module builds
its own app (not the ``app`` fixture, whose lifespan runs on the test's loop) and stops that lifespan when done.

The database holds the objects seed 002's examples name (company ``my_company`` and user
``my_username_for_login``), so the examples phase reaches the success answers (200, 204) and the conflicts
(409), not only 404s; the ADMIN doing the fuzzing lives in a company of its own. ``derandomize`` keeps every
run identical, so a failure here is reproducible and never flaky.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from cabinet.app import create_app
from cabinet.core.roles import Role
from cabinet.domains.identity.schemas import UserCreate
from cabinet.settings import Settings
from tests.contracts.fuzzing import CHECKS, fuzzed_app, without_fuzzing_phase

# once per CI, in the PostgreSQL + Redis pass (.ci/run): see the marker in pytest.ini
pytestmark = pytest.mark.schemathesis

USERNAME = "fuzz_admin"
PASSWORD = "correct_horse_battery"


async def _arrange(settings: Settings) -> None:
    """The fuzzing ADMIN and seed 002's example objects, through a throw-away app on this thread's loop."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        identity = application.state.runtime.services.identity
        for username, company, roles, password in (
            (USERNAME, "fuzz_company", [Role.ADMIN], PASSWORD),
            ("my_username_for_login", "my_company", [Role.USER], "my_password"),
        ):
            await identity.create_user(
                UserCreate(username=username, password=password, company_key=company, roles=roles, create_company=True)
            )


@pytest.fixture
def fuzz_env(settings: Settings) -> Iterator[dict[str, Any]]:
    """The conftest ``settings`` (same backend, schema and Redis prefix as every other test), data, a token."""
    asyncio.run(_arrange(settings))
    with fuzzed_app(settings) as (application, client):
        response = client.post("/account/token/generation", json={"username": USERNAME, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token = response.json()
        yield {"app": application, "token": token}


@pytest.fixture
def admin_schema(fuzz_env: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/admin/openapi.json", fuzz_env["app"])


@pytest.fixture
def anonymous_admin_schema(fuzz_env: dict[str, Any]) -> Any:
    return without_fuzzing_phase(schemathesis.openapi.from_asgi("/admin/openapi.json", fuzz_env["app"]))


def test_document_lists_every_directory_operation(admin_schema: Any) -> None:
    """The fuzzing below is only as wide as the document: every Admin operation is in it (companies, users,
    metering §5.4, keys and networks, webhooks), with bearer security on all but the system ones."""
    raw = admin_schema.raw_schema
    assert raw["servers"] == [{"url": "/admin"}]
    found = {
        (method.upper(), path, op.get("operationId"), bool(op.get("security")))
        for path, item in raw["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
    }
    assert found == {
        ("POST", "/companies", "create_company", True),
        ("PUT", "/companies", "update_company", True),
        ("GET", "/companies", "read_companies", True),
        ("GET", "/companies/{key}", "read_company", True),
        ("DELETE", "/companies/{key}", "delete_company", True),
        ("POST", "/users", "create_user", True),
        ("PUT", "/users", "update_user", True),
        ("GET", "/users", "read_users", True),
        ("GET", "/users/{username}", "read_user", True),
        ("DELETE", "/users/{username}", "delete_user", True),
        ("POST", "/users/{username}/keys", "create_api_key", True),
        ("GET", "/users/{username}/keys", "read_api_keys", True),
        ("POST", "/keys/{key_id}/block", "block_api_key", True),
        ("POST", "/keys/{key_id}/unblock", "unblock_api_key", True),
        ("DELETE", "/keys/{key_id}", "delete_api_key", True),
        ("POST", "/keys/{key_id}/rotate", "rotate_api_key", True),
        ("POST", "/users/{username}/keys/revoke-all", "revoke_api_keys", True),
        ("POST", "/companies/{key}/webhooks", "create_webhook", True),
        ("GET", "/companies/{key}/webhooks", "read_webhooks", True),
        ("GET", "/webhooks/{id}", "read_webhook", True),
        ("PUT", "/webhooks/{id}", "update_webhook", True),
        ("DELETE", "/webhooks/{id}", "delete_webhook", True),
        ("POST", "/webhooks/{id}/rotate-secret", "rotate_webhook_secret", True),
        ("POST", "/webhooks/{id}/test", "test_webhook", True),
        ("GET", "/webhooks/{id}/deliveries", "read_webhook_deliveries", True),
        ("POST", "/webhooks/deliveries/{id}/replay", "replay_webhook_delivery", True),
        ("GET", "/companies/{key}/networks", "read_networks", True),
        ("PUT", "/companies/{key}/networks", "update_networks", True),
        ("POST", "/companies/{key}/networks", "create_network", True),
        ("DELETE", "/companies/{key}/networks", "delete_network", True),
        ("GET", "/audit", "read_audit", True),
        ("GET", "/data/{tracecode}", "read_data", True),
        ("GET", "/statistics", "generate_statistics", True),
        ("GET", "/report", "generate_report", True),
        ("PUT", "/quota/{username}", "update_quota", True),
        ("GET", "/quota/{username}", "read_quota", True),
        ("DELETE", "/quota/{username}", "delete_quota", True),
        ("PUT", "/companies/{key}/quota", "update_company_quota", True),
        ("GET", "/companies/{key}/quota", "read_company_quota", True),
        ("DELETE", "/companies/{key}/quota", "delete_company_quota", True),
        ("GET", "/system/version", "version", False),
        ("GET", "/system/check", "check", False),
        ("GET", "/file/{filename}", "file", False),
    }


schema = schemathesis.pytest.from_fixture("admin_schema")
anonymous = schemathesis.pytest.from_fixture("anonymous_admin_schema")


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_admin_api_conforms_to_its_openapi(case: schemathesis.Case, fuzz_env: dict[str, Any]) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_env['token']}"}, checks=CHECKS)


@anonymous.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_admin_api_without_a_token_conforms_to_its_openapi(case: schemathesis.Case, fuzz_env: dict[str, Any]) -> None:
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    response = case.call_and_validate(checks=CHECKS)
    # a secured operation answers nothing but a refusal without a token (the coverage phase also probes other
    # methods on the path: those are 405s, checked by the checks above). A generated path parameter that
    # leaves the path unrouted (empty, or a bare newline) reaches no operation at all: the API's own 404 with
    # the operation "unknown", documented and checked above.
    if case.operation.definition.raw.get("security") and case.method.upper() == case.operation.method.upper():
        unrouted = response.status_code == 404 and response.json()["detail"]["tracedata"]["operation"] == "unknown"
        assert response.status_code in (400, 401, 413) or unrouted, response.text
