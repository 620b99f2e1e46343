"""JSON-RPC errors of the Data API: the seed's codes, mnemonics and messages (typos kept), and the mapping
of cabinet's domain errors onto them (the table is published on ``GET /v2.0/docs``)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from cabinet.core.errors import CabinetError, ErrorKind

# mnemonic -> (code, message template) exactly as seed 003 writes them
WIRE: dict[str, tuple[int, str]] = {
    "parse_error": (-32700, "Invalid JSON was received by the server."),
    "invalid_request": (-32600, "Invalid Request The JSON sent is not a valid Request object"),
    "method_not_found": (-32601, "The method does not exist / is not available"),
    "internal_error": (-32603, "Internal error, contact the support service"),
    "access_token_expired": (-32001, "Access token has been expired"),
    "access_token_blocked": (-32001, "Access token has been blocked"),
    "access_token_invalid": (-32001, "Access token is invalid"),
    "auth_error": (-32001, "Login or password is wrong"),
    "ip_not_whitelisted": (-32003, "Your IP {ip} is not whitelisted"),
    "forbidden": (-32003, "Permission denied"),
    "method_component_disabled": (
        -32008,
        "You need at least on of the following components to access this method: {components}",
    ),
    "parameter_component_disabled": (
        -32008,
        "You need at least on of the following components to access this paremeter: {components}",
    ),
    "account_inactive": (-32009, "Your account has been disabled, contact the support service"),
    "limit_exceeded": (
        -32029,
        "Limit per {limit_type} has been exceeded. Value of current limit per {limit_type} is {limit_max_value}",
    ),
    "batch_opreations_not_supported": (-32099, "Batch operations not supported"),
    "notifications_not_supported": (-32099, "Notifications not supported"),
    "data_type_error": (-32602, "Data supplied is of wrong type"),
    "required_parameter_missed": (-32602, "The required parameter has been missed"),
    "invalid_parameter_value": (-32602, "Invalid parameter value"),
    "unexpected_parameters": (-32602, "Unexpected method parameter(s)"),
    "invalid_parameters_combination": (-32602, "The combination of parameters is not permitted"),
    "error": (-32602, "{error_message}"),
    "sort_prohibited": (-32602, "Sort by parameter is prohibited"),
    "filter_prohibited": (-32602, "Filter by parameter is prohibited"),
    "date_interval_limit_reached": (-32602, "Max value of requested date interval is 3 months"),
    "entity_not_found": (-32602, "Entity not found"),
    "dependency_error": (-32602, "You have interdependet entities"),
    "duplicate_entity": (-32602, "Duplicate entity"),
    "invalid_date_time": (-32602, "Invalid date time"),
}


@dataclass
class RpcError(Exception):
    """One JSON-RPC error answer: a seed mnemonic, optionally the offending field (dotted path), its value,
    and the template's substitutions."""

    mnemonic: str
    field: str | None = None
    value: Any = None
    params: dict[str, Any] = dc_field(default_factory=dict)
    code: int | None = None  # overrides the mnemonic's group (``forbidden`` is -32602 on delete)
    detail: str | None = None  # why, for the audit trail (never shown on the wire)

    def __post_init__(self) -> None:
        super().__init__(self.mnemonic)

    @property
    def message(self) -> str:
        return WIRE[self.mnemonic][1].format(**{k: self.params.get(k, "") for k in _keys(self.mnemonic)})

    def body(self, metadata: dict[str, Any] | None) -> dict[str, Any]:
        data: dict[str, Any] = {"mnemonic": self.mnemonic}
        if self.field is not None:
            data["field"] = self.field
        if self.value is not None:
            data["value"] = self.value if isinstance(self.value, str) else _text(self.value)
        if self.params:
            data["params"] = {k: v for k, v in self.params.items()}
        data["metadata"] = metadata or {}
        return {"code": self.code or WIRE[self.mnemonic][0], "message": self.message, "data": data}


def _keys(mnemonic: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(WIRE[mnemonic][1]) if name]


def _text(value: Any) -> str:
    import orjson

    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)


# domain mnemonic -> wire mnemonic, where the error kind alone would say less than the seed wants
BY_DOMAIN: dict[str, str] = {
    "invalid_credentials": "auth_error",
    "login_throttled": "auth_error",
    "account_inactive": "account_inactive",
    "data_session_invalid": "access_token_invalid",
    "data_session_expired": "access_token_expired",
    "client_access_denied": "forbidden",
    "company_budget_exceeded": "limit_exceeded",
    "quota_exceeded": "limit_exceeded",
    "concurrency_limit_reached": "limit_exceeded",
    "user_already_exists": "duplicate_entity",
    "company_already_exists": "duplicate_entity",
    "company_not_empty": "dependency_error",
    "self_lockout": "forbidden",
    "query_value_invalid": "invalid_parameter_value",
    "call_state_conflict": "error",  # the contractor API's 409 (e.g. a message on a Closed call): its text shown
}
BY_KIND: dict[ErrorKind, str] = {
    ErrorKind.INVALID: "invalid_parameter_value",
    ErrorKind.UNAUTHENTICATED: "access_token_invalid",
    ErrorKind.FORBIDDEN: "forbidden",
    ErrorKind.NOT_FOUND: "entity_not_found",
    ErrorKind.CONFLICT: "duplicate_entity",
    ErrorKind.QUOTA_EXCEEDED: "limit_exceeded",
    ErrorKind.THROTTLED: "limit_exceeded",
    ErrorKind.TOO_LARGE: "invalid_request",
    ErrorKind.UNSUPPORTED_MEDIA: "invalid_request",
    ErrorKind.UNPROCESSABLE: "invalid_parameter_value",
    ErrorKind.UNAVAILABLE: "internal_error",
    ErrorKind.INTERNAL: "internal_error",
}


def from_cabinet(exc: CabinetError) -> RpcError:
    """The wire form of a domain error: its declared Data API mnemonic, else by mnemonic, else by kind."""
    mnemonic = getattr(exc, "data_api_mnemonic", None) or BY_DOMAIN.get(exc.mnemonic) or BY_KIND[exc.kind]
    field_name = exc.extra.get("field")
    if field_name is None and exc.issues:
        field_name = exc.issues[0].entity
    params: dict[str, Any] = {}
    if mnemonic == "limit_exceeded":
        params = {
            "limit_type": exc.extra.get("limit_type", "request"),
            "limit_max_value": exc.extra.get("limit_max_value", 0),
        }
    elif mnemonic == "error":
        params = {"error_message": exc.message}
    return RpcError(mnemonic, field=field_name, value=exc.extra.get("value"), params=params, detail=exc.message)
