"""Generic list queries: filter trees, sort, paging, compiled to SQL (never evaluated in Python).

An API parses its wire form into a ``Query`` (a tree of ``Condition`` and ``Group`` nodes, sort keys, a page);
a repository runs it over its own select with a ``Catalog`` naming each queryable field's column and type:

    rows, total = await run_query(select(User).where(User.company_id == scope), USER_CATALOG, query, User.id)

Values are checked against the operator/type table here (``QueryValueInvalid`` names the offending field by
its dotted wire path); date-time values are local times of the caller's timezone (``Query.tz_hours``).
"""

from cabinet.core.query.compiler import compile_filter, order_by, run_query
from cabinet.core.query.model import (
    OPERATORS,
    Catalog,
    Condition,
    FieldType,
    Group,
    Node,
    Query,
    QueryField,
    QueryValueInvalid,
    SortKey,
    allowed_operators,
)

__all__ = [
    "OPERATORS",
    "Catalog",
    "Condition",
    "FieldType",
    "Group",
    "Node",
    "Query",
    "QueryField",
    "QueryValueInvalid",
    "SortKey",
    "allowed_operators",
    "compile_filter",
    "order_by",
    "run_query",
]
