from __future__ import annotations

from cabinet.core.errors import CabinetError, ErrorKind


class UsagePeriodInvalid(CabinetError):
    mnemonic = "usage_period_invalid"
    kind = ErrorKind.INVALID
    default_message = "The period is not valid"
