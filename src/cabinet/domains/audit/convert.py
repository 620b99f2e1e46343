"""Stored payloads in other forms (the Admin API's deprecated ``data_flow_convert``): checked JSON, and JSON
flattened into one XLSX sheet of key/value rows.

The sheet ("Data") has two columns, ``Path`` and ``Value``, and one row per leaf of the document, in document
order: ``services[0].methods[1].points_per_day | 1500``. Paths join object keys with ``.`` and list indexes in
``[i]``; the root itself is ``$`` (a scalar document); an empty object or list is a leaf shown as ``{}`` or
``[]``; JSON null is shown as ``null``. Numbers are numbers (integers beyond 10^15 become text, so no digit is
lost to a float); strings are always written as text (never a formula or a link). Rows past Excel's limit are
cut off with a last row saying so. The workbook is written in constant-memory mode, row by row.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import xlsxwriter

from cabinet.domains.audit.errors import PayloadNotJson

MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
EXACT_INTEGER = 10**15  # beyond this, a float (Excel's only number) may change the value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes) -> Any:
    """The payload as a JSON document, or PayloadNotJson (not UTF-8/16/32 text, not strict JSON, too deep)."""
    try:
        return json.loads(data, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise PayloadNotJson() from exc


def leaves(document: Any) -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf, in document order; iterative, so any depth json accepted is fine."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict) and value:
            stack.extend((f"{path}.{key}" if path else str(key), item) for key, item in reversed(value.items()))
        elif isinstance(value, list) and value:
            stack.extend((f"{path}[{i}]", value[i]) for i in range(len(value) - 1, -1, -1))
        else:
            yield path or "$", value


def write_workbook(data: bytes, directory: Path | None, *, title: str) -> Path:
    """Write the JSON payload ``data`` as an XLSX file in ``directory`` (None: the system's temp dir)."""
    document = parse_json(data)
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="payload-", suffix=".xlsx", dir=directory)
    os.close(fd)
    path = Path(name)
    try:
        _write(path, document, title)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _write(path: Path, document: Any, title: str) -> None:
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    workbook.set_properties({"title": title[:255], "author": "cabinet", "comments": "Stored request data"})
    sheet = workbook.add_worksheet("Data")
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    sheet.write_row(0, 0, ["Path", "Value"], bold)
    sheet.freeze_panes(1, 0)
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 1, 32)
    row = 1
    for key, value in leaves(document):
        if row == MAX_ROWS - 1:
            sheet.write_string(row, 0, "…")
            sheet.write_string(row, 1, f"cut off: a sheet holds at most {MAX_ROWS} rows")
            break
        sheet.write_string(row, 0, key)
        _write_value(sheet, row, value)
        row += 1
    workbook.close()


def _write_value(sheet: Any, row: int, value: Any) -> None:
    if isinstance(value, bool):
        sheet.write_boolean(row, 1, value)
    elif isinstance(value, int) and abs(value) < EXACT_INTEGER:
        sheet.write_number(row, 1, value)
    elif isinstance(value, float) and math.isfinite(value):
        sheet.write_number(row, 1, value)
    elif isinstance(value, str):
        sheet.write_string(row, 1, value)
    elif value is None:
        sheet.write_string(row, 1, "null")
    elif isinstance(value, dict):
        sheet.write_string(row, 1, "{}")
    elif isinstance(value, list):
        sheet.write_string(row, 1, "[]")
    else:
        sheet.write_string(row, 1, str(value))
