from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.apis.web.support import web_client


@pytest.fixture
async def browser_a(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(app) as client:
        yield client


@pytest.fixture
async def browser_b(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with web_client(app) as client:
        yield client
