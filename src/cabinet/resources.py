"""Resources: the long-lived objects built once per process from Settings (in the root app's lifespan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from limits.aio.storage import Storage
from sqlalchemy import text

from cabinet.core.clock import Clock
from cabinet.core.db.engine import build_engine
from cabinet.core.db.uow import Database
from cabinet.core.limits import build_limit_storage
from cabinet.core.security.passwords import PasswordHasher, RequestLoad
from cabinet.core.security.tokens import TokenCodec
from cabinet.core.stamps import ChangeStamps, build_change_stamps
from cabinet.core.storage import LocalBlobStore
from cabinet.settings import Settings


@dataclass
class Resources:
    settings: Settings
    db: Database
    limit_storage: Storage
    clock: Clock
    hasher: PasswordHasher
    tokens: TokenCodec
    blobs: LocalBlobStore
    stamps: ChangeStamps  # change stamps shared by the processes (the account cache's invalidation)
    secret: bytes = field(repr=False)  # the server secret, read once (keys, sealing, field links, CSRF)

    @property
    def load(self) -> RequestLoad:
        """The requests being served (the middleware counts them; password hashing yields to them)."""
        return self.hasher.load

    async def database_ok(self) -> bool:
        try:
            # One round trip, no BEGIN / ROLLBACK. ``scalar`` reads the row and closes the statement: with no
            # transaction to end, an unread SELECT left SQLite's connection holding a read snapshot in the pool,
            # and a later write on it was refused ("database is locked").
            async with self.db.engine.connect() as conn:
                await (await conn.execution_options(**self.db.read_options)).scalar(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def limiter_ok(self) -> bool:
        try:
            return bool(await self.limit_storage.check())
        except Exception:
            return False

    async def close(self) -> None:
        self.hasher.close()
        await self.stamps.close()
        await self.db.engine.dispose()


def build_resources(settings: Settings, *, clock: Clock | None = None) -> Resources:
    if settings.is_embedded:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.create_secret_file()  # the first start of an embedded data dir
    secret = settings.server_secret()
    engine = build_engine(settings.async_database_url, pool_size=settings.db_pool_size, schema=settings.database_schema)
    return Resources(
        settings=settings,
        db=Database(engine),
        limit_storage=build_limit_storage(settings.redis_url, key_prefix=settings.redis_key_prefix),
        clock=clock or Clock(),
        hasher=PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            concurrency=settings.password_hash_concurrency,
            share_under_load=settings.password_hash_share_under_load,
        ),
        tokens=TokenCodec(secret, algorithm=settings.jwt_algorithm),
        blobs=LocalBlobStore(settings.blob_dir),
        stamps=build_change_stamps(settings.redis_url, key_prefix=settings.redis_key_prefix),
        secret=secret,
    )


def token_ttl_cap(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.access_token_max_ttl_seconds)
