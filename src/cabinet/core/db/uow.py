"""The unit of work: the only place that commits or rolls back.

A service method decorated with ``@transactional`` (writes) or ``@read_only`` runs inside one unit of work;
nested service calls join the outer one. Repositories reach the session with ``current_session()``.
Callbacks registered with ``after_commit`` run only once the commit has succeeded (events, jobs).

SQLite allows one writer at a time and fails at once (no waiting) when a transaction that has read tries
to write after another writer committed. In the embedded profile (one process) writing units therefore
queue on an in-process lock; reading units never wait. PostgreSQL needs no such lock.
Never hold a unit of work open across slow work (password hashing, file I/O): do that before or after.

A request may ask for its writes to be *held* (``held_writes``, used by idempotent requests): once armed
(``arm_held_writes``, after the caller is known: writes made while authenticating, such as an API key's last use,
stay ordinary units), its first writing unit runs a ``begin`` hook as its first statement (claiming the request's
key), then stays open past the service method; every later unit of that request joins it, and the request itself
commits (``HeldWrites.complete``) once it has its answer, so the change, the key and the stored answer commit
together or not at all.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cabinet.core.db.engine import READ_ONLY_OPTION
from cabinet.core.tracing import active_trace


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None
        # A reading unit sends no BEGIN / ROLLBACK: on SQLite each SELECT reads its own WAL snapshot; on
        # PostgreSQL it runs in autocommit, which under READ COMMITTED (each statement its own snapshot) sees
        # what a transaction would, for two round trips less.
        # (Either way a write would be kept, not rolled back: the engine refuses one in a reading unit.)
        self.read_options: dict[str, Any] = {READ_ONLY_OPTION: True}
        if engine.dialect.name != "sqlite":
            self.read_options["isolation_level"] = "AUTOCOMMIT"
        # Called with the session's ``info`` after every successful commit, before the unit's own after-commit
        # callbacks: what a flush noted there (say, the users a flush changed) is acted on once it is durable.
        self.commit_observers: list[Callable[[dict[str, Any]], Awaitable[None]]] = []

    async def committed(self, info: dict[str, Any]) -> None:
        for observer in self.commit_observers:
            await observer(info)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@dataclass(slots=True)
class _Unit:
    session: AsyncSession
    write: bool
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_rollback: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


_active: ContextVar[_Unit | None] = ContextVar("cabinet_uow", default=None)


class HeldWrites:
    """One request's writes held in one transaction until the request commits it (see the module's docstring)."""

    def __init__(self, db: Database, begin: Callable[[AsyncSession], Awaitable[None]]) -> None:
        self.db = db
        self.begin = begin
        self.unit: _Unit | None = None
        self.armed = False
        self._locked = False

    @property
    def session(self) -> AsyncSession | None:
        return self.unit.session if self.unit is not None else None

    async def _open(self) -> _Unit:
        lock = self.db._write_lock
        if lock is not None:
            await lock.acquire()
            self._locked = True
        session = self.db.sessionmaker()
        unit = self.unit = _Unit(session, True)
        token = _active.set(unit)
        try:
            await self.begin(session)
        except BaseException:
            await self.abort()
            raise
        finally:
            _active.reset(token)
        return unit

    async def complete(self) -> None:
        """Commit what the request wrote (nothing when it never opened a writing unit), then run its after-commit
        callbacks."""
        unit = self.unit
        if unit is None:
            return
        token = _active.set(unit)
        try:
            await _run_commit_hooks(unit.session)
            await unit.session.commit()
        except BaseException:
            await self.abort()
            raise
        finally:
            _active.reset(token)
        self.unit = None
        await self._close(unit)
        await self.db.committed(unit.session.info)
        for callback in unit.after_commit:
            await callback()

    async def abort(self) -> None:
        """Roll back what the request wrote (a no-op once committed or when nothing was written)."""
        unit = self.unit
        if unit is None:
            return
        self.unit = None
        try:
            await unit.session.rollback()
        finally:
            await self._close(unit)
            for callback in unit.on_rollback:
                await callback()

    async def _close(self, unit: _Unit) -> None:
        try:
            await unit.session.close()
        finally:
            if self._locked and self.db._write_lock is not None:
                self._locked = False
                self.db._write_lock.release()


_held: ContextVar[HeldWrites | None] = ContextVar("cabinet_held_writes", default=None)


@asynccontextmanager
async def held_writes(db: Database, begin: Callable[[AsyncSession], Awaitable[None]]) -> AsyncIterator[HeldWrites]:
    """Hold this request's writes in one transaction (``begin`` runs first in it) until ``commit()``; leaving the
    block without committing rolls them back."""
    if _held.get() is not None or _active.get() is not None:
        raise RuntimeError("held writes start outside any unit of work, once per request")
    held = HeldWrites(db, begin)
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)
        await held.abort()


def arm_held_writes() -> bool:
    """From now on, the running request's writes are held (if it asked for that); True when it did."""
    held = _held.get()
    if held is None:
        return False
    held.armed = True
    return True


@asynccontextmanager
async def unit_of_work(db: Database, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    outer = _active.get()
    if outer is not None:
        if write and not outer.write:
            raise RuntimeError("a writing unit of work cannot join a read-only one")
        yield outer.session
        return
    held = _held.get()
    if held is not None and held.armed and held.db is db and (held.unit is not None or write):
        unit = held.unit or await held._open()
        token = _active.set(unit)
        try:
            yield unit.session
        except BaseException:
            await held.abort()
            raise
        finally:
            _active.reset(token)
        return
    lock = db._write_lock if write else None
    committed: dict[str, Any] | None = None
    if lock is not None:
        await lock.acquire()
    try:
        async with db.sessionmaker() as session:
            if not write:
                await session.connection(execution_options=db.read_options)
            unit = _Unit(session, write)
            token = _active.set(unit)
            try:
                yield session
                if write:
                    await _run_commit_hooks(session)
                    await session.commit()
                    committed = session.info
                # a reading unit just closes: the connection's transaction ends, loaded objects stay usable
            except BaseException:
                await session.rollback()
                for callback in unit.on_rollback:
                    await callback()
                raise
            finally:
                _active.reset(token)
    finally:
        if lock is not None:
            lock.release()
    if committed is not None:
        await db.committed(committed)
    for callback in unit.after_commit:
        await callback()


async def _run_commit_hooks(session: AsyncSession) -> None:
    """Request-scoped hooks (e.g. the audit record of a write) join the request's first committing unit."""
    trace = active_trace()
    if trace is None:
        return
    while trace.commit_hooks:
        hook = trace.commit_hooks.pop(0)
        await hook(session)


def current_session() -> AsyncSession:
    unit = _active.get()
    if unit is None:
        raise RuntimeError("no unit of work is active: call repositories from a @transactional service method")
    return unit.session


def after_commit(callback: Callable[[], Awaitable[None]]) -> None:
    unit = _active.get()
    if unit is None:
        raise RuntimeError("after_commit outside a unit of work")
    unit.after_commit.append(callback)


def on_rollback(callback: Callable[[], Awaitable[None]]) -> None:
    """Run ``callback`` if the active unit of work rolls back (undo what cannot roll back with it: a placed file)."""
    unit = _active.get()
    if unit is None:
        raise RuntimeError("on_rollback outside a unit of work")
    unit.on_rollback.append(callback)


class _HasDatabase(Protocol):
    db: Database


P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound=_HasDatabase)


def transactional(fn: Callable[Concatenate[S, P], Awaitable[R]]) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Run a service method as one writing unit of work (joining the caller's, if one is active)."""

    @functools.wraps(fn)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with unit_of_work(self.db, write=True):
            return await fn(self, *args, **kwargs)

    return wrapper


def read_only(fn: Callable[Concatenate[S, P], Awaitable[R]]) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Run a service method as one reading unit of work: never commits, never waits for writers."""

    @functools.wraps(fn)
    async def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        async with unit_of_work(self.db, write=False):
            return await fn(self, *args, **kwargs)

    return wrapper
