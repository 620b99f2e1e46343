"""Fixtures of the Admin API's webhook tests: a running receiver and an ADMIN caller (a module may define its
own ``admin``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from cabinet.core.roles import Role
from tests.apis.admin.webhook_support import Receiver
from tests.helpers import UserFactory, bearer, login


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    if r.server is not None:
        await r.stop()


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_user: UserFactory) -> dict[str, str]:
    return bearer(await login(client, await make_user(company="ops_co", roles=[Role.ADMIN])))
