from __future__ import annotations

from cabinet.core.errors import CabinetError, ErrorKind


class ProcessNotFound(CabinetError):
    mnemonic = "process_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "No such process"


class PayloadNotFound(CabinetError):
    mnemonic = "payload_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "No stored data for this process (never kept, or expired)"


class AuditQueryInvalid(CabinetError):
    mnemonic = "audit_query_invalid"
    kind = ErrorKind.INVALID
    default_message = "The audit query breaks a rule"


class PayloadNotJson(CabinetError):
    mnemonic = "payload_not_json"
    kind = ErrorKind.INVALID
    default_message = "The stored data is not JSON, so it has no JSON or XLSX form: ask for it as stored (ORIGIN)"
