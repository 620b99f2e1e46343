"""The routing table decides which API answers (and renders the errors of) each path."""

from __future__ import annotations

import pytest

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
