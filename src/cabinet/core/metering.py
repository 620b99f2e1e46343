"""Operations are declared once: service, process type, point cost. Every API uses this one mechanism.

A route (or Data API method) declares an ``Operation``; the API's metering dependency puts a ``Metered`` on
the request's trace after checking quotas; the root middleware hands the finished request to the
``finish`` hook (wired in app.py), which writes the audit record, stores payloads and releases quota slots.
For writes (TRACE), the audit record is added inside the service's own transaction (a commit hook of the unit
of work), so an acknowledged write always has its audit record.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from cabinet.core.principal import Principal
from cabinet.core.tracing import TraceContext, current_trace


class Service(enum.StrEnum):
    """The one vocabulary of services in audit, quotas, statistics and enforcement: the published client's ten.

    cabinet's operations report under four of them (``METERED_SERVICES``): the Account API under ACCOUNT, the
    Admin API and the operator's pages under ADMIN, the JSON-RPC Data API under REGISTRY, the contractor area
    (its API, its pages, field links) under STUDIO. The other six name no operation: no quota may be set on them.
    """

    UNIVERSAL = "UNIVERSAL"
    ROUTING = "ROUTING"
    ACCOUNT = "ACCOUNT"
    ADMIN = "ADMIN"
    STUDIO = "STUDIO"
    MONITOR = "MONITOR"
    PACKER = "PACKER"
    AGRO = "AGRO"
    REGISTRY = "REGISTRY"
    SUPPORT = "SUPPORT"


METERED_SERVICES = frozenset({Service.ACCOUNT, Service.ADMIN, Service.REGISTRY, Service.STUDIO})


class ProcessType(enum.StrEnum):
    NOTRACE = "NOTRACE"  # reads: audited in batches, no payloads kept
    TRACE = "TRACE"  # writes: audited in the same transaction, payloads kept
    PLAN = "PLAN"
    CONVERT = "CONVERT"
    VALIDATE = "VALIDATE"  # dry runs
    ROUTE = "ROUTE"
    MATRIX = "MATRIX"


class CalculationStatus(enum.StrEnum):
    WAITING = "WAITING"
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED_IN_TIME = "FINISHED_IN_TIME"
    FINISHED_OUT_OF_TIME = "FINISHED_OUT_OF_TIME"
    CANCELED = "CANCELED"
    CANCELED_BY_TIMEOUT = "CANCELED_BY_TIMEOUT"
    CANCELED_BY_QUOTA = "CANCELED_BY_QUOTA"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Operation:
    """A declared operation: its wire name (operationId), service, process type and point cost."""

    name: str
    service: Service
    process_type: ProcessType
    points: int = 1
    store_payloads: bool = True  # False for operations whose bodies hold secrets (password changes)
    charged: bool = True  # False: audited, never reserved against a quota (the web pages' views)

    @property
    def keeps_payloads(self) -> bool:
        return self.store_payloads and self.process_type is not ProcessType.NOTRACE

    @property
    def audited_in_transaction(self) -> bool:
        return self.process_type is ProcessType.TRACE

    @property
    def charges_company_budget(self) -> bool:
        """Data API calls also spend their company's day and minute points (seed 003 "Лимиты")."""
        return self.service is Service.REGISTRY and self.points > 0


_DECLARED: dict[tuple[Service, str], Operation] = {}


def declare(operation: Operation) -> Operation:
    """Record an operation some API declared (its routes or methods are built at import time): what the audit,
    quotas and statistics may meet. Declaring the same name twice with another shape is a programming error."""
    key = (operation.service, operation.name)
    known = _DECLARED.setdefault(key, operation)
    if known != operation:
        raise RuntimeError(f"operation {operation.service}/{operation.name} is declared twice, differently")
    return operation


def declared_operations() -> list[Operation]:
    """Every operation declared so far in this process (all of them once the app is built)."""
    return list(_DECLARED.values())


@dataclass(slots=True)
class Metered:
    """Metering state of one running request (hangs off its TraceContext)."""

    operation: Operation
    principal: Principal
    points: int
    elements: int = 0  # result elements, set by the route when it knows them
    refused: bool = False  # refused by a quota: CANCELED_BY_QUOTA
    failed: bool = False  # failed although its HTTP status is a success (JSON-RPC errors are HTTP 200)
    error_message: str | None = None
    input_body: bytes | None = None
    success_status: int = 200  # what the operation answers when it succeeds (201, 204...): a write's audit
    # record is written before the answer, with this status


class Meter(Protocol):
    """What the HTTP layer needs from metering (implemented in wiring.py over the quota and audit domains)."""

    async def admit(
        self, operation: Operation, principal: Principal, input_body: bytes | None, *, success_status: int = 200
    ) -> None: ...

    async def finish(self, trace: TraceContext, http_status: int, output: bytes | None) -> None:
        """The request ended with ``http_status`` (its body ``output`` when the operation keeps payloads)."""

    async def refund(self, trace: TraceContext) -> None:
        """A Data API call failed: give its company points back before the answer reports the limits."""


def set_result_elements(count: int) -> None:
    """Record how many result elements the running operation produced (audit and statistics)."""
    metered = current_trace().metered
    if metered is not None:
        metered.elements = count


TARGET_MAX = 300


def note_target(kind: str, name: object) -> None:
    """Name what the running request changes, for its audit record: ``kind`` is a word ("user", "call",
    "company", ...) the pages label in the reader's language, ``name`` what people know it by."""
    current_trace().target = f"{kind} {name}"[:TARGET_MAX]


def note_failure(message: str) -> None:
    """Let the audit record say why the running metered request failed (each API's error renderer calls it)."""
    metered = current_trace().metered
    if metered is not None and not metered.error_message:
        metered.error_message = message


def mark_failed(message: str) -> None:
    """The running metered request failed though its HTTP status will say 200 (the Data API): not charged,
    audited as FAILED with ``message``."""
    metered = current_trace().metered
    if metered is not None:
        metered.failed = True
        if not metered.error_message:
            metered.error_message = message
