"""What the HTTP layer of the core needs from the app's runtime (``cabinet.runtime.Runtime`` provides it).

Starlette does not run the lifespan of mounted sub-apps, so the root app's lifespan starts one runtime object
and every sub-app keeps it in ``app.state.runtime``. The core sees it only through this protocol: whether it
is started, the meter, and the count of requests being served.
"""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request

from cabinet.core.metering import Meter
from cabinet.core.security.passwords import RequestLoad


class NotStarted(RuntimeError):
    """A request reached a runtime the app's lifespan has not started (or has stopped)."""


class HttpRuntime(Protocol):
    @property
    def ready(self) -> bool: ...

    @property
    def meter(self) -> Meter: ...

    @property
    def load(self) -> RequestLoad: ...


def meter_of(request: Request) -> Meter:
    runtime: HttpRuntime = request.app.state.runtime
    return runtime.meter
