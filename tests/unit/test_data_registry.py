"""The Data API method registry: names, operations and field declarations are consistent."""

from __future__ import annotations

import re

import pytest

from cabinet.apis.data import methods
from cabinet.apis.data.registry import DATA_USER, REGISTRY, FieldSpec, get_method
from cabinet.core.metering import ProcessType, Service
from cabinet.core.query import FieldType, QueryField

methods.load()
VERBS = {"get", "getobj", "create", "update", "delete", "enable", "disable", "set", "unset", "login", "logout"}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_method_is_a_declared_data_operation(name: str) -> None:
    method = REGISTRY[name]
    verb, _, noun = name.partition(".")
    assert verb in VERBS and re.fullmatch(r"[a-z][a-z_]*", noun)
    operation = method.operation
    assert (operation.name, operation.service) == (name, Service.REGISTRY)
    writes = verb not in ("get", "getobj")
    assert operation.process_type is (ProcessType.TRACE if writes else ProcessType.NOTRACE)
    assert operation.points == (0 if verb in ("login", "logout") else 1)
    if method.authenticated:
        assert "access_token" in method.params and method.params["access_token"].required
    if verb == "get" and noun != "account":
        assert method.fields and {"filter", "sort", "fields", "offset", "limit"} <= set(method.params)


def test_a_get_method_is_a_few_declarative_lines_and_checks_its_catalog() -> None:
    catalog = {"id": QueryField(None, FieldType.INTEGER)}
    declared = get_method(
        "get.things",
        "Things.",
        rights=DATA_USER,
        catalog=catalog,
        search=lambda s: s.directory.search_users,
        fields=(FieldSpec("id", FieldType.INTEGER, "Id."), FieldSpec("note", FieldType.STRING, "Note.", False, False)),
    )
    assert declared.is_get and declared.operation.process_type is ProcessType.NOTRACE
    with pytest.raises(RuntimeError, match="note"):
        get_method(
            "get.things",
            "Things.",
            rights=DATA_USER,
            catalog=catalog,
            search=lambda s: s.directory.search_users,
            fields=(FieldSpec("note", FieldType.STRING, "Filterable but not in the catalog."),),
        )
