"""Admin API dependencies: the caller, coarse permission checks, metered operation declarations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from cabinet.apis.shared.auth import access_token_principal, require_operator, services
from cabinet.core.http.metering import metered_operation
from cabinet.core.metering import Service
from cabinet.core.principal import Principal
from cabinet.domains.registry import Services

ServicesDep = Annotated[Services, Depends(services)]


async def admin_reader(principal: Annotated[Principal, Depends(access_token_principal)]) -> Principal:
    """Anyone who may read in the Admin API: ADMIN, OVERLORD, SUPPORT (all companies), COMPANYOWNER (its own)."""
    return require_operator(principal, write=False)


async def admin_writer(principal: Annotated[Principal, Depends(admin_reader)]) -> Principal:
    """Anyone who may change something in the Admin API: ADMIN, OVERLORD (all), COMPANYOWNER (its own)."""
    return require_operator(principal, write=True)


Reader = Annotated[Principal, Depends(admin_reader)]
Writer = Annotated[Principal, Depends(admin_writer)]

# Declare a metered Admin operation on a route (reads resolve the reader, writes the writer).
admin_read = metered_operation(Service.ADMIN, admin_reader)
admin_write = metered_operation(Service.ADMIN, admin_writer)
