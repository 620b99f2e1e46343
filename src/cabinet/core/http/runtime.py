"""The holder every mounted API reads its shared objects from.

Starlette does not run the lifespan of mounted sub-apps, so the root app's lifespan fills this one object
(settings, resources, domain services) and each sub-app keeps a reference to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request


@dataclass
class Runtime:
    settings: Any
    resources: Any = None
    services: Any = None
    meter: Any = None  # cabinet.core.metering.Meter

    @property
    def ready(self) -> bool:
        return self.services is not None


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    if not runtime.ready:  # pragma: no cover - only if a request races the lifespan
        raise RuntimeError("cabinet is not started")
    return runtime
