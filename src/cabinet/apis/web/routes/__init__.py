"""The web pages' routes: each route module declares its router with ``page_router``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cabinet.apis.web.deps import bind_locale, bind_operation, check_csrf
from cabinet.core.http.subapp import api_router

PAGE_DEPENDENCIES = (bind_locale, check_csrf)
"""What every page route depends on, in this order, once bound to its operation: the visitor's language, CSRF."""


def page_router(**options: Any) -> APIRouter:
    """A router of the pages: bound to the operation, in the visitor's language, CSRF-checked, not in a schema."""
    return api_router(bind_operation, dependencies=PAGE_DEPENDENCIES, include_in_schema=False, **options)
