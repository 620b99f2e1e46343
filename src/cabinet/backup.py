"""``cabinet backup`` / ``cabinet restore``: the database and the blob store, consistent, on either profile.

A backup is a directory:

* ``manifest.json`` — format, time, schema revision, row count per table, SHA-256 of every blob;
* ``tables/<table>.jsonl.gz`` — every row of every table, read in ONE snapshot transaction (PostgreSQL
  REPEATABLE READ, SQLite a read transaction on the WAL), so rows that refer to each other are all there;
* ``blobs/`` — the blob store, copied *after* the snapshot: a blob is written right after its row commits, so
  every blob the snapshot refers to is already there (newer blobs come along and are harmless).

The format is the same for SQLite and PostgreSQL, so a backup also moves an embedded installation to the
scale-out profile. ``restore`` needs the target migrated to the same revision; it replaces every row and the
blob store's content in one go and checks every blob's hash.
"""

# A batch job run by the CLI (no event loop serving anyone): plain blocking file I/O is what it should do.
# ruff: noqa: ASYNC240

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator

import cabinet.models  # noqa: F401 - registers every table on Base.metadata
from cabinet.core.db.base import Base
from cabinet.core.db.engine import build_engine
from cabinet.settings import Settings

FORMAT = "cabinet-backup/1"
BATCH = 1000
SKIPPED_BLOB_PREFIXES = (".tmp-", ".ready-")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    rows: dict[str, int]
    blobs: int


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _decoder(column: Any) -> Callable[[Any], Any]:
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    try:
        python_type = kind.python_type
    except NotImplementedError:
        return lambda v: v
    if python_type is datetime:
        return lambda v: None if v is None else datetime.fromisoformat(v).astimezone(UTC)
    if python_type is date:
        return lambda v: None if v is None else date.fromisoformat(v)
    if python_type is uuid.UUID:
        return lambda v: None if v is None else uuid.UUID(v)
    if python_type is bytes:
        return lambda v: None if v is None else base64.b64decode(v)
    if python_type is Decimal:
        return lambda v: None if v is None else Decimal(v)
    return lambda v: v


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)  # parents before children


async def _revision(conn: AsyncConnection) -> str | None:
    try:
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    except Exception as exc:
        raise BackupError("the database has no cabinet schema: run `cabinet migrate` first") from exc


def _blob_files(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(SKIPPED_BLOB_PREFIXES):
            yield path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def backup(settings: Settings, target: Path) -> BackupSummary:
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    (target / "tables").mkdir(parents=True, exist_ok=True)
    engine = build_engine(settings.async_database_url, pool_size=1, schema=settings.database_schema)
    rows: dict[str, int] = {}
    try:
        options = {} if settings.is_embedded else {"isolation_level": "REPEATABLE READ"}
        async with engine.connect() as conn:
            conn = await conn.execution_options(**options)
            async with conn.begin():  # one snapshot for every table
                revision = await _revision(conn)
                for table in _tables():
                    count = 0
                    with gzip.open(target / "tables" / f"{table.name}.jsonl.gz", "wt", encoding="utf-8") as out:
                        result = await conn.stream(select(table).order_by(*table.primary_key.columns))
                        async for partition in result.partitions(BATCH):
                            for row in partition:
                                out.write(json.dumps({k: _encode(v) for k, v in row._mapping.items()}) + "\n")
                                count += 1
                    rows[table.name] = count
    finally:
        await engine.dispose()
    blobs: dict[str, str] = {}
    for path in _blob_files(settings.blob_dir):  # after the snapshot: see the module's docstring
        key = path.relative_to(settings.blob_dir).as_posix()
        copy = target / "blobs" / key
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        blobs[key] = _sha256(copy)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "revision": revision,
        "source": "sqlite" if settings.is_embedded else "postgresql",
        "rows": rows,
        "blobs": blobs,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return BackupSummary(target, rows, len(blobs))


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} is not a cabinet backup (no readable manifest.json)") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    for key, digest in manifest["blobs"].items():
        path = source / "blobs" / key
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"blob {key} is missing or damaged in the backup")
    return manifest


async def restore(settings: Settings, source: Path) -> BackupSummary:
    manifest = _read_manifest(source)
    engine = build_engine(settings.async_database_url, pool_size=1, schema=settings.database_schema)
    try:
        async with engine.begin() as conn:  # all or nothing
            revision = await _revision(conn)
            if revision != manifest["revision"]:
                raise BackupError(
                    f"the backup is of schema revision {manifest['revision']}, the database is at {revision}: "
                    "restore with the cabinet version that made the backup"
                )
            tables = _tables()
            for table in reversed(tables):
                await conn.execute(table.delete())
            for table in tables:
                await _load_table(conn, table, source / "tables" / f"{table.name}.jsonl.gz")
                count = (await conn.execute(select(func.count()).select_from(table))).scalar_one()
                if count != manifest["rows"].get(table.name, 0):
                    raise BackupError(f"{table.name}: {count} rows restored, the backup has {manifest['rows']}")
            if not settings.is_embedded:
                await _reset_sequences(conn, tables)
    finally:
        await engine.dispose()
    _replace_blobs(settings.blob_dir, source / "blobs", manifest["blobs"])
    return BackupSummary(source, manifest["rows"], len(manifest["blobs"]))


async def _load_table(conn: AsyncConnection, table: Table, path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"the backup has no file for table {table.name}")
    decoders = {column.name: _decoder(column) for column in table.columns}
    batch: list[dict[str, Any]] = []
    with gzip.open(path, "rt", encoding="utf-8") as rows:
        for line in rows:
            raw = json.loads(line)
            batch.append({name: decoders[name](value) for name, value in raw.items()})
            if len(batch) >= BATCH:
                await conn.execute(insert(table), batch)
                batch = []
    if batch:
        await conn.execute(insert(table), batch)


async def _reset_sequences(conn: AsyncConnection, tables: list[Table]) -> None:
    """PostgreSQL: the next generated id continues after the restored ones."""
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.autoincrement == "auto" and len(table.primary_key) == 1):
                sequence = (
                    await conn.execute(
                        text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
                    )
                ).scalar_one_or_none()
                if sequence:
                    await conn.execute(
                        text(
                            f"SELECT setval(:s, COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                        ),
                        {"s": sequence},
                    )


def _replace_blobs(blob_dir: Path, backup_blobs: Path, digests: dict[str, str]) -> None:
    staging = blob_dir.with_name(blob_dir.name + ".restoring")
    shutil.rmtree(staging, ignore_errors=True)
    if backup_blobs.is_dir():
        shutil.copytree(backup_blobs, staging)
    else:
        staging.mkdir(parents=True)
    for key, digest in digests.items():
        if _sha256(staging / key) != digest:
            raise BackupError(f"blob {key} changed while it was restored")
    old = blob_dir.with_name(blob_dir.name + ".replaced")
    shutil.rmtree(old, ignore_errors=True)
    if blob_dir.exists():
        blob_dir.rename(old)
    staging.rename(blob_dir)
    shutil.rmtree(old, ignore_errors=True)
