"""The identity domain's integration events (webhooks): companies and users as the Admin API shows them."""

from __future__ import annotations

from typing import Any

from cabinet.core.events import Events
from cabinet.models import Company, User


def company_data(company: Company) -> dict[str, Any]:
    return {
        "key": company.key,
        "detail": company.detail,
        "timezone": company.zone,
        "locale": company.locale,
        "currency": company.currency,
        "created_at": company.created_at.isoformat(),
        "edited_at": company.edited_at.isoformat(),
    }


def user_data(user: User, company_key: str) -> dict[str, Any]:
    return {
        "username": user.username,
        "name": user.specification,
        "email": user.email,
        "phone": user.phone,
        "company_key": company_key,
        "enabled": user.enabled,
        "roles": list(user.roles),
        "created_at": user.created_at.isoformat(),
        "edited_at": user.edited_at.isoformat(),
    }


async def company_event(events: Events, kind: str, company: Company) -> None:
    await events.publish(f"company.{kind}", company.id, company_data(company))


async def user_event(events: Events, kind: str, user: User, company: Company) -> None:
    await events.publish(f"user.{kind}", company.id, user_data(user, company.key))
