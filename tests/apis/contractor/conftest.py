from __future__ import annotations

import pytest

from cabinet.domains.registry import Services
from tests.apis.contractor.support import Tenant, make_tenant


@pytest.fixture
async def tenant(services: Services) -> Tenant:
    return await make_tenant(services)
