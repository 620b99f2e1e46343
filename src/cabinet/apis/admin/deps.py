"""Admin API dependencies: the caller, coarse permission checks, metered operation declarations."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

from fastapi import Depends

from cabinet.apis.shared.auth import access_token_principal, require_operator, services
from cabinet.core.http.metering import metered_operation
from cabinet.core.metering import ProcessType, Service
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


@dataclass(frozen=True)
class AdminRoutes:
    """What every route of one Admin area declares alike, in one call: its tags, its metered operation (reads
    NOTRACE, writes TRACE) and its summary; anything else FastAPI takes passes through.

        KEYS = AdminRoutes(["API keys"])
        @router.post("/keys/{key_id}/rotate", **KEYS.write("rotate_api_key", "Rotate an API key.", ...))
    """

    tags: list[str | Enum]

    def read(self, name: str, summary: str, **extra: Any) -> dict[str, Any]:
        return {"tags": self.tags, **admin_read(name, ProcessType.NOTRACE), "summary": summary, **extra}

    def write(self, name: str, summary: str, *, store_payloads: bool = True, **extra: Any) -> dict[str, Any]:
        operation = admin_write(name, ProcessType.TRACE, store_payloads=store_payloads)
        return {"tags": self.tags, **operation, "summary": summary, **extra}
