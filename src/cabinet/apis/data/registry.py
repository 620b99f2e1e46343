"""The method registry: every Data API method declared once (its operation, rights, parameters, fields).

A ``get`` method over a domain search is a few declarative lines:

    register(get_method(
        "get.calls", "Calls of your company.", rights=CONTRACTOR_CALLS, catalog=CALL_CATALOG,
        search=lambda s: s.calls.search, fields=(FieldSpec("id", T.INTEGER, "Call id."), ...)))

``search`` picks the domain method ``(principal, Query) -> (rows, total)`` that compiles the query to SQL; the
catalog is the domain's field->column map, and every filterable or sortable field must be in it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from cabinet.apis.data.params import ACCESS_TOKEN, GET_PARAMS, REPORT_PARAMS, USER_ID, Param, parse_query
from cabinet.core.metering import Operation, ProcessType, Service, declare, set_result_elements
from cabinet.core.principal import Principal
from cabinet.core.query import FieldType, Query
from cabinet.core.query.model import format_local
from cabinet.core.roles import Permission
from cabinet.domains.registry import Services


@dataclass(frozen=True, slots=True)
class Rights:
    """Who may call a method: a readable rule for the docs and the check itself."""

    text: str
    check: Callable[[Principal], bool]


DATA_USER = Rights("Every Data API user (all roles but CREW).", lambda p: p.can(Permission.DATA_API))
AGENT = Rights("PARTNER (agents).", lambda p: p.can(Permission.DATA_API) and p.can(Permission.DATA_ACT_FOR_CLIENT))
DIRECTORY_READER = Rights(
    "ADMIN, OVERLORD and SUPPORT (every company), COMPANYOWNER (its own company), as the Admin API.",
    lambda p: p.can(Permission.DATA_API) and (p.can(Permission.ADMIN_READ_ALL) or p.can(Permission.ADMIN_READ_COMPANY)),
)
DIRECTORY_WRITER = Rights(
    "ADMIN and OVERLORD (every company), COMPANYOWNER (its own company; no platform roles), as the Admin API.",
    lambda p: (
        p.can(Permission.DATA_API) and (p.can(Permission.ADMIN_WRITE_ALL) or p.can(Permission.ADMIN_WRITE_COMPANY))
    ),
)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A field of a ``get`` method's rows: wire name, type, docs, whitelists, how to read it from a row."""

    name: str
    type: FieldType
    description: str
    filterable: bool = True
    sortable: bool = True
    default: bool = True  # returned when ``fields`` is not given
    column: str | None = None  # the domain catalog's name for it, when it differs from ``name``
    read: Callable[[Any], Any] | None = None  # row -> value (default: the attribute at ``path``)
    path: str | None = None  # the (dotted) attribute read when ``read`` is not given; default ``column or name``

    def value(self, row: Any, tz_hours: int) -> Any:
        raw = self.read(row) if self.read is not None else _getter(self.attribute)(row)
        return _shown(self.type, raw, tz_hours)

    @property
    def attribute(self) -> str:
        return self.path or self.column or self.name


@functools.cache
def _getter(path: str) -> Callable[[Any], Any]:
    return attrgetter(path)


def _shown(kind: FieldType, raw: Any, tz_hours: int) -> Any:
    """A field's value as the wire carries it."""
    if kind is FieldType.DATETIME:
        return format_local(raw, tz_hours)
    if kind is FieldType.DATE:
        return raw.isoformat() if isinstance(raw, date | datetime) else raw
    if kind is FieldType.STRING_ARRAY:
        return list(raw) if raw else []
    return raw


_CONVERTED = frozenset({FieldType.DATETIME, FieldType.DATE, FieldType.STRING_ARRAY})


def rows_out(chosen: Sequence[FieldSpec], rows: Sequence[Any], tz_hours: int) -> list[dict[str, Any]]:
    """The page's rows as the wire's objects: ``{spec.name: spec.value(row)}`` for each chosen field, in order.
    Fields read by attribute are read together (one ``attrgetter`` of every path: a page of 50 calls reads some
    1,500 values, and a Python call per value was a fifth of get.calls' time); only the fields whose type needs it
    are converted."""
    if not chosen or any(spec.read is not None for spec in chosen):
        return [{spec.name: spec.value(row, tz_hours) for spec in chosen} for row in rows]
    names = [spec.name for spec in chosen]
    together = attrgetter(*(spec.attribute for spec in chosen))
    get = together if len(chosen) > 1 else lambda row: (together(row),)
    converted = [(index, spec.type) for index, spec in enumerate(chosen) if spec.type in _CONVERTED]
    out = []
    for row in rows:
        values = list(get(row))
        for index, kind in converted:
            values[index] = _shown(kind, values[index], tz_hours)
        out.append(dict(zip(names, values, strict=True)))
    return out


@dataclass(slots=True)
class RpcCall:
    """One admitted JSON-RPC call as a method handler sees it (not the contractor area's business Call)."""

    services: Services
    principal: Principal
    params: dict[str, Any]
    client_ip: str | None
    query: Query | None = None
    fields: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Result:
    data: Any
    total_items: int | None = None


Handler = Callable[[RpcCall], Awaitable[Result]]


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    summary: str
    rights: Rights | None  # None: no caller yet (login.user)
    handler: Handler
    params: Mapping[str, Param]
    process_type: ProcessType = ProcessType.NOTRACE
    points: int = 1
    fields: tuple[FieldSpec, ...] = ()
    who: str = "client, agent"
    store_payloads: bool = True
    result: Mapping[str, Any] | None = None  # JSON Schema of ``result.data`` (``get`` methods: from ``fields``)
    errors: tuple[str, ...] = ()  # mnemonics the handler itself may answer, besides those every such call can

    @property
    def operation(self) -> Operation:
        return Operation(
            name=self.name,
            service=Service.REGISTRY,
            process_type=self.process_type,
            points=self.points,
            store_payloads=self.store_payloads,
        )

    @property
    def authenticated(self) -> bool:
        return self.rights is not None

    @property
    def is_get(self) -> bool:
        return bool(self.fields)


REGISTRY: dict[str, Method] = {}


def register(*methods: Method) -> None:
    for method in methods:
        if method.name in REGISTRY:
            raise RuntimeError(f"Data API method {method.name} is declared twice")
        REGISTRY[method.name] = method
        declare(method.operation)


ID_RESULT: Mapping[str, Any] = {
    "type": "object",
    "properties": {"id": {"type": "integer"}},
    "required": ["id"],
    "additionalProperties": False,
}


def common_params(extra: Mapping[str, Param] | None = None) -> dict[str, Param]:
    return {"access_token": ACCESS_TOKEN, "user_id": USER_ID, **(extra or {})}


Search = Callable[[Principal, Query], Awaitable[tuple[Sequence[Any], int]]]


def get_method(
    name: str,
    summary: str,
    *,
    rights: Rights,
    catalog: Collection[str],
    search: Callable[[Services], Search],
    fields: Sequence[FieldSpec],
    report: bool = False,
    who: str = "client, agent",
) -> Method:
    """A ``get`` method: filter/sort/paging/fields over a domain search that compiles to SQL; ``catalog``
    names what the domain can filter and sort on (its Catalog, or just the names)."""
    for spec in fields:
        if (spec.filterable or spec.sortable) and (spec.column or spec.name) not in catalog:
            raise RuntimeError(f"{name}: field {spec.name} is filterable or sortable but not in the catalog")
    declared = tuple(fields)

    async def handler(call: RpcCall) -> Result:
        assert call.query is not None
        rows, total = await search(call.services)(call.principal, call.query)
        chosen = [spec for spec in declared if spec.name in call.fields]
        tz = call.principal.timezone
        data = rows_out(chosen, rows, tz)
        set_result_elements(len(data))
        return Result(data=data, total_items=total)

    params = common_params({**GET_PARAMS, **(REPORT_PARAMS if report else {})})
    return Method(name, summary, rights, handler, params, fields=declared, who=who)


def prepare_get(method: Method, call: RpcCall) -> None:
    """Parse the ``get`` parameters of a call (after its rights and limits were checked)."""
    call.query, call.fields = parse_query(call.params, method.fields, tz_hours=call.principal.timezone)
