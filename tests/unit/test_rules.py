"""House rules checked by tools, not memory (docs/architecture.md, "Where each rule is enforced")."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import cabinet
from cabinet.core.errors import all_error_classes

SRC = Path(cabinet.__file__).resolve().parent


def _import_everything() -> None:
    for module in pkgutil.walk_packages([str(SRC)], prefix="cabinet."):
        if module.name.startswith("cabinet.migrations.") or module.name in {"cabinet.__main__"}:
            continue
        importlib.import_module(module.name)


def test_error_mnemonics_are_unique() -> None:
    _import_everything()
    seen: dict[str, str] = {}
    for cls in all_error_classes():
        if "mnemonic" not in vars(cls) and cls.__name__ != "CabinetError":
            raise AssertionError(f"{cls.__qualname__} must declare its own mnemonic")
        assert cls.mnemonic not in seen, f"{cls.__qualname__} reuses {cls.mnemonic!r} of {seen.get(cls.mnemonic)}"
        seen[cls.mnemonic] = cls.__qualname__


def test_only_the_unit_of_work_commits() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).as_posix() in {"core/db/uow.py"} or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in {"commit", "rollback"}:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not offenders, f".commit()/.rollback() outside core/db/uow.py: {offenders}"


def test_no_http_exception_below_apis() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(("apis/", "core/http/")) or rel in {"app.py", "routing.py"}:  # they compose the HTTP apps
            continue
        if "HTTPException" in path.read_text():
            offenders.append(rel)
    assert not offenders


def test_root_middlewares_are_pure_asgi_one_job_each() -> None:
    """BaseHTTPMiddleware buffers nothing we want and costs a task per request: the root's are plain ASGI."""
    from starlette.middleware.base import BaseHTTPMiddleware

    from cabinet.app import create_app
    from cabinet.settings import Settings

    app = create_app(Settings(database_url="sqlite:///unused.sqlite3", secret_key="x" * 32))
    classes = [m.cls for m in app.user_middleware]
    assert [c.__name__ for c in classes] == [  # outermost first
        "TraceMiddleware",
        "RequestLogMiddleware",
        "MeteringMiddleware",
        "InFlightMiddleware",
        "BodyLimitMiddleware",
    ]
    assert not any(isinstance(c, type) and issubclass(c, BaseHTTPMiddleware) for c in classes)


def test_only_tracing_reads_its_context_variable() -> None:
    """Other modules reach the running trace through tracing's public functions, not its private ``_current``."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.relative_to(SRC).as_posix() == "core/tracing.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "cabinet.core.tracing":
                offenders += [f"{path.relative_to(SRC)}:{node.lineno}" for a in node.names if a.name.startswith("_")]
    assert not offenders, offenders


REPO = SRC.parent.parent
OUTSIDE_POINTER = re.compile(
    r"\.\./shared|shared/(design|contracts|seeds|style)|\bdesign\.md|\bcontracts(/[\w.-]+)?\s*§|"
    r"\bcontracts/[\w-]+\.md|style-anchors|\bseeds/"
)


def test_nothing_points_outside_the_repository() -> None:
    """A clone must stand alone: no file sends its reader to documents beside the repository (../shared)."""
    offenders = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO)
        if not path.is_file() or any(part.startswith(".") or part in {"var", "test-artifacts"} for part in rel.parts):
            continue
        if rel.as_posix() in {"uv.lock", "tests/unit/test_rules.py"} or "__pycache__" in rel.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE_POINTER.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()[:100]}")
    assert not offenders, "\n".join(offenders)


def test_tests_start_children_in_their_own_session() -> None:
    """A child in the test run's process group gets its signals (a stray KeyboardInterrupt in a run): tests start
    processes with ``tests.helpers.spawn`` (a session of their own) and stop them with ``reap``."""
    offenders = []
    for path in (REPO / "tests").rglob("*.py"):
        if path.name == "helpers.py" and path.parent.name == "tests":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            called = node.func if isinstance(node, ast.Call) else None
            if isinstance(called, ast.Attribute | ast.Name) and getattr(called, "attr", getattr(called, "id", "")) in {
                "Popen",
                "create_subprocess_exec",
                "create_subprocess_shell",
            }:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, offenders


USER_COLUMNS = {
    "username",
    "company_id",
    "password_hash",
    "enabled",
    "roles",
    "specification",
    "email",
    "phone",
    "timezone",
    "attributes",
    "token_version",
}


def test_identity_alone_writes_users() -> None:
    """Users are created and changed by the identity domain only (its rules: token versions, uniqueness); other
    domains ask its service (e.g. fieldservice's UserWriter)."""
    offenders = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(("domains/identity/", "migrations/", "models/")):
            continue
        tree = ast.parse(path.read_text())
        names = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module in {"cabinet.models", "cabinet.models.user"}
            for alias in node.names
            if alias.name == "User"
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in names or (
                    node.func.id in {"update", "insert", "delete"}
                    and node.args
                    and isinstance(node.args[0], ast.Name)
                    and node.args[0].id in names
                ):
                    offenders.append(f"{rel}:{node.lineno}: {ast.unparse(node)[:60]}")
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, ast.AugAssign | ast.AnnAssign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Attribute) and (
                    target.attr in {"token_version", "password_hash"}
                    or (names and rel.startswith("domains/") and target.attr in USER_COLUMNS)
                ):
                    offenders.append(f"{rel}:{node.lineno}: {ast.unparse(target)}")
    assert not offenders, "\n".join(offenders)


# Modules that hold SQL: each domain's repository (repository.py, or a repository/ package).
SQL_BUILDERS = {"select", "update", "insert", "delete", "text", "exists", "pg_insert", "sqlite_insert"}


def test_domains_keep_their_sql_in_repositories() -> None:
    """Services state rules; every statement and session operation is a repository method (the Data API's query
    catalogs too: they are SQL expressions)."""
    offenders = []
    for path in (SRC / "domains").rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if path.name == "repository.py" or "repository" in path.parent.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in SQL_BUILDERS | {"current_session"}:
                    offenders.append(f"{rel}:{node.lineno}: {ast.unparse(node)[:70]}")
            if (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("sqlalchemy")
                and any(alias.name in SQL_BUILDERS for alias in node.names)
            ):
                offenders.append(f"{rel}:{node.lineno}: imports {', '.join(a.name for a in node.names)}")
    assert not offenders, "\n".join(offenders)


def test_one_copy_of_each_shared_rule() -> None:
    """The call tenant scope is written once (fieldservice/repository/scope.py), the lenient date-time parser
    once (apis/shared/params.py): stale copies drifted from the fixed one (issue 17)."""
    scope_writers = [
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if "owner_scope" in path.read_text() and "domains/fieldservice/repository/" in path.as_posix()
    ]
    assert scope_writers == ["domains/fieldservice/repository/scope.py"], scope_writers
    parsers = [
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if re.search(r"^def parse_datetime\(", path.read_text(), re.M)
    ]
    assert parsers == ["apis/shared/params.py"], parsers


UNSTAMPED_CALL_COLUMNS = {"temp_link_id"}  # a field link's id: not synced, part of the list cache's version


def test_every_write_of_a_calls_columns_stamps_the_call() -> None:
    """Every function of the field-service domain that sets a column of a call (``call.<column> = ...``) stamps it
    with the next change number (``feed.stamp``), save the field link's id: the call feed relies on it (a change
    without a new number is never synced), and so do the list's kept views (``call_views.ViewCache``: a call's
    version is its change number, its creation time and its link id)."""
    offenders = []
    for path in sorted((SRC / "domains" / "fieldservice").glob("*.py")):
        if path.name == "feed.py":  # the stamp itself (it numbers new calls)
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            written = {
                target.attr
                for node in ast.walk(function)
                if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "call"
            }
            stamps = any(
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "stamp"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "feed"
                for node in ast.walk(function)
            )
            if written - UNSTAMPED_CALL_COLUMNS and not stamps:
                offenders.append(f"{path.name}:{function.lineno} {function.name}: {sorted(written)}")
    assert not offenders, offenders
