"""The Data API described by itself: an OpenRPC 1.3 document built from the method registry (``rpc.discover``
on ``/v2.0`` and ``GET /v2.0/openrpc.json``). Nothing here is kept by hand: parameters, their types, limits and
required flags come from each method's declared ``Param``s, result rows from its ``FieldSpec``s, and the errors
from the seed's table (``errors.WIRE``) by what the method does (authenticated, charged, ``get``, report)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cabinet import __version__
from cabinet.apis.data.errors import WIRE
from cabinet.apis.data.params import (
    FILTER_CONDITIONS_MAX,
    FILTER_DEPTH_MAX,
    FILTER_VALUES_MAX,
    INT64_MAX,
    INT64_MIN,
    Kind,
    Param,
)
from cabinet.apis.data.registry import REGISTRY, Method
from cabinet.core.query import FieldType, allowed_operators
from cabinet.core.query.model import MAX_LIST_VALUES

if TYPE_CHECKING:
    from cabinet.apis.data.protocol import Version

OPENRPC_VERSION = "1.3.2"
DISCOVER = "rpc.discover"
LOCAL_DATETIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"

# every call that reaches a method can answer these (the envelope's own errors are the endpoint's, not a method's)
ANY_CALL = ("internal_error", "required_parameter_missed", "data_type_error", "unexpected_parameters")
AUTHENTICATED = (
    "access_token_invalid",
    "access_token_expired",
    "access_token_blocked",
    "ip_not_whitelisted",
    "account_inactive",
    "forbidden",
    "invalid_parameter_value",
)
GET = ("sort_prohibited", "filter_prohibited", "invalid_parameter_value")
REPORT = ("date_interval_limit_reached", "invalid_date_time", "invalid_parameters_combination")

_KIND: dict[Kind, dict[str, Any]] = {
    Kind.STRING: {"type": "string"},
    Kind.INTEGER: {"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX},
    Kind.BOOLEAN: {"type": "boolean"},
    Kind.OBJECT: {"type": "object"},
    Kind.ARRAY: {"type": "array"},
    Kind.DATETIME: {"type": "string", "pattern": LOCAL_DATETIME},
    Kind.ANY: {},
}
_FIELD: dict[FieldType, dict[str, Any]] = {
    FieldType.INTEGER: {"type": "integer"},
    FieldType.NUMBER: {"type": "number"},
    FieldType.STRING: {"type": "string"},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.DATETIME: {"type": "string", "pattern": LOCAL_DATETIME},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.ENUM: {"type": "string"},
    FieldType.STRING_ARRAY: {"type": "array"},
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "type" not in schema:
        return schema
    return {**schema, "type": [schema["type"], "null"]}


def _param_schema(method: Method, name: str, param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = {**_KIND[param.kind], **(param.limits or {})}
    if method.fields and name == "fields":
        schema["items"] = {"enum": [f.name for f in method.fields]}
        schema["uniqueItems"] = False  # duplicates are ignored
    elif method.fields and name == "sort":
        sortable = [f.name for f in method.fields if f.sortable]
        schema["items"] = {
            "type": "object",
            "properties": {"field": {"enum": sortable}, "order": {"enum": ["asc", "desc"]}},
            "required": ["field"],
            "additionalProperties": False,
        }
    elif method.fields and name == "filter":
        return {"anyOf": [{"type": "null"}, {"$ref": f"#/components/schemas/{filter_component(method)}"}]}
    if param.nullable or not param.required:
        schema = _nullable(schema)
    return schema


def filter_component(method: Method) -> str:
    """The name of the method's filter node in ``components.schemas``."""
    return "filter_" + method.name.replace(".", "_")


def _filter_node(method: Method) -> dict[str, Any]:
    """A simple filter or a group of nodes (``and``/``or``); each field with the operators its type allows."""
    simple = [
        {
            "type": "object",
            "properties": {
                "field": {"const": f.name},
                "operator": {"enum": list(allowed_operators(f.type))},
                "value": {},
            },
            "required": ["field", "operator"],
            "additionalProperties": False,
        }
        for f in method.fields
        if f.filterable
    ]
    group = {
        "type": "object",
        "properties": {
            "filters": {
                "type": "array",
                "minItems": 1,
                "items": {"$ref": f"#/components/schemas/{filter_component(method)}"},
            },
            "condition": {"enum": ["and", "or"]},
        },
        "required": ["filters"],
        "additionalProperties": False,
    }
    return {
        "description": (
            f"Nested at most {FILTER_DEPTH_MAX} deep, at most {FILTER_CONDITIONS_MAX} conditions; a list value"
            f" (in, not_in, overlap, not_overlap) holds 1..{MAX_LIST_VALUES} values, at most {FILTER_VALUES_MAX}"
            " in the whole filter (more: invalid_parameter_value)."
        ),
        "oneOf": [*simple, group],
    }


def _data_schema(method: Method) -> dict[str, Any]:
    if method.result is not None:
        return dict(method.result)
    if method.fields:
        row = {
            "type": "object",
            "properties": {f.name: {**_nullable(_FIELD[f.type]), "description": f.description} for f in method.fields},
            "additionalProperties": False,
        }
        return {"type": "array", "items": row}
    return {}


METADATA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "total_items": {"type": "integer", "description": "get methods: every match, whatever offset and limit."},
        "limits": {
            "type": "object",
            "description": "Your company's budgets after this call (counted calls only).",
            "properties": {
                name: {"type": "integer"}
                for name in (
                    "day_limit",
                    "day_remaining",
                    "day_reset",
                    "minute_limit",
                    "minute_remaining",
                    "minute_reset",
                )
            },
        },
        "api_version": {"type": "object", "description": "Set on a deprecated version's answers."},
    },
}


def error_mnemonics(method: Method) -> list[str]:
    """The seed-003 errors a call of this method can answer, in the table's order."""
    names = set(ANY_CALL) | set(method.errors)
    if method.authenticated:
        names |= set(AUTHENTICATED)
        if method.points > 0:
            names.add("limit_exceeded")
    if method.is_get:
        names |= set(GET)
        if "date_from" in method.params:
            names |= set(REPORT)
    return [name for name in WIRE if name in names]


def _error(mnemonic: str) -> dict[str, Any]:
    code, message = WIRE[mnemonic]
    return {"code": code, "message": message, "data": {"mnemonic": mnemonic}}


def _method(method: Method) -> dict[str, Any]:
    rights = method.rights.text if method.rights is not None else "Anyone (no token yet)."
    return {
        "name": method.name,
        "summary": method.summary,
        "description": f"Rights: {rights} Points: {method.points}.",
        "paramStructure": "by-name",
        "params": [
            {
                "name": name,
                "description": param.description,
                "required": param.required,
                "schema": _param_schema(method, name, param),
            }
            for name, param in method.params.items()
        ],
        "result": {
            "name": "result",
            "schema": {
                "type": "object",
                "properties": {"data": _data_schema(method), "metadata": METADATA},
                "required": ["data", "metadata"],
            },
        },
        "errors": [_error(name) for name in error_mnemonics(method)],
        "x-points": method.points,
        "x-audit": method.process_type.value,
    }


def document(version: Version, url: str) -> dict[str, Any]:
    """The OpenRPC document of a served version (every registered method, by name); ``url``: the version's
    absolute address as the caller reached it."""
    info: dict[str, Any] = {
        "title": f"cabinet Data API v{version.number}",
        "version": __version__,
        "description": "JSON-RPC 2.0 over POST; every answer is HTTP 200. Human-readable reference: "
        f"/v{version.number}/docs. rpc.discover (no token, no points) returns this document.",
    }
    methods = sorted(REGISTRY.values(), key=lambda m: m.name)
    return {
        "openrpc": OPENRPC_VERSION,
        "info": info,
        "servers": [{"name": f"v{version.number}", "url": url}],
        "methods": [_method(m) for m in methods],
        "components": {"schemas": {filter_component(m): _filter_node(m) for m in methods if m.is_get}},
    }
