"""ASGI entry for uvicorn workers: ``uvicorn --factory cabinet.asgi:create_from_env``."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from cabinet.app import create_app
from cabinet.settings import Settings

# gen 0 collects after this many more allocations than deallocations (CPython's default: 700); gens 1 and 2 after
# this many collections of the generation below (10 and 10)
COLLECTOR_THRESHOLDS = (10_000, 20, 10)


def create_from_env() -> FastAPI:
    app = create_app(Settings())
    settle_collector()
    return app


def settle_collector() -> None:
    """Keep the cyclic garbage collector off what a server process holds for its whole life.

    Once the app is built, the process holds several hundred thousand long-lived objects (modules, routes,
    schemas, validators): each collection of the oldest generation walked them all, and a page of a thousand calls
    allocates enough to trigger collections several times. ``gc.freeze`` moves them to a permanent generation the
    collector skips (they are never garbage: the process exits with them), and a higher first threshold lets the
    short-lived objects of a request die by reference counting before a collection runs. Measured on a feed page
    of 1,000 calls, in process: 75 ms -> 60 ms (docs/operations.md). Only the server does this: the tests build
    an app per test, which must stay collectable."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
