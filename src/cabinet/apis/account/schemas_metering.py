"""Account API wire DTOs of the metering half (quota, statistics, audit, data), per seed 001."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from pydantic import Field

from cabinet.apis.account.schemas import CompanyKey, Service, Tracedata, Username, WireModel
from cabinet.core.metering import CalculationStatus, ProcessType
from cabinet.core.metering import Service as InternalService

# The published client's ten services are cabinet's one vocabulary (core.metering.Service): the same names.
WIRE_SERVICE: dict[InternalService, Service] = {s: Service(s.value) for s in InternalService}
INTERNAL_SERVICES: dict[Service, list[InternalService]] = {w: [i] for i, w in WIRE_SERVICE.items()}


def wire_service(internal: str) -> Service:
    return WIRE_SERVICE[InternalService(internal)]


class FlowType(enum.StrEnum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


class FlowStage(enum.StrEnum):
    RAW = "RAW"


class SortDirection(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class ProcessQuota(WireModel):
    process_type: ProcessType
    points_per_request: int = Field(ge=0, le=1_000_000)
    points_per_day: int = Field(ge=0, le=100_000_000)
    max_concurrent_execution: int = Field(ge=0, le=1000)


class ServiceQuota(WireModel):
    service: Service
    processes: list[ProcessQuota] = Field(min_length=1, max_length=100)


class QuotaBase(WireModel):
    services: list[ServiceQuota] = Field(min_length=1, max_length=8)


class QuotasResult(WireModel):
    base: QuotaBase


class ProcessStatistics(WireModel):
    process_type: ProcessType
    points_per_day: int = Field(ge=0, le=100_000_000)
    unique_points_per_day: int = Field(ge=0, le=100_000_000)
    elements_per_day: int = Field(ge=0, le=100_000_000)
    processes_per_day: int = Field(ge=0, le=100_000_000)


class ServiceStatistics(WireModel):
    service: Service
    processes: list[ProcessStatistics] = Field(min_length=1, max_length=100)


class DateStatistics(WireModel):
    date: date
    services: list[ServiceStatistics] = Field(max_length=8)


class UserStatistics(WireModel):
    username: Username
    dates: list[DateStatistics] = Field(max_length=3653)


DURATION_PATTERN = r"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d{1,9})?S)?)?$"


class CalculationInfo(WireModel):
    status: CalculationStatus
    message: str | None = Field(default=None, max_length=10_000)
    result_version: int = Field(ge=0, le=1_000_000)
    preparing_time: str = Field(default="PT0S", min_length=3, max_length=16, pattern=DURATION_PATTERN)
    business_validation_time: str = Field(default="PT0S", min_length=3, max_length=16, pattern=DURATION_PATTERN)
    math_validation_time: str = Field(default="PT0S", min_length=3, max_length=16, pattern=DURATION_PATTERN)
    waiting_time: str = Field(default="PT0S", min_length=3, max_length=16, pattern=DURATION_PATTERN)
    calculation_time: str = Field(default="PT0S", min_length=3, max_length=16, pattern=DURATION_PATTERN)
    postprocessing_time: str = Field(default="PT0S", min_length=3, max_length=16, pattern=DURATION_PATTERN)


class AuditActionStatistics(WireModel):
    request_points_count: int | None = Field(default=None, ge=0, le=100_000_000)
    result_elements_count: int | None = Field(default=None, ge=0, le=100_000_000)
    calculation_info: CalculationInfo


class AuditAction(WireModel):
    process_code: uuid.UUID
    process_type: ProcessType
    username: Username
    company: CompanyKey
    service: Service
    time: datetime
    requests: list[Tracedata]
    statistics: AuditActionStatistics
    input_file_exists: bool = False
    output_file_exists: bool = False


class AuditCountersDetail(WireModel):
    total: int = Field(ge=0, le=100_000_000)


class AuditCounters(WireModel):
    overall: AuditCountersDetail
    filter: AuditCountersDetail


class AccountAuditResult(WireModel):
    actions: list[AuditAction] = Field(max_length=2001)
    counters: AuditCounters


def iso_duration(seconds: float) -> str:
    """Seconds as an ISO 8601 duration the client accepts (days, hours, minutes, seconds; <= 16 chars)."""
    seconds = max(0.0, seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    for digits in (6, 3, 0):
        out = "P" + (f"{int(days)}D" if days else "")
        time_part = (f"{int(hours)}H" if hours else "") + (f"{int(minutes)}M" if minutes else "")
        secs_text = f"{secs:.{digits}f}".rstrip("0").rstrip(".") if digits else str(int(secs))
        if (secs_text and secs_text != "0") or not (days or hours or minutes):
            time_part += f"{secs_text or '0'}S"
        if time_part:
            out += "T" + time_part
        if len(out) <= 16:
            return out
    return "P3653D"
