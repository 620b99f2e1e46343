"""Property-based fuzzing of the Account API against its own OpenAPI document (schemathesis 4.x).

The schema is loaded from the mounted sub-app (``/account/openapi.json``; its ``servers`` entry gives the base
path ``/account``) and every operation is fuzzed in-process over ASGI. schemathesis runs the app's lifespan
itself, on its own event loop, so this module builds its own app (not the ``app`` fixture, whose lifespan
runs on the test's loop) and stops that lifespan when done.

schemathesis runs its examples, coverage (boundary and negative values of every constraint) and fuzzing
phases, positive and negative data, per operation; ``derandomize`` keeps every run identical, so a failure
here is reproducible and never flaky. Each operation is fuzzed once with a valid bearer token and once
without one (the 401 answers must be documented and well-formed too).
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

USERNAME = "fuzz_user"
PASSWORD = "correct_horse_battery"


async def _create_user(settings: Settings) -> None:
    """Create the fuzzing user through a throw-away app on this thread's loop (the DB is shared)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await application.state.runtime.services.identity.create_user(
            UserCreate(
                username=USERNAME,
                password=PASSWORD,
                company_key="fuzz_company",
                roles=[Role.USER],
                create_company=True,
            )
        )


@pytest.fixture
def fuzz_env(settings: Settings) -> Iterator[dict[str, Any]]:
    """The conftest ``settings`` (same backend, schema and Redis prefix as every other test), a user, a token."""
    asyncio.run(_create_user(settings))
    with fuzzed_app(settings) as (application, client):
        response = client.post("/account/token/generation", json={"username": USERNAME, "password": PASSWORD})
        assert response.status_code == 200, response.text
        token = response.json()
        yield {"app": application, "token": token}


@pytest.fixture
def account_schema(fuzz_env: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/account/openapi.json", fuzz_env["app"])


@pytest.fixture
def anonymous_account_schema(fuzz_env: dict[str, Any]) -> Any:
    return without_fuzzing_phase(schemathesis.openapi.from_asgi("/account/openapi.json", fuzz_env["app"]))


def test_document_lists_every_account_operation(account_schema: Any) -> None:
    """The fuzzing below is only as wide as the document: every operation of the contract must be in it."""
    raw = account_schema.raw_schema
    assert raw["servers"] == [{"url": "/account"}]
    operation_ids = {op["operationId"] for item in raw["paths"].values() for op in item.values() if "operationId" in op}
    assert operation_ids >= {
        "run_token_generation",
        "run_token_validation",
        "change_password",
        "read_info",
        "update_info",
        "read_quota",
        "generate_statistics",
        "generate_report",
        "read_audit",
        "read_data",
        "check",
        "version",
        "file",
    }


schema = schemathesis.pytest.from_fixture("account_schema")
anonymous = schemathesis.pytest.from_fixture("anonymous_account_schema")


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_account_api_conforms_to_its_openapi(case: schemathesis.Case, fuzz_env: dict[str, Any]) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_env['token']}"}, checks=CHECKS)


@anonymous.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_account_api_without_a_token_conforms_to_its_openapi(case: schemathesis.Case, fuzz_env: dict[str, Any]) -> None:
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    response = case.call_and_validate(checks=CHECKS)
    # a secured operation answers nothing but a refusal without a token (the coverage phase also probes other
    # methods on the path: those are 405s, checked by the checks above)
    if case.operation.definition.raw.get("security") and case.method.upper() == case.operation.method.upper():
        assert response.status_code in (400, 401, 413), response.text
