"""The JSON-RPC 2.0 envelope as the Data API speaks it (seed 003; the checks in the order ``handle`` makes them):
always HTTP 200 with a JSON body, exactly one of ``result``/``error``, ``id`` echoed with its type, batches and
notifications refused with -32099 (a response is still sent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from cabinet.apis.data import openrpc
from cabinet.apis.data.auth import caller
from cabinet.apis.data.errors import RpcError, from_cabinet
from cabinet.apis.data.params import check_params, storable
from cabinet.apis.data.registry import REGISTRY, Method, RpcCall, prepare_get
from cabinet.core.errors import CabinetError
from cabinet.core.http.errors import unavailable_cause
from cabinet.core.logging import get_logger
from cabinet.core.metering import mark_failed
from cabinet.core.tracing import TraceContext, current_trace
from cabinet.runtime import Runtime

log = get_logger("cabinet.data")

MEDIA_TYPE = "application/json; charset=UTF-8"


@dataclass(frozen=True, slots=True)
class Version:
    number: str
    latest: str

    @property
    def deprecated(self) -> bool:
        return self.number != self.latest

    def metadata(self) -> dict[str, Any]:
        if not self.deprecated:
            return {}
        return {
            "api_version": {
                "current_version_deprecated": True,
                "current_version": self.number,
                "latest_version": self.latest,
            }
        }


CURRENT = Version("2.0", "2.0")
DEPRECATED = Version("1.0", "2.0")  # the older version: served two months after 2.0 (seed "Версионность")


@dataclass(frozen=True, slots=True)
class Envelope:
    id: str | int | float
    jsonrpc: Any
    method: Any
    params: Any


def parse(body: bytes) -> Envelope:
    """The request object, or an RpcError in the seed's order (parse, batch, notification, envelope)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RpcError("parse_error") from exc
    if isinstance(document, list):
        raise RpcError("batch_opreations_not_supported")
    if not isinstance(document, dict):
        raise RpcError("invalid_request")
    if "id" not in document:
        raise RpcError("notifications_not_supported")
    ident = document["id"]
    if isinstance(ident, bool) or not isinstance(ident, str | int | float):
        raise RpcError("invalid_request", field="id")
    return Envelope(ident, document.get("jsonrpc"), document.get("method"), document.get("params"))


def respond(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status_code=200, media_type=MEDIA_TYPE)


async def handle(request: Request, runtime: Runtime, version: Version) -> Response:
    trace = current_trace()
    trace.api = "data"
    services = runtime.services
    client_ip = trace.client_ip
    metadata = version.metadata()
    ident: Any = None
    method: Method | None = None
    try:
        body = await request.body()
        envelope = parse(body)
        ident = envelope.id
        if envelope.jsonrpc != "2.0":
            raise RpcError("invalid_request", field="jsonrpc")
        if not isinstance(envelope.method, str):
            raise RpcError("invalid_request", field="method")
        if envelope.method == openrpc.DISCOVER:  # no token, no points: the document of this version
            trace.operation = openrpc.DISCOVER
            return respond({"jsonrpc": "2.0", "id": ident, "result": _discover(request, envelope.params, version)})
        if not isinstance(envelope.params, dict):
            raise RpcError("invalid_request", field="params")
        for name in ("access_token", "user_id"):  # read before the declared parameters are checked
            if name in envelope.params and not storable(envelope.params[name]):
                raise RpcError("invalid_parameter_value", field=name, value=envelope.params[name])
        method = REGISTRY.get(envelope.method)
        if method is None:
            raise RpcError("method_not_found", value=envelope.method[:256])
        trace.operation = method.name
        params = envelope.params
        if method.rights is None:  # login.user: no caller yet
            check_params(params, method.params)
            call = RpcCall(services, None, params, client_ip)  # type: ignore[arg-type]
            result = await method.handler(call)
            principal = call.principal
            if principal is not None:
                await runtime.meter.admit(method.operation, principal, None)
        else:
            principal = await caller(services, params, client_ip)
            trace.username, trace.company = principal.username, principal.company_key
            if not method.rights.check(principal):
                raise RpcError("forbidden", detail=f"{method.name}: {method.rights.text}")
            await runtime.meter.admit(method.operation, principal, body if method.operation.keeps_payloads else None)
            check_params(params, method.params)
            call = RpcCall(services, principal, params, client_ip)
            if method.is_get:
                prepare_get(method, call)
            result = await method.handler(call)
        if _counted(method):
            await _add_limits(metadata, runtime, trace)
        if result.total_items is not None:
            metadata["total_items"] = result.total_items
        return respond({"jsonrpc": "2.0", "id": ident, "result": {"data": result.data, "metadata": metadata}})
    except Exception as exc:
        error = _as_rpc(exc)
        mark_failed(f"{error.mnemonic}: {error.detail or error.message}"[:2048])
        metadata.pop("total_items", None)
        if method is not None and _counted(method):
            try:
                await runtime.meter.refund(trace)
            except Exception as refund_failure:  # the limiter store is down: the finish hook retries the release
                log.error("data api refund failed", error=repr(refund_failure))
            await _add_limits(metadata, runtime, trace)
        return respond({"jsonrpc": "2.0", "id": ident, "error": error.body(metadata)})


def _discover(request: Request, params: Any, version: Version) -> dict[str, Any]:
    """``rpc.discover`` takes no parameters (absent or ``{}``)."""
    if params is not None and not isinstance(params, dict):
        raise RpcError("invalid_request", field="params")
    for name in params or {}:
        raise RpcError("unexpected_parameters", field=name)
    return openrpc.document(version, version_url(request, version))


def version_url(request: Request, version: Version) -> str:
    """The served version's absolute address as the caller reached it."""
    return f"{request.url.scheme}://{request.url.netloc}/v{version.number}"


def _counted(method: Method) -> bool:
    return method.operation.charges_company_budget and current_trace().metered is not None


async def _add_limits(metadata: dict[str, Any], runtime: Runtime, trace: TraceContext) -> None:
    """``metadata.limits`` of the caller's company; left out (and logged) when the limiter store is down, so a
    call that did its work is never reported as failed for it."""
    if trace.metered is None:  # only metered calls are counted (see _counted)
        return
    try:
        status = await runtime.services.quotas.budget_status(trace.metered.principal.company_id)
    except Exception as exc:
        log.error("data api limits unavailable", error=repr(exc))
        metadata.pop("limits", None)
        return
    metadata["limits"] = {
        "day_limit": status.day_limit,
        "day_remaining": status.day_remaining,
        "day_reset": status.day_reset,
        "minute_limit": status.minute_limit,
        "minute_remaining": status.minute_remaining,
        "minute_reset": status.minute_reset,
    }


def _as_rpc(exc: Exception) -> RpcError:
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, CabinetError):
        return from_cabinet(exc)
    unavailable = unavailable_cause(exc)  # Redis or the database away: say so, as every API does
    if unavailable is not None:
        log.warning("backing service unavailable", reason=unavailable.message, error=repr(exc))
        return from_cabinet(unavailable)
    log.exception("data api call failed", error=repr(exc))
    return RpcError("internal_error", detail=repr(exc)[:512])
