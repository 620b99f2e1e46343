"""The credentials domain's errors.

Mnemonics are unique across cabinet; ``data_api_mnemonic`` names the Data API's wire mnemonic for the failures
that API reports (its error table: ``GET /v2.0/docs``), so its renderer need not guess.
"""

from __future__ import annotations

from typing import ClassVar

from cabinet.core.errors import CabinetError, ErrorKind


class ApiKeyInvalid(CabinetError):
    """Malformed, unknown, deleted, wrong secret, or issued in a company its owner has left."""

    mnemonic = "api_key_invalid"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "Access token is invalid"
    data_api_mnemonic: ClassVar[str] = "access_token_invalid"


class ApiKeyBlocked(CabinetError):
    mnemonic = "api_key_blocked"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "Access token has been blocked"
    data_api_mnemonic: ClassVar[str] = "access_token_blocked"


class ApiKeyExpired(CabinetError):
    mnemonic = "api_key_expired"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "Access token has been expired"
    data_api_mnemonic: ClassVar[str] = "access_token_expired"


class ApiKeyOwnerInactive(CabinetError):
    """The key is fine but its user is disabled (the identity domain's AccountInactive, seen from a key)."""

    mnemonic = "api_key_owner_inactive"
    kind = ErrorKind.FORBIDDEN
    default_message = "Your account has been disabled, contact the support service"
    data_api_mnemonic: ClassVar[str] = "account_inactive"


class ApiKeyNotFound(CabinetError):
    mnemonic = "api_key_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "API key not found"


class KeyOwnerNotFound(CabinetError):
    mnemonic = "key_owner_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "User not found"


class NetworkCompanyNotFound(CabinetError):
    mnemonic = "network_company_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Company not found"


class ApiKeyRequestInvalid(CabinetError):
    mnemonic = "api_key_request_invalid"
    kind = ErrorKind.INVALID
    default_message = "The API key request breaks a rule"


class ApiKeyLimitReached(CabinetError):
    mnemonic = "api_key_limit_reached"
    kind = ErrorKind.CONFLICT
    default_message = "The user has as many API keys as allowed: delete one first"


class ApiKeyAlreadyRotated(CabinetError):
    """A rotated key works out its grace period; its successor is the one to rotate (a second successor would
    take the old key's shortened life)."""

    mnemonic = "api_key_already_rotated"
    kind = ErrorKind.CONFLICT
    default_message = "This key has been rotated already: rotate its successor"


class NetworkInvalid(CabinetError):
    mnemonic = "network_invalid"
    kind = ErrorKind.INVALID
    default_message = "Not an IPv4 or IPv6 network (CIDR)"


class NetworkLimitReached(CabinetError):
    mnemonic = "network_limit_reached"
    kind = ErrorKind.CONFLICT
    default_message = "The company has as many allowed networks as allowed: remove one first"


class CredentialsManagementDenied(CabinetError):
    """The caller may not do this: read-only roles writing, or a company owner touching a platform role's keys."""

    mnemonic = "credentials_management_denied"
    kind = ErrorKind.FORBIDDEN
    default_message = "You may not manage these credentials"
