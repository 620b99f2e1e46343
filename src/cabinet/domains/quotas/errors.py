from __future__ import annotations

from cabinet.core.errors import CabinetError, ErrorKind
from cabinet.core.tracing import RateLimitState


class QuotaExceeded(CabinetError):
    """``rate_limits``: the quotas that applied (the answer's RateLimit headers)."""

    rate_limits: tuple[RateLimitState, ...] = ()  # set per refusal
    mnemonic = "quota_exceeded"
    kind = ErrorKind.QUOTA_EXCEEDED
    default_message = "The points quota is exhausted"


class ConcurrencyLimitReached(CabinetError):
    rate_limits: tuple[RateLimitState, ...] = ()  # set per refusal
    mnemonic = "concurrency_limit_reached"
    kind = ErrorKind.THROTTLED
    default_message = "Too many requests of this kind are running at once"


class QuotaInvalid(CabinetError):
    mnemonic = "quota_invalid"
    kind = ErrorKind.INVALID
    default_message = "The quota breaks a rule"


class CompanyBudgetExceeded(CabinetError):
    """A company's day or minute points budget (Data API limits) is spent; extra: limit_type, limit_max_value."""

    mnemonic = "company_budget_exceeded"
    kind = ErrorKind.THROTTLED
    default_message = "The points budget is exhausted"


class QuotaAboveCeiling(CabinetError):
    """A COMPANYOWNER may give its users quotas only within the ceiling an ADMIN set for the company."""

    mnemonic = "quota_above_ceiling"
    kind = ErrorKind.FORBIDDEN
    default_message = "The quota is above the company's ceiling"


class QuotaCeilingDenied(CabinetError):
    mnemonic = "quota_ceiling_denied"
    kind = ErrorKind.FORBIDDEN
    default_message = "Only the platform operators (ADMIN, OVERLORD) set a company's quota ceiling"


class QuotaHolderNotFound(CabinetError):
    """The user or company a quota was being set for is gone (deleted or moved by a concurrent request)."""

    mnemonic = "quota_holder_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "No such user or company"
