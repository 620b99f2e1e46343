"""Data API fixtures (the helpers are in ``support.py``)."""

from __future__ import annotations

import pytest

from cabinet.core.roles import Role
from cabinet.domains.registry import Services
from tests.apis.data.support import Caller, make_caller
from tests.helpers import UserFactory


@pytest.fixture
async def owner(services: Services, make_user: UserFactory) -> Caller:
    return await make_caller(services, make_user, roles=[Role.COMPANYOWNER])


@pytest.fixture
def roomy(services: Services) -> None:
    """No minute budget in the way: every example of a property test reaches the parameter checks."""
    services.quotas.default_minute_points = 100_000
    services.quotas._budget_cache.clear()
