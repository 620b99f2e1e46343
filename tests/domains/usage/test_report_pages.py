"""The XLSX usage report reads its actions in keyset pages: every action of the period exactly once, in
(billing day, id) order, whatever the page size and however the ids interleave across days."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from sqlalchemy import insert

from cabinet.domains.registry import Services
from cabinet.domains.usage import service as usage_service
from cabinet.domains.usage.schemas import UsageQuery
from cabinet.models import AuditAction
from tests.helpers import UserFactory

DAY = date(2026, 3, 10)


def _action(user: Any, day: date, second: int) -> dict[str, Any]:
    return dict(
        process_code=uuid.uuid4(),
        request_code=uuid.uuid4(),
        company_id=user.company_id,
        user_id=user.id,
        username=user.username,
        company_key="acme_corp",
        service="ACCOUNT",
        process_type="NOTRACE",
        operation=f"op_{day.day}_{second}",
        env="test",
        pod="pod",
        status="FINISHED_IN_TIME",
        message=None,
        http_status=200,
        started_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC) + timedelta(seconds=second),
        duration_seconds=0.25,
        billing_date=day,
        request_points=2,
        result_elements=3,
        input_digest=None,
        input_blob=None,
        output_blob=None,
    )


async def _seed(app: Any, rows: list[dict[str, Any]]) -> None:
    async with app.state.runtime.resources.db.engine.begin() as conn:
        for row in rows:  # one by one: ids follow this order
            await conn.execute(insert(AuditAction), [row])


async def _actions(services: Services, query: UsageQuery) -> list[tuple[Any, ...]]:
    path = await services.usage.build_report(query, title="pages")
    try:
        book = openpyxl.load_workbook(path)
        return list(book["Actions"].iter_rows(values_only=True))[1:]
    finally:
        path.unlink()


@pytest.mark.parametrize("page", [1, 3, 7, 5000])
async def test_every_action_once_in_day_then_id_order(
    app: Any, services: Services, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    monkeypatch.setattr(usage_service, "BATCH", page)
    me = await services.identity.get_account_by_id((await make_user(username="reporter")).id)
    colleague = await services.identity.get_account_by_id((await make_user(username="colleague")).id)
    stranger = await services.identity.get_account_by_id((await make_user(username="far", company="elsewhere")).id)
    days = [DAY + timedelta(days=2), DAY, DAY + timedelta(days=1), DAY]  # ids interleave across days
    rows = [_action(who, day, i) for i, day in enumerate(days * 4) for who in (me, colleague, stranger)]
    rows += [_action(me, DAY - timedelta(days=1), 1), _action(me, DAY + timedelta(days=3), 1)]  # outside the period
    await _seed(app, rows)

    def expected(users: set[int]) -> list[str]:
        inside = [(r["billing_date"], i, r) for i, r in enumerate(rows) if r["user_id"] in users]
        return [
            r["operation"]
            for day, _, r in sorted(inside, key=lambda t: (t[0], t[1]))
            if DAY <= day <= DAY + timedelta(days=2)
        ]

    mine = await _actions(services, UsageQuery(date_from=DAY, date_to=DAY + timedelta(days=2), user_id=me.id))
    assert [row[4] for row in mine] == expected({me.id})
    first = next(r for r in rows if r["operation"] == mine[0][4] and r["user_id"] == me.id)
    assert mine[0] == (
        first["started_at"].replace(tzinfo=None),
        "reporter",
        "ACCOUNT",
        "NOTRACE",
        first["operation"],
        "FINISHED_IN_TIME",
        2,
        3,
        0.25,
        str(first["process_code"]),
    )

    company = await _actions(
        services, UsageQuery(date_from=DAY, date_to=DAY + timedelta(days=2), company_id=me.company_id)
    )
    assert [row[4] for row in company] == expected({me.id, colleague.id})
    assert "far" not in {row[1] for row in company}


async def test_empty_period_has_only_the_header(services: Services, make_user: UserFactory) -> None:
    me = await services.identity.get_account_by_id((await make_user()).id)
    assert await _actions(services, UsageQuery(date_from=DAY, date_to=DAY, user_id=me.id)) == []
