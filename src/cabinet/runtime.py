"""The holder every mounted API reads its shared objects from.

Starlette does not run the lifespan of mounted sub-apps, so the root app's lifespan starts this one object
(resources, domain services, the meter) and each sub-app keeps a reference to it. Before the lifespan has
started it (or after it stopped), ``resources``, ``services`` and ``meter`` raise ``NotStarted``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cabinet.core.http.runtime import NotStarted
from cabinet.core.metering import Meter
from cabinet.core.security.passwords import RequestLoad
from cabinet.settings import Settings

if TYPE_CHECKING:
    from starlette.requests import Request

    from cabinet.domains.registry import Services
    from cabinet.resources import Resources


@dataclass(frozen=True, slots=True)
class _Started:
    resources: Resources
    services: Services
    meter: Meter


class Runtime:
    """Settings from the start; resources, services and the meter while the app's lifespan runs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._started: _Started | None = None

    def start(self, resources: Resources, services: Services, meter: Meter) -> None:
        self._started = _Started(resources, services, meter)

    def stop(self) -> None:
        self._started = None

    @property
    def ready(self) -> bool:
        return self._started is not None

    def _running(self) -> _Started:
        if self._started is None:
            raise NotStarted("cabinet is not started")
        return self._started

    @property
    def resources(self) -> Resources:
        return self._running().resources

    @property
    def services(self) -> Services:
        return self._running().services

    @property
    def meter(self) -> Meter:
        return self._running().meter

    @property
    def load(self) -> RequestLoad:
        return self._running().resources.load


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    if not runtime.ready:  # pragma: no cover - only if a request races the lifespan
        raise NotStarted("cabinet is not started")
    return runtime
