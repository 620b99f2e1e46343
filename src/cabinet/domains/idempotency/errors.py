"""The idempotency domain's errors."""

from __future__ import annotations

from cabinet.core.errors import CabinetError, ErrorKind


class IdempotencyKeyReused(CabinetError):
    """The key already answered a different request (another method, path, query or body) of this caller."""

    mnemonic = "idempotency_key_reused"
    kind = ErrorKind.UNPROCESSABLE
    default_message = "This Idempotency-Key was already used for a different request"
