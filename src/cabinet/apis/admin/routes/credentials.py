"""API keys of users and IP allow-lists of companies (cabinet's own Admin operations; not in seed 002).

A key is shown once, in the answer that creates it; that operation keeps no payloads, so the secret never
reaches the stored request/response data. ADMIN and OVERLORD manage every company, SUPPORT reads, a
COMPANYOWNER manages its own company (but not the keys of users holding platform roles).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

from fastapi import Body, Path, Query, Response
from pydantic import Field, StrictInt, StrictStr

from cabinet.apis.admin.deps import AdminRoutes, Reader, ServicesDep, Writer, admin_read, admin_write
from cabinet.apis.admin.routes import api_router
from cabinet.apis.admin.routes.companies import KeyPath
from cabinet.apis.admin.routes.users import UsernamePath
from cabinet.apis.admin.schemas import WireModel
from cabinet.apis.shared.params import INT64_MAX, Moment
from cabinet.core.clock import MOMENT_RANGE
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.domains.credentials.schemas import (
    CIDR_MAX_LENGTH,
    NAME_MAX,
    NETWORKS_PER_COMPANY_MAX,
    ROTATION_GRACE_HOURS_DEFAULT,
    ROTATION_GRACE_HOURS_MAX,
    KeyRequest,
)
from cabinet.models import ApiKey as ApiKeyRow

router = api_router()
KEYS: list[str | Enum] = ["API keys"]
KEY_ROUTES = AdminRoutes(KEYS)
NETWORKS: list[str | Enum] = ["Networks"]

KeyIdPath = Annotated[int, Path(ge=1, le=INT64_MAX, description="API key id (`key_id`).")]
Cidr = Annotated[StrictStr, Field(min_length=1, max_length=CIDR_MAX_LENGTH, examples=["203.0.113.0/24"])]


# --- wire DTOs --------------------------------------------------------------------------------------------
class ApiKeyIn(WireModel):
    """New key: both fields optional."""

    name: StrictStr | None = Field(
        default=None, min_length=1, max_length=NAME_MAX, description="What the key is for.", examples=["erp"]
    )
    expires_at: Moment | None = Field(
        default=None,
        description="When the key stops working (ISO 8601; without an offset: UTC; "
        f"{MOMENT_RANGE}); must be in the future. "
        "Absent or null: a permanent key.",
    )


class ApiKeyOut(WireModel):
    """A key without its secret."""

    key_id: int = Field(description="The key's id (block, unblock, delete).")
    prefix: str = Field(
        description="The public prefix of the key: `cab_` and its id (a key issued before: the part before the "
        "dot). The key itself starts with it.",
        examples=["cab_3f9a0c1e5b7d2a46"],
    )
    username: str = Field(description="The user the key acts as.")
    name: str | None = None
    created_at: datetime
    expires_at: datetime | None = Field(default=None, description="null: permanent.")
    blocked: bool
    last_used_at: datetime | None = Field(default=None, description="Last use, to the minute; null: never used.")
    last_used_address: str | None = Field(default=None, description="The client address of that last use.")
    replaced_by: int | None = Field(
        default=None,
        description="The key_id of the successor a rotation issued: this key works out its grace period and is "
        "not rotated again (409). null: not rotated.",
    )


class ApiKeyIssued(WireModel):
    """A new key. ``key`` is the secret: shown in this answer only, never again."""

    key_id: int
    key: str = Field(
        description="The whole key (`<prefix>_<secret>`): the Data API's `access_token`, the contractor API's "
        "bearer token. Shown once."
    )
    prefix: str
    username: str
    name: str | None = None
    created_at: datetime
    expires_at: datetime | None = None
    blocked: bool


class ApiKeyList(WireModel):
    keys: list[ApiKeyOut]


class RotateIn(WireModel):
    grace_hours: StrictInt = Field(
        default=ROTATION_GRACE_HOURS_DEFAULT,
        ge=0,
        le=ROTATION_GRACE_HOURS_MAX,
        description="How long the old key keeps working (never longer than it would have anyway); 0: it stops now.",
    )


class ApiKeyRotated(WireModel):
    """The successor key (shown once) and when the old one stops working."""

    id: int = Field(description="The new key's id.")
    key: str = Field(description="The new key (`<prefix>_<secret>`). Shown once.")
    prefix: str
    expires_at: datetime | None = Field(default=None, description="The new key's end; null: permanent.")
    old_key_valid_until: datetime


class Revoked(WireModel):
    revoked: int = Field(description="How many of the user's keys were still usable and are now blocked.")


class NetworkList(WireModel):
    networks: list[str] = Field(
        description="Allowed networks (CIDR, canonical form). Empty: the Data API refuses every address.",
        examples=[["203.0.113.0/24", "2001:db8::/32"]],
    )


class NetworksIn(WireModel):
    networks: list[Cidr] = Field(max_length=NETWORKS_PER_COMPANY_MAX, description="The whole new list.")


class NetworkIn(WireModel):
    cidr: Cidr = Field(description="IPv4 or IPv6 network or address; host bits are dropped (10.1.2.3/8 → 10.0.0.0/8).")


def key_out(row: ApiKeyRow, username: str) -> ApiKeyOut:
    return ApiKeyOut(
        key_id=row.id,
        prefix=row.prefix,
        username=username,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        blocked=row.blocked,
        last_used_at=row.last_used_at,
        last_used_address=row.last_used_ip,
        replaced_by=row.replaced_by_id,
    )


# --- keys -------------------------------------------------------------------------------------------------
@router.post(
    "/users/{username}/keys",
    **KEY_ROUTES.write("create_api_key", "New API key for a user.", store_payloads=False),
    description="The answer carries the key (`key`, starting `cab_`) once; only a keyed hash of it is kept. The "
    "key acts as the user, with the user's current roles. CABINET_API_KEY_MAX_DAYS, when set, caps its lifetime "
    "(a permanent key asked for ends then). No request or response data of this operation is stored.",
    response_model=ApiKeyIssued,
)
async def create_api_key(
    username: UsernamePath,
    principal: Writer,
    svc: ServicesDep,
    body: Annotated[ApiKeyIn | None, Body()] = None,
) -> ApiKeyIssued:
    body = body or ApiKeyIn()
    issued = await svc.credentials.issue_key(
        principal, username, KeyRequest(name=body.name, expires_at=body.expires_at)
    )
    row = issued.row
    return ApiKeyIssued(
        key_id=row.id,
        key=issued.key,
        prefix=row.prefix,
        username=issued.username,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        blocked=row.blocked,
    )


@router.get(
    "/users/{username}/keys",
    **KEY_ROUTES.read("read_api_keys", "A user's API keys (without secrets)."),
    response_model=ApiKeyList,
)
async def read_api_keys(username: UsernamePath, principal: Reader, svc: ServicesDep) -> ApiKeyList:
    rows = await svc.credentials.list_keys(principal, username)
    set_result_elements(len(rows))
    return ApiKeyList(keys=[key_out(r, username) for r in rows])


@router.post(
    "/keys/{key_id}/block",
    **KEY_ROUTES.write("block_api_key", "Block an API key."),
    description="A blocked key is refused (`access_token_blocked`) until unblocked. Blocking twice is no error.",
    response_model=ApiKeyOut,
)
async def block_api_key(key_id: KeyIdPath, principal: Writer, svc: ServicesDep) -> ApiKeyOut:
    owned = await svc.credentials.set_blocked(principal, key_id, True)
    return key_out(owned.row, owned.username)


@router.post(
    "/keys/{key_id}/unblock",
    **KEY_ROUTES.write("unblock_api_key", "Unblock an API key."),
    response_model=ApiKeyOut,
)
async def unblock_api_key(key_id: KeyIdPath, principal: Writer, svc: ServicesDep) -> ApiKeyOut:
    owned = await svc.credentials.set_blocked(principal, key_id, False)
    return key_out(owned.row, owned.username)


@router.post(
    "/keys/{key_id}/rotate",
    **KEY_ROUTES.write(
        "rotate_api_key", "Rotate an API key: a new key now, the old one for a grace period.", store_payloads=False
    ),
    description="The new key has the old one's owner and name (a temporary key gets its lifetime again, from "
    "now; CABINET_API_KEY_MAX_DAYS caps it). The old key keeps working for `grace_hours` (default 24), then is "
    "refused as expired. A key rotated once is not rotated again (409: rotate its successor, the old key's "
    "`replaced_by`). No request or response data of this operation is stored.",
    response_model=ApiKeyRotated,
)
async def rotate_api_key(
    key_id: KeyIdPath, principal: Writer, svc: ServicesDep, body: Annotated[RotateIn | None, Body()] = None
) -> ApiKeyRotated:
    rotated = await svc.credentials.rotate_key(principal, key_id, (body or RotateIn()).grace_hours)
    row = rotated.issued.row
    return ApiKeyRotated(
        id=row.id,
        key=rotated.issued.key,
        prefix=row.prefix,
        expires_at=row.expires_at,
        old_key_valid_until=rotated.old_key_valid_until,
    )


@router.post(
    "/users/{username}/keys/revoke-all",
    **KEY_ROUTES.write("revoke_api_keys", "End every API key of a user."),
    description="Blocks every key of the user at once, keys in a rotation's grace period included (a leaked "
    "credential, a person leaving). Answers how many were still usable.",
    response_model=Revoked,
)
async def revoke_api_keys(username: UsernamePath, principal: Writer, svc: ServicesDep) -> Revoked:
    revoked = await svc.credentials.revoke_all(principal, username)
    set_result_elements(revoked)
    return Revoked(revoked=revoked)


@router.delete(
    "/keys/{key_id}",
    **KEY_ROUTES.write("delete_api_key", "Delete an API key."),
    description="The key stops working at once (`access_token_invalid`).",
    status_code=204,
    response_class=Response,
)
async def delete_api_key(key_id: KeyIdPath, principal: Writer, svc: ServicesDep) -> Response:
    await svc.credentials.delete_key(principal, key_id)
    return Response(status_code=204)


# --- networks ---------------------------------------------------------------------------------------------
@router.get(
    "/companies/{key}/networks",
    tags=NETWORKS,
    **admin_read("read_networks", ProcessType.NOTRACE),
    summary="The company's allowed networks for the Data API.",
    description="The Data API answers only calls from these networks; an empty list allows nobody.",
    response_model=NetworkList,
)
async def read_networks(key: KeyPath, principal: Reader, svc: ServicesDep) -> NetworkList:
    networks = await svc.credentials.list_networks(principal, key)
    set_result_elements(len(networks))
    return NetworkList(networks=networks)


@router.put(
    "/companies/{key}/networks",
    tags=NETWORKS,
    **admin_write("update_networks", ProcessType.TRACE),
    summary="Replace the company's allowed networks.",
    description="Each entry is normalised; duplicates are dropped. An empty list allows nobody. Any invalid "
    "entry refuses the whole list (400, naming each bad entry).",
    response_model=NetworkList,
)
async def update_networks(key: KeyPath, body: NetworksIn, principal: Writer, svc: ServicesDep) -> NetworkList:
    return NetworkList(networks=await svc.credentials.replace_networks(principal, key, body.networks))


@router.post(
    "/companies/{key}/networks",
    tags=NETWORKS,
    **admin_write("create_network", ProcessType.TRACE),
    summary="Allow one more network.",
    description="Adding a network already allowed is no error. Answers the whole list.",
    response_model=NetworkList,
)
async def create_network(key: KeyPath, body: NetworkIn, principal: Writer, svc: ServicesDep) -> NetworkList:
    return NetworkList(networks=await svc.credentials.allow_network(principal, key, body.cidr))


@router.delete(
    "/companies/{key}/networks",
    tags=NETWORKS,
    **admin_write("delete_network", ProcessType.TRACE),
    summary="Stop allowing a network.",
    description="`cidr` is matched after normalisation; removing a network not allowed is no error. Answers the "
    "whole list.",
    response_model=NetworkList,
)
async def delete_network(
    key: KeyPath,
    principal: Writer,
    svc: ServicesDep,
    cidr: Annotated[str, Query(min_length=1, max_length=CIDR_MAX_LENGTH, description="The network to remove.")],
) -> NetworkList:
    return NetworkList(networks=await svc.credentials.deny_network(principal, key, cidr))
