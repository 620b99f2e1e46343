"""A contractor's notifications: list (not in the seed), read one, read all."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Response

from cabinet.apis.contractor.deps import Caller, ServicesDep, contractor_operation
from cabinet.apis.contractor.keys import KeyedRoute
from cabinet.apis.contractor.mappers import json_list, notification_out
from cabinet.apis.contractor.routes import api_router
from cabinet.apis.contractor.schemas import INT64_MAX, ErrorDTO, NotificationDTO
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.domains.fieldservice.schemas import LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX

router = api_router(prefix="/notification", tags=["Notification"], route_class=KeyedRoute)


@router.get(
    "",
    **contractor_operation("listNotifications", ProcessType.NOTRACE),
    summary="The caller's notifications, unread first, newest first. X-Unread-Count tells how many are unread.",
    response_model=list[NotificationDTO],
)
async def list_notifications(
    principal: Caller,
    svc: ServicesDep,
    unreadOnly: bool = False,
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX)] = LIST_LIMIT_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    page = await svc.notifications.list(principal, limit=limit, offset=offset, unread_only=unreadOnly)
    set_result_elements(len(page.items))
    return json_list(NotificationDTO, page.items, notification_out, **{"X-Unread-Count": str(page.unread)})


@router.post(
    "/readAll",
    **contractor_operation("readAllNotifications", ProcessType.TRACE),
    summary="Mark every notification read; returns how many were marked.",
    response_model=int,
)
async def read_all(principal: Caller, svc: ServicesDep) -> int:
    return await svc.notifications.read_all(principal)


@router.post(
    "/{id}/read",
    **contractor_operation("readNotification", ProcessType.TRACE),
    summary="Mark one notification read; returns how many stay unread.",
    response_model=int,
    responses={404: {"model": ErrorDTO, "description": "errorCode 1: notification not found"}},
)
async def read_one(id: Annotated[int, Path(ge=1, le=INT64_MAX)], principal: Caller, svc: ServicesDep) -> int:
    return await svc.notifications.read(principal, id)
