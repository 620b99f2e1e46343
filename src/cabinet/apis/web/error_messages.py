"""Babel extraction of what errors say (``./dev i18n``, see ``locale/babel.cfg``): every class attribute
named ``default_message`` (or another ``…_message``) whose value is a string, and every ``FieldIssue``'s
message, written out or a module-level string constant, in any module of the package. The pages show an error's
message in the reader's language when the catalog knows it (``errors.render_error``), so a new error class is in
the catalogs the next time they are extracted, with no list to keep by hand. A value the extractor cannot read as
a string stops the extraction."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any, cast

from babel.messages.extract import extract_python

Extracted = tuple[Any, ...]  # (line, function name, message(s), comments): Babel's extraction method protocol


def extract(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str], options: dict[str, Any]
) -> Iterator[Extracted]:
    """The messages of one module: its gettext calls too when the mapping says ``calls = yes`` (the pages'
    own modules), then its errors' messages."""
    source = fileobj.read()
    if options.get("calls") == "yes":
        fileobj.seek(0)
        yield from extract_python(fileobj, keywords, comment_tags, cast(Any, options))
    for line, message in error_messages(source.decode(options.get("encoding", "utf-8"))):
        yield line, None, message, []


def error_messages(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every ``*_message`` string attribute of a class in ``source``."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        for node in cls.body:
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            else:
                continue
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if not any(n.endswith("_message") for n in names):
                continue
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                yield node.lineno, value.value
            elif isinstance(value, ast.Name) and value.id in constants:
                yield node.lineno, constants[value.id]
            elif "default_message" in names:  # an error's words must be readable here, or the catalogs miss them
                raise ValueError(f"line {node.lineno}: {cls.name}.default_message is not a string the extractor reads")
    yield from field_issue_messages(tree, constants)


def field_issue_messages(tree: ast.AST, constants: Mapping[str, str]) -> Iterator[tuple[int, str]]:
    """(line, text) of every ``FieldIssue(field, message)`` whose message is written out (or a module-level
    constant): the pages show it beside the field (``forms``). A composed message stays in English."""
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or getattr(call.func, "id", getattr(call.func, "attr", None)) != "FieldIssue":
            continue
        keyword = next((k.value for k in call.keywords if k.arg == "message"), None)
        message = call.args[1] if len(call.args) > 1 else keyword
        if isinstance(message, ast.Constant) and isinstance(message.value, str) and message.value:
            yield call.lineno, message.value
        elif isinstance(message, ast.Name) and message.id in constants:
            yield call.lineno, constants[message.id]
