"""Shared by the schemathesis tests: the checks every API must pass and the app they fuzz."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cabinet.app import create_app
from cabinet.settings import Settings
from tests.helpers import clean_sync_copy

# No 5xx; every status, content type, header and body as documented. (``negative_data_rejection`` is left out:
# unknown query parameters are ignored; the refusals are pinned field by field in each API's wire tests.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@contextmanager
def fuzzed_app(settings: Settings) -> Iterator[tuple[Any, Any]]:
    """The app with its lifespan running on schemathesis' loop, and a client; the database is emptied after."""
    application = create_app(settings)
    try:
        with asgi.get_client(application) as client:
            yield application, client
    finally:
        asgi.shutdown_lifespans()
        asyncio.run(clean_sync_copy(settings))


def without_fuzzing_phase(schema: Any) -> Any:
    """The schema for the calls made without credentials: its examples and coverage phases only (every method on
    every path, every boundary and negative value of every parameter). Without credentials the fuzzing phase
    found nothing those had not: of its 844 cases on the admin and contractor APIs, 764 were the same 401 and the
    rest the 400s and 404s the coverage phase also produces (4,340 cases). It was a tenth of the suite's CPU."""
    schema.config.phases.fuzzing.enabled = False
    return schema
