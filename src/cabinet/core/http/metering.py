"""Declaring a metered operation on a route, once: its operationId, service, process type, points.

    @router.get("/info", **account_operation("read_info", ProcessType.NOTRACE))

The generated dependency resolves the caller (the API's own principal dependency), keeps the input body of
operations that store payloads, and asks the Meter to admit the request (quotas). The root middleware hands the
finished request back to the Meter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request

from cabinet.core.http.runtime import meter_of
from cabinet.core.metering import Operation, ProcessType, Service
from cabinet.core.metering import declare as declare_operation
from cabinet.core.principal import Principal


def metered_operation(service: Service, principal_dependency: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    """A declaration helper bound to one API's service name and principal dependency."""

    def declare(
        name: str, process_type: ProcessType, *, points: int = 1, store_payloads: bool = True, charged: bool = True
    ) -> dict[str, Any]:
        operation = declare_operation(
            Operation(
                name=name,
                service=service,
                process_type=process_type,
                points=points if charged else 0,
                store_payloads=store_payloads,
                charged=charged,
            )
        )

        async def admit(request: Request, principal: Principal = Depends(principal_dependency)) -> None:
            body = await request.body() if operation.keeps_payloads and request.method != "GET" else None
            route = request.scope.get("route")
            success_status = getattr(route, "status_code", None) or 200
            await meter_of(request).admit(operation, principal, body, success_status=success_status)

        return {
            "operation_id": name,
            "dependencies": [Depends(admit)],
            "openapi_extra": {
                "x-cabinet-operation": {"service": service.value, "process_type": process_type.value, "points": points}
            },
        }

    return declare
