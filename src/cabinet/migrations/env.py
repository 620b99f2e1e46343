from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import cabinet.models  # noqa: F401  (registers every table)
from cabinet.core.db.base import Base
from cabinet.core.db.engine import build_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main(url: str, schema: str | None) -> None:
    engine = build_engine(url, pool_size=1, schema=schema)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


url = context.config.attributes["async_url"]
connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_main(url, context.config.attributes.get("schema")))
