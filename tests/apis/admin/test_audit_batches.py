"""Read audits are written in batches: what happens to a batch whose user is deleted before it is written.

The periodic flush is slowed to a minute here, so the batch is still pending when the test deletes the user
(with the default half second a loaded machine flushed it in between, and the test proved nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import event

from cabinet.core.roles import Role
from cabinet.domains.audit.schemas import AuditQuery
from cabinet.domains.registry import Services
from cabinet.settings import Settings
from tests.apis.admin.test_directory import INFO, USERS, Caller, admin  # noqa: F401 (fixtures)
from tests.helpers import UserFactory, bearer, login


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"audit_flush_interval_seconds": 60.0})


async def test_deleting_a_user_with_unflushed_read_audits(
    api: httpx.AsyncClient,
    admin: Caller,  # noqa: F811 (the fixture imported above)
    make_user: UserFactory,
    services: Services,
) -> None:
    """Reads are audited in batches: a user deleted before its batch is written keeps those records too, and
    the batch does not block everyone else's."""
    leaver = await make_user("leaver", roles=[Role.USER], company="temp_co", password="leaver_password")
    token = bearer(await login(api, leaver))
    start = datetime.now(UTC) - timedelta(minutes=1)
    assert (await api.get(INFO, headers=token)).status_code == 200
    assert (await api.get(f"{USERS}/leaver", headers=admin.headers)).status_code == 200  # someone else's read
    assert services.audit.pending >= 2
    assert (await api.delete(f"{USERS}/leaver", headers=admin.headers)).status_code == 204
    try:
        await services.audit.flush()
        assert services.audit.pending == 0
    finally:
        services.audit._buffer.clear()  # whatever happened, leave the teardown's own flush nothing to trip on
    rows, _, _ = await services.audit.search(
        AuditQuery(date_from=start, date_to=datetime.now(UTC) + timedelta(minutes=1), limit=1000)
    )
    reads = [(a.username, a.operation, a.user_id) for a in rows if a.process_type == "NOTRACE"]
    assert ("leaver", "read_info", None) in reads
    assert ("root_admin", "read_user", admin.user.id) in reads


async def test_batches_of_any_size_are_one_statement(
    api: httpx.AsyncClient,
    make_user: UserFactory,
    services: Services,
) -> None:
    """A batch is written as an executemany of one one-row INSERT, the same text whatever its size: a statement
    whose text grew with the batch made the driver prepare and keep a new server-side statement per size."""
    reader = await make_user("batch_reader", roles=[Role.USER], company="batch_co", password="reader_password")
    token = bearer(await login(api, reader))
    inserts: list[tuple[str, bool, int]] = []

    def capture(_conn: object, _cursor: object, statement: str, params: object, _ctx: object, many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ACTION"):
            inserts.append((statement, many, len(params) if many and isinstance(params, list | tuple) else 1))

    engine = services.audit.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        for size in (3, 7):
            for _ in range(size):
                assert (await api.get(INFO, headers=token)).status_code == 200
            assert await services.audit.flush() == size
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert [(many, rows) for _, many, rows in inserts] == [(True, 3), (True, 7)]
    assert inserts[0][0] == inserts[1][0]
    rows, _, _ = await services.audit.search(
        AuditQuery(
            date_from=datetime.now(UTC) - timedelta(minutes=5),
            date_to=datetime.now(UTC) + timedelta(minutes=1),
            limit=1000,
        )
    )
    mine = [a for a in rows if a.username == "batch_reader" and a.operation == "read_info"]
    assert len(mine) == 10 and {a.user_id for a in mine} == {reader.id}
