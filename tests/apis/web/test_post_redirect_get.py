"""Post/Redirect/Get on every form the pages post (issue 18, "safe to click"): each POST route of the web app
answers a 303 redirect (``redirect`` / ``redirect_with_secret``), or, asked by htmx, a fragment swapped into the
page, or a refusal re-rendered with an error status (4xx: nothing was done, so a reload repeats nothing). The
test walks the web app's routes, so a new POST route is checked the day it is added; the browser tests show
the behaviour (a reload after an action sends no POST)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any

from fastapi.routing import APIRoute

from cabinet.apis.web.app import build_app
from cabinet.runtime import Runtime

REDIRECTS = {"redirect", "redirect_with_secret"}


def _routes(routes: list[Any]) -> list[APIRoute]:
    """The routes below ``routes``, included routers too (FastAPI wraps each in a router of its own)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found += _routes(inner.routes)
    return found


def _post_routes(app: Any) -> list[APIRoute]:
    return [r for r in _routes(app.routes) if "POST" in r.methods]


def _called(node: ast.AST) -> str | None:
    """The name a call expression calls (``await f(...)`` included), else None."""
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, ast.Call):
        func = node.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return None


def _error_status(call: ast.AST) -> bool:
    """A page re-rendered with an error status (``status=4xx``): a refusal, nothing done."""
    if isinstance(call, ast.Await):
        call = call.value
    return isinstance(call, ast.Call) and any(
        k.arg == "status" and isinstance(k.value, ast.Constant) and 400 <= int(k.value.value) < 500
        for k in call.keywords
    )


def _htmx_branches(function: ast.AST) -> set[int]:
    """Line numbers of the statements inside ``if is_htmx(request):`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.If) and _called(node.test) == "is_htmx":
            for inner in node.body:
                lines.update(n.lineno for n in ast.walk(inner) if hasattr(n, "lineno"))
    return lines


def _answers(route: APIRoute) -> list[str]:
    """What is wrong with the answers of ``route``'s endpoint (empty: every answer is PRG-safe)."""
    source = textwrap.dedent(inspect.getsource(route.endpoint))
    tree = ast.parse(source)
    function = tree.body[0]
    assigned: dict[str, list[ast.AST]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    htmx = _htmx_branches(function)
    wrong: list[str] = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        values = assigned.get(node.value.id, []) if isinstance(node.value, ast.Name) else [node.value]
        for value in values or [node.value]:
            name = _called(value)
            if name in REDIRECTS or _error_status(value):
                continue
            if name == "page" and node.lineno in htmx:
                template = value.value.args[1] if isinstance(value, ast.Await) else value.args[1]  # type: ignore[attr-defined]
                if isinstance(template, ast.Constant) and str(template.value).startswith("_"):
                    continue  # a fragment for htmx to swap in
            wrong.append(f"line {node.lineno}: {ast.unparse(node)}")
    return wrong


def test_every_post_route_of_the_pages_redirects_or_swaps(settings: Any) -> None:
    app = build_app(Runtime(settings))
    routes = _post_routes(app)
    assert len(routes) >= 40, [r.path for r in routes]  # the walk sees them all (43 today)
    problems = {r.path: wrong for r in routes if (wrong := _answers(r))}
    assert not problems, f"POST routes answering something else than a redirect or an htmx fragment: {problems}"


def test_the_walk_would_catch_a_page_answered_to_a_post() -> None:
    """The check itself: a POST answering a full page (a reload would post again) is reported."""

    async def posts_a_page(request: Any) -> Any:
        return page(request, "account.html")  # noqa: F821  (never run: its source is read)

    async def swaps_outside_htmx(request: Any) -> Any:
        return page(request, "_thread.html")  # noqa: F821

    async def redirects(request: Any) -> Any:
        response = redirect(request, "/ui/account")  # noqa: F821
        return response

    def route(endpoint: Any) -> APIRoute:
        return APIRoute("/x", endpoint, methods=["POST"])

    assert _answers(route(posts_a_page)) and _answers(route(swaps_outside_htmx))
    assert _answers(route(redirects)) == []
