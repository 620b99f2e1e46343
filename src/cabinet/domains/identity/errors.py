from __future__ import annotations

from cabinet.core.errors import CabinetError, ErrorKind


class InvalidCredentials(CabinetError):
    mnemonic = "invalid_credentials"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "Wrong username or password"


class AccountInactive(CabinetError):
    mnemonic = "account_inactive"
    kind = ErrorKind.FORBIDDEN
    default_message = "The user is disabled"


class LoginThrottled(CabinetError):
    mnemonic = "login_throttled"
    kind = ErrorKind.THROTTLED
    default_message = "Too many failed sign-in attempts; try again later"


class AccessTokenInvalid(CabinetError):
    mnemonic = "access_token_invalid"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "The access token is invalid"


class AccessTokenExpired(CabinetError):
    mnemonic = "access_token_expired"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "The access token has expired"


class AccessTokenRevoked(CabinetError):
    mnemonic = "access_token_revoked"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "The access token has been revoked"


class CurrentPasswordWrong(CabinetError):
    mnemonic = "current_password_wrong"
    kind = ErrorKind.FORBIDDEN
    default_message = "The current password is wrong"


class PasswordUnchanged(CabinetError):
    mnemonic = "password_unchanged"
    kind = ErrorKind.INVALID
    default_message = "The new password must differ from the current one"


class UserInvalid(CabinetError):
    mnemonic = "user_invalid"
    kind = ErrorKind.INVALID
    default_message = "The user data break a rule"


class UserAlreadyExists(CabinetError):
    mnemonic = "user_already_exists"
    kind = ErrorKind.CONFLICT
    default_message = "A user with this username already exists"


class UserNotFound(CabinetError):
    mnemonic = "user_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "User not found"


class CompanyNotFound(CabinetError):
    mnemonic = "company_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Company not found"


class CompanyAlreadyExists(CabinetError):
    mnemonic = "company_already_exists"
    kind = ErrorKind.CONFLICT
    default_message = "A company with this key already exists"


class CompanyNotEmpty(CabinetError):
    mnemonic = "company_not_empty"
    kind = ErrorKind.CONFLICT
    default_message = "The company still has users: delete or move them first"


class RoleNotGrantable(CabinetError):
    mnemonic = "role_not_grantable"
    kind = ErrorKind.FORBIDDEN
    default_message = "You may not give these roles"


class CompanyManagementDenied(CabinetError):
    mnemonic = "company_management_denied"
    kind = ErrorKind.FORBIDDEN
    default_message = "Only platform operators create, change or delete companies"


class SelfLockout(CabinetError):
    mnemonic = "self_lockout"
    kind = ErrorKind.CONFLICT
    default_message = "You cannot delete or disable your own account"


class UserInUse(CabinetError):
    mnemonic = "user_in_use"
    kind = ErrorKind.CONFLICT
    default_message = "The user still owns records that must outlive it (contractor calls): disable it instead"


class DataSessionInvalid(CabinetError):
    """A Data API session key never issued, logged out, or whose user changed password, company or state."""

    mnemonic = "data_session_invalid"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "Access token is invalid"


class DataSessionExpired(CabinetError):
    mnemonic = "data_session_expired"
    kind = ErrorKind.UNAUTHENTICATED
    default_message = "Access token has been expired"


class ClientAccessDenied(CabinetError):
    """``user_id`` names no user of a client company linked to the caller's (agent) company, or the caller
    may not act for clients at all."""

    mnemonic = "client_access_denied"
    kind = ErrorKind.FORBIDDEN
    default_message = "Permission denied"
