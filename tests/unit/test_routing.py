"""The routing table decides which API answers (and renders the errors of) each path."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from cabinet.routing import routing_table
from cabinet.runtime import Runtime
from cabinet.settings import Settings


@pytest.fixture(scope="module")
def table():  # type: ignore[no-untyped-def]
    return routing_table(Runtime(Settings(database_url="sqlite:///unused.sqlite3", secret_key="x" * 32)))


@pytest.mark.parametrize(
    ("path", "owner"),
    [
        ("/account", "/account"),
        ("/account/info", "/account"),
        ("/admin/users", "/admin"),
        ("/ui/login", "/ui"),
        ("/v2.0", "/v2.0"),
        ("/v1.0/docs", "/v1.0"),
        ("/v9.9/", "data"),  # a version not served: the Data API's format
        ("/v3.0", "data"),
        ("/accounting", "root"),  # a prefix is a whole path segment
        ("/call/1", "root"),
        ("/", "root"),
    ],
)
def test_each_path_has_one_owner(table, path: str, owner: str) -> None:  # type: ignore[no-untyped-def]
    by_prefix = {api.prefix: api.app for api in table.apis}
    expected = {"data": table.data_api, "root": table.root}.get(owner) or by_prefix[owner]
    assert table.owner(path) is expected
    assert table.data_api is by_prefix["/v2.0"]


def test_every_route_is_complete_when_declared(table) -> None:  # type: ignore[no-untyped-def]
    """No API includes a router: FastAPI resolves an included router's routes lazily, anew for every app (about
    6 ms a route on each process's, and each test app's, first requests). Every route is declared with its API's
    router factory, bound to the operation, and added as it is."""
    apps = [api.app for api in table.apis] + [table.root]
    for app in apps:
        kinds = {type(route).__name__ for route in app.router.routes}
        assert "_IncludedRouter" not in kinds, app.title
        api_routes = [route for route in app.router.routes if isinstance(route, APIRoute)]
        assert api_routes or app is table.data_api, app.title
        rpc = "Data API" in app.title  # JSON-RPC: one endpoint per version, bound by the protocol itself
        assert rpc or all(getattr(route, "binding", None) for route in api_routes), app.title


def test_a_route_without_its_operation_binding_stops_the_start() -> None:
    from fastapi import APIRouter, FastAPI

    from cabinet.apis.account.deps import bind_operation
    from cabinet.apis.account.routes import api_router
    from cabinet.core.http.subapp import add_routes

    plain = APIRouter()

    @plain.get("/escapes")
    async def escapes() -> None: ...

    bound = api_router()

    @bound.get("/metered")
    async def metered() -> None: ...

    app = FastAPI()
    add_routes(app, [bound], required=bind_operation)
    assert [getattr(route, "path", None) for route in app.router.routes][-1] == "/metered"
    assert getattr(app.router.routes[-1], "binding", None) is bind_operation
    with pytest.raises(RuntimeError, match="/escapes"):
        add_routes(app, [plain], required=bind_operation)
