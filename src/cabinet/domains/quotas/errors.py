from __future__ import annotations

from cabinet.core.errors import CabinetError, ErrorKind


class QuotaExceeded(CabinetError):
    mnemonic = "quota_exceeded"
    kind = ErrorKind.QUOTA_EXCEEDED
    default_message = "The points quota is exhausted"


class ConcurrencyLimitReached(CabinetError):
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
