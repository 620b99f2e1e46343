"""`cabinet backup` / `cabinet restore`: a backup taken while writes go on restores to a consistent state."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from cabinet.app import create_app
from cabinet.backup import BackupError, backup, restore
from cabinet.core.roles import Role
from cabinet.domains.registry import Services
from cabinet.migrations import upgrade
from cabinet.settings import Settings
from tests.helpers import UserFactory, bearer, clean, login, postgres_schema


@pytest.fixture
def target_settings(settings: Settings, tmp_path: Path) -> Any:
    """A second, empty installation of the same backend to restore into."""
    schema = f"{settings.database_schema}_r" if settings.database_schema else None
    target = settings.model_copy(update={"data_dir": tmp_path / "restored", "database_schema": schema})
    if schema:
        postgres_schema(target, create=True)
    upgrade(target)
    yield target
    if schema:
        postgres_schema(target, create=False)


async def test_backup_under_writes_restores_consistently(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    services: Services,
    settings: Settings,
    target_settings: Settings,
    tmp_path: Path,
) -> None:
    writer = await make_user("backup_writer", roles=[Role.USER], company="backup_co")
    token = await login(client, writer)
    for i in range(5):  # traced writes: audit rows with stored payloads
        put = await client.put("/account/info", headers=bearer(token), json={"specification": f"before {i}"})
        assert put.status_code == 200
    await services.audit.flush()

    stop = asyncio.Event()
    written: list[str] = []

    async def keep_writing() -> None:
        i = 0
        while not stop.is_set():
            put = await client.put("/account/info", headers=bearer(token), json={"specification": f"during {i}"})
            assert put.status_code == 200
            written.append(put.headers["x-process-code"])
            i += 1
            await asyncio.sleep(0)

    load = asyncio.create_task(keep_writing())
    await asyncio.sleep(0.2)
    summary = await backup(settings, tmp_path / "backup")
    await asyncio.sleep(0.1)
    stop.set()
    await load
    assert written, "no write happened while the backup ran"

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["rows"]["user_account"] == 1 and manifest["rows"]["company"] == 1
    assert manifest["rows"]["audit_action"] >= 5
    assert summary.blobs == len(manifest["blobs"]) >= 10

    restored = await restore(target_settings, tmp_path / "backup")
    assert restored.rows == manifest["rows"]

    # the restored installation works: same users, every traced write in it has both of its payloads
    app = create_app(target_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://restored") as again:
            token = await login(again, writer)
            audit = await again.get("/account/audit", headers=bearer(token), params={"limit": 2001})
            assert audit.status_code == 200
            traced = [a for a in audit.json()["actions"] if a["process_type"] == "TRACE"]
            assert len(traced) == manifest["rows"]["audit_action"]
            for action in traced:
                assert action["input_file_exists"] and action["output_file_exists"], action
                for flow in ("INPUT", "OUTPUT"):
                    data = await again.get(
                        f"/account/data/{action['process_code']}",
                        headers=bearer(token),
                        params={"data_flow_type": flow},
                    )
                    assert data.status_code == 200, (action["process_code"], flow, data.text)
            # new rows get fresh ids after the restored ones
            made = await again.put("/account/info", headers=bearer(token), json={"specification": "after"})
            assert made.status_code == 200
        await clean(app)


async def test_restore_refuses_what_it_cannot_trust(
    settings: Settings, target_settings: Settings, tmp_path: Path
) -> None:
    await backup(settings, tmp_path / "b")
    with pytest.raises(BackupError, match="not empty"):
        await backup(settings, tmp_path / "b")
    manifest_path = tmp_path / "b" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["revision"] = "0000_elsewhere"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="schema revision"):
        await restore(target_settings, tmp_path / "b")
    with pytest.raises(BackupError, match="not a cabinet backup"):
        await restore(target_settings, tmp_path / "nothing")
