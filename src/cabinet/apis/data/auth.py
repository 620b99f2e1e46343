"""Who calls: ``params.access_token`` (an API key ``<prefix>.<secret>`` or a login.user session key), the
company's IP allow-list (default deny), and ``params.user_id`` for an agent acting as a client user."""

from __future__ import annotations

from typing import Any

from cabinet.apis.data.errors import RpcError
from cabinet.core.errors import CabinetError
from cabinet.core.principal import Principal
from cabinet.core.roles import Permission
from cabinet.domains.credentials.schemas import KEY_RE
from cabinet.domains.registry import Services


async def caller(services: Services, params: dict[str, Any], client_ip: str | None) -> Principal:
    """The principal the call acts as (the client user for an agent's ``user_id``), or an RpcError/domain error."""
    token = params.get("access_token")
    if token is None:
        raise RpcError("required_parameter_missed", field="access_token")
    if not isinstance(token, str):
        raise RpcError("data_type_error", field="access_token", value=token)
    try:
        if KEY_RE.fullmatch(token):
            principal = await services.credentials.authenticate_key(token, client_ip)
        else:
            principal = await services.sessions.resolve(token)
    except CabinetError as exc:  # a disabled account: the IP check comes first (seed 003's check order)
        if "company_id" in exc.extra:
            await whitelisted(services, exc.extra["company_id"], client_ip)
        raise
    user_id = params.get("user_id")
    if user_id is None or (user_id == principal.user_id and not isinstance(user_id, bool)):
        await whitelisted(services, principal.company_id, client_ip)
        return principal
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise RpcError("data_type_error", field="user_id", value=user_id)
    if not principal.can(Permission.DATA_ACT_FOR_CLIENT):
        await whitelisted(services, principal.company_id, client_ip)
        raise RpcError("unexpected_parameters", field="user_id", value=user_id)
    client = await services.sessions.act_for_client(principal, user_id)
    await whitelisted(services, client.company_id, client_ip)  # an agent's call: the client's list decides
    return client


async def whitelisted(services: Services, company_id: int, client_ip: str | None) -> None:
    if not await services.credentials.is_allowed(company_id, client_ip):
        raise RpcError("ip_not_whitelisted", params={"ip": client_ip or "unknown"})
