"""Method parameters: declared types, required/unexpected checks, and the ``get`` parameters (filter trees,
sort, fields, offset/limit, report dates) parsed into a core ``Query`` (seed 003 "Критерии фильтрации",
"Сортировка данных", "Постраничный вывод", "Представление возвращаемых данных")."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cabinet.apis.data.errors import RpcError
from cabinet.apis.shared.params import INT64_MAX
from cabinet.core.query import OPERATORS, Condition, Group, Node, Query, SortKey
from cabinet.core.query.model import DATETIME_FORMAT, MAX_LIST_VALUES, QueryValueInvalid, parse_local_datetime
from cabinet.core.query.model import Condition as _Condition


class FieldSpec(Protocol):
    """What parsing needs of a method's field (registry.FieldSpec)."""

    @property
    def name(self) -> str: ...
    @property
    def filterable(self) -> bool: ...
    @property
    def sortable(self) -> bool: ...
    @property
    def default(self) -> bool: ...
    @property
    def column(self) -> str | None: ...


OFFSET_MAX = 100_000
LIMIT_MAX = 10_000
LIMIT_DEFAULT = 1000
FILTER_DEPTH_MAX = 10
FILTER_CONDITIONS_MAX = 100
FILTER_VALUES_MAX = 2000  # list values in one filter tree, all its conditions together
SORT_KEYS_MAX = 10
REPORT_INTERVAL_MONTHS = 3
INT64_MIN = -(2**63)


class Kind(enum.StrEnum):
    STRING = "string"
    INTEGER = "number"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"
    DATETIME = "iso8601"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class Param:
    kind: Kind
    description: str
    required: bool = False
    nullable: bool = False  # update: null clears the value
    limits: Mapping[str, Any] | None = None  # JSON Schema keywords the checks enforce (published in openrpc.json)


ACCESS_TOKEN = Param(Kind.STRING, "A session key (login.user), a permanent or a temporary API key.", required=True)
USER_ID = Param(Kind.INTEGER, "Agents only: the id of the client user to act as (its rights apply).")
GET_PARAMS: dict[str, Param] = {
    "filter": Param(Kind.OBJECT, "A simple filter {field, operator, value} or a tree {filters: [...], condition}."),
    "sort": Param(
        Kind.ARRAY,
        'Sort keys [{"field": ..., "order": "asc"|"desc"}] (order defaults to asc).',
        limits={"maxItems": SORT_KEYS_MAX},
    ),
    "fields": Param(Kind.ARRAY, "The fields to return (default: the method's default fields)."),
    "offset": Param(
        Kind.INTEGER, f"Rows to skip: 0..{OFFSET_MAX}, default 0.", limits={"minimum": 0, "maximum": OFFSET_MAX}
    ),
    "limit": Param(
        Kind.INTEGER,
        f"Rows to return: 1..{LIMIT_MAX}, default {LIMIT_DEFAULT}.",
        limits={"minimum": 1, "maximum": LIMIT_MAX},
    ),
}
REPORT_PARAMS: dict[str, Param] = {
    "date_from": Param(Kind.DATETIME, "Start (YYYY-MM-DD hh:mm:ss, your timezone), inclusive.", required=True),
    "date_till": Param(
        Kind.DATETIME,
        "End (YYYY-MM-DD hh:mm:ss, your timezone), inclusive; at most 3 months after date_from.",
        required=True,
    ),
}


def _is(kind: Kind, value: Any) -> bool:
    if kind is Kind.STRING or kind is Kind.DATETIME:
        return isinstance(value, str)
    if kind is Kind.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is Kind.BOOLEAN:
        return isinstance(value, bool)
    if kind is Kind.OBJECT:
        return isinstance(value, dict)
    if kind is Kind.ARRAY:
        return isinstance(value, list)
    return True


def check_params(params: Mapping[str, Any], declared: Mapping[str, Param]) -> None:
    """Unknown keys, then missing required ones, then JSON types."""
    for name in params:
        if name not in declared:
            raise RpcError("unexpected_parameters", field=name)
    for name, spec in declared.items():
        if spec.required and name not in params:
            raise RpcError("required_parameter_missed", field=name)
    for name, value in params.items():
        spec = declared[name]
        if value is None and (spec.nullable or not spec.required):
            continue
        if not _is(spec.kind, value):
            raise RpcError("data_type_error", field=name, value=value)
        if not storable(value):
            raise RpcError("invalid_parameter_value", field=name, value=value)


def storable(value: Any) -> bool:
    """Integers fit int64 and strings hold no NUL (no database stores either), at any depth."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, list):
        return all(storable(v) for v in value)
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    return True


def parse_query(params: Mapping[str, Any], fields: Sequence[FieldSpec], *, tz_hours: int) -> tuple[Query, list[str]]:
    """The ``get`` parameters as a Query plus the names of the fields to return."""
    by_name = {f.name: f for f in fields}
    offset = _bounded(params.get("offset"), "offset", 0, OFFSET_MAX, 0)
    limit = _bounded(params.get("limit"), "limit", 1, LIMIT_MAX, LIMIT_DEFAULT)
    node = None
    if params.get("filter") is not None:
        counter = [0, 0]
        node = _node(params["filter"], "filter", by_name, depth=1, counter=counter)
    sort = _sort(params.get("sort"), by_name)
    chosen = _fields(params.get("fields"), by_name)
    extra: dict[str, Any] = {}
    if "date_from" in params or "date_till" in params:
        extra = report_interval(params, tz_hours)
    return Query(filter=node, sort=sort, offset=offset, limit=limit, tz_hours=tz_hours, extra=extra), chosen


def _bounded(value: Any, name: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise RpcError("data_type_error", field=name, value=value)
    if not low <= value <= high:
        raise RpcError("invalid_parameter_value", field=name, value=value)
    return value


def _node(raw: Any, path: str, by_name: Mapping[str, FieldSpec], *, depth: int, counter: list[int]) -> Node:
    if not isinstance(raw, dict):
        raise RpcError("data_type_error", field=path, value=raw)
    if depth > FILTER_DEPTH_MAX:
        raise RpcError("invalid_parameter_value", field=path, detail=f"filters nest at most {FILTER_DEPTH_MAX} deep")
    if "filters" in raw:
        unknown = set(raw) - {"filters", "condition"}
        if unknown:
            raise RpcError("unexpected_parameters", field=f"{path}.{sorted(unknown)[0]}")
        children, condition = raw["filters"], raw.get("condition", "and")
        if not isinstance(children, list):
            raise RpcError("data_type_error", field=f"{path}.filters", value=children)
        if not children:
            raise RpcError("invalid_parameter_value", field=f"{path}.filters", value=children)
        if not isinstance(condition, str):
            raise RpcError("data_type_error", field=f"{path}.condition", value=condition)
        if condition not in ("and", "or"):
            raise RpcError("invalid_parameter_value", field=f"{path}.condition", value=condition)
        nodes = tuple(
            _node(child, f"{path}.filters.{i}", by_name, depth=depth + 1, counter=counter)
            for i, child in enumerate(children)
        )
        return Group(condition, nodes, path)
    unknown = set(raw) - {"field", "operator", "value"}
    if unknown:
        raise RpcError("unexpected_parameters", field=f"{path}.{sorted(unknown)[0]}")
    for key in ("field", "operator"):
        if key not in raw:
            raise RpcError("required_parameter_missed", field=f"{path}.{key}")
        if not isinstance(raw[key], str):
            raise RpcError("data_type_error", field=f"{path}.{key}", value=raw[key])
    name, operator = raw["field"], raw["operator"]
    spec = by_name.get(name)
    if spec is None:
        raise RpcError("unexpected_parameters", field=f"{path}.field", value=name)
    if not spec.filterable:
        raise RpcError("filter_prohibited", field=f"{path}.field", value=name)
    if operator not in OPERATORS:
        raise RpcError("invalid_parameter_value", field=f"{path}.operator", value=operator)
    counter[0] += 1
    if counter[0] > FILTER_CONDITIONS_MAX:
        raise RpcError("invalid_parameter_value", field=path, detail=f"at most {FILTER_CONDITIONS_MAX} conditions")
    value = raw.get("value")
    if isinstance(value, list):
        if len(value) > MAX_LIST_VALUES:
            why = f"a list holds at most {MAX_LIST_VALUES} values"
            raise RpcError("invalid_parameter_value", field=f"{path}.value", detail=why)
        counter[1] += len(value)
        if counter[1] > FILTER_VALUES_MAX:
            raise RpcError(
                "invalid_parameter_value",
                field=f"{path}.value",
                detail=f"a filter holds at most {FILTER_VALUES_MAX} list values in all",
            )
    return Condition(spec.column or name, operator, value, path)


def _sort(raw: Any, by_name: Mapping[str, FieldSpec]) -> tuple[SortKey, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RpcError("data_type_error", field="sort", value=raw)
    if len(raw) > SORT_KEYS_MAX:
        raise RpcError("invalid_parameter_value", field="sort", detail=f"at most {SORT_KEYS_MAX} sort keys")
    keys: list[SortKey] = []
    for i, item in enumerate(raw):
        path = f"sort.{i}"
        if not isinstance(item, dict):
            raise RpcError("data_type_error", field=path, value=item)
        unknown = set(item) - {"field", "order"}
        if unknown:
            raise RpcError("unexpected_parameters", field=f"{path}.{sorted(unknown)[0]}")
        if "field" not in item:
            raise RpcError("required_parameter_missed", field=f"{path}.field")
        name, order = item["field"], item.get("order", "asc")
        if not isinstance(name, str):
            raise RpcError("data_type_error", field=f"{path}.field", value=name)
        if not isinstance(order, str):
            raise RpcError("data_type_error", field=f"{path}.order", value=order)
        spec = by_name.get(name)
        if spec is None:
            raise RpcError("unexpected_parameters", field=f"{path}.field", value=name)
        if not spec.sortable:
            raise RpcError("sort_prohibited", field=f"{path}.field", value=name)
        if order not in ("asc", "desc"):
            raise RpcError("invalid_parameter_value", field=f"{path}.order", value=order)
        keys.append(SortKey(spec.column or name, order == "desc"))
    return tuple(keys)


def _fields(raw: Any, by_name: Mapping[str, FieldSpec]) -> list[str]:
    if raw is None:
        return [name for name, spec in by_name.items() if spec.default]
    if not isinstance(raw, list):
        raise RpcError("data_type_error", field="fields", value=raw)
    chosen: list[str] = []
    for i, name in enumerate(raw):
        if not isinstance(name, str):
            raise RpcError("data_type_error", field=f"fields.{i}", value=name)
        if name not in by_name:
            raise RpcError("unexpected_parameters", field="fields", value=name)
        if name not in chosen:  # duplicates are ignored (D7)
            chosen.append(name)
    return chosen


def report_interval(params: Mapping[str, Any], tz_hours: int) -> dict[str, datetime]:
    """date_from/date_till as UTC date-times; date_interval_limit_reached past 3 months (by the calendar)."""
    bounds: dict[str, datetime] = {}
    for name in ("date_from", "date_till"):
        value = params.get(name)
        if value is None:
            raise RpcError("required_parameter_missed", field=name)
        if not _local_datetime_text(value):
            raise RpcError("invalid_date_time", field=name, value=value)
        try:
            bounds[name] = parse_local_datetime(_Condition(name, "=", value, name), value, tz_hours)
        except QueryValueInvalid as exc:  # a date-time, outside the accepted range
            raise RpcError("invalid_parameter_value", field=name, value=value, detail=str(exc)) from exc
    start, end = bounds["date_from"], bounds["date_till"]
    if end < start:
        raise RpcError("invalid_parameters_combination", field="date_till", value=params["date_till"])
    if end > add_months(start, REPORT_INTERVAL_MONTHS):
        raise RpcError("date_interval_limit_reached", field="date_till", value=params["date_till"])
    return bounds


def _local_datetime_text(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(value) == 19 and bool(datetime.strptime(value, DATETIME_FORMAT))
    except ValueError:
        return False


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    import calendar

    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


__all__ = ["DATETIME_FORMAT", "Kind", "Param", "check_params", "parse_query", "report_interval"]
