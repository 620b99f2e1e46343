"""The webhooks domain's errors."""

from __future__ import annotations

from cabinet.core.errors import CabinetError, ErrorKind


class WebhookInvalid(CabinetError):
    mnemonic = "webhook_invalid"
    kind = ErrorKind.INVALID
    default_message = "The webhook endpoint is not valid"


class WebhookUrlRefused(CabinetError):
    """The URL resolves to loopback, private, link-local or metadata addresses (or does not resolve)."""

    mnemonic = "webhook_url_refused"
    kind = ErrorKind.INVALID
    default_message = "The webhook URL is not allowed"


class WebhookNotFound(CabinetError):
    mnemonic = "webhook_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Webhook endpoint not found"


class WebhookDeliveryNotFound(CabinetError):
    mnemonic = "webhook_delivery_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Webhook delivery not found"


class WebhookCompanyNotFound(CabinetError):
    mnemonic = "webhook_company_not_found"
    kind = ErrorKind.NOT_FOUND
    default_message = "Company not found"


class WebhookManagementDenied(CabinetError):
    mnemonic = "webhook_management_denied"
    kind = ErrorKind.FORBIDDEN
    default_message = "You may not manage webhooks"
