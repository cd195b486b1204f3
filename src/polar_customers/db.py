"""Engines, session factories and the per-request session dependency."""

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from starlette.types import Scope

from polar_customers.config import Settings
from polar_customers.kit.raw_sql import Checkout, RawConnection, RawPool
from polar_customers.kit.sql_json import register_sqlite_functions
from polar_customers.kit.sqlite_inline import inline_connector

SessionFactory = async_sessionmaker[AsyncSession]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_engine(
    settings: Settings,
    *,
    autocommit: bool = False,
    immediate: bool = False,
    inline: bool = False,
    steady: bool = False,
) -> AsyncEngine:
    """An engine for the configured database.

    `autocommit=True` runs every statement on its own, with no BEGIN/COMMIT round trips: for
    requests that only read. On SQLite, `immediate=True` opens transactions with BEGIN
    IMMEDIATE, so that writers queue on the busy timeout instead of failing when a read lock
    must be upgraded, and `inline=True` runs statements on the event loop's thread (for
    short reads only). A `steady` pool keeps every connection it opens (twice the pool size,
    never more): the hot reads of every request would otherwise open and close connections
    beyond the pool size all the time under load, each a new PostgreSQL backend.
    """
    size = settings.database_pool_size
    options: dict[str, Any] = {
        "pool_timeout": settings.database_pool_timeout,
        "pool_size": 2 * size if steady else size,
        "max_overflow": 0 if steady else size,
    }
    if autocommit:
        # No transaction is left to roll back when a connection returns to its pool: skipping
        # the reset saves a round trip (a trip to its thread on aiosqlite).
        options["pool_reset_on_return"] = None
    if not settings.is_sqlite:
        if autocommit:
            options["isolation_level"] = "AUTOCOMMIT"
        return create_async_engine(
            settings.database_url,
            connect_args={"timeout": settings.database_connect_timeout},
            **options,
        )
    timeout = settings.sqlite_busy_timeout_ms / 1000
    if inline:
        # See kit/sqlite_inline.py.
        path = make_url(settings.database_url).database or ""
        options["async_creator"] = inline_connector(path, timeout=timeout)
    else:
        options["connect_args"] = {"timeout": timeout}
    # Non-ASCII characters stored as themselves, not `\uXXXX`: the state's documents embed
    # stored JSON as it is (kit/sql_json.py), and pydantic writes them as themselves.
    options["json_serializer"] = _json_dumps
    engine = create_async_engine(settings.database_url, **options)
    begin = None if autocommit else "BEGIN IMMEDIATE" if immediate else "BEGIN"
    _configure_sqlite(engine, settings, begin=begin)
    return engine


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _configure_sqlite(engine: AsyncEngine, settings: Settings, *, begin: str | None) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()
        register_sqlite_functions(dbapi_connection)

    if begin is not None:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql(begin)


class Database:
    """The engines of one process, each with its own connection pool:
    - hot reads (`hot`): the token lookup, a customer by id, state, balance; without the ORM
      (see kit/raw_sql.py), in autocommit mode, inline on the event loop's thread on SQLite
      (a WAL read never waits and costs microseconds).
    - writes (`write_sessions`): transactions; on SQLite they take the write lock up front.
    - other reads (`read_sessions` for lists, `scans` for the export's batches), in autocommit
      mode; on aiosqlite's threads on SQLite, so that a scan does not stall other requests.
    A request holds at most one hot connection (taken first, by the authentication middleware)
    and then at most one other connection, always in that order: pools never wait on each
    other in a cycle. No connection is held while the request waits on its client (see
    `HotLease`), and a checkout that waits longer than the pool timeout is a 503.
    """

    def __init__(self, settings: Settings) -> None:
        hot, writes, reads = (
            create_engine(settings, autocommit=True, inline=True, steady=True),
            create_engine(settings, immediate=True),
            create_engine(settings, autocommit=True),
        )
        self.engines = [hot, writes, reads]
        self.hot = RawPool(hot)
        self.scans = RawPool(reads)
        self.write_sessions: SessionFactory = async_sessionmaker(writes, expire_on_commit=False)
        self.read_sessions: SessionFactory = async_sessionmaker(reads, expire_on_commit=False)

    def sessions_for(self, method: str) -> SessionFactory:
        return self.read_sessions if method in READ_METHODS else self.write_sessions

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: committed after the handler, rolled back on any error."""
    async with get_database(request).sessions_for(request.method)() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


SessionDependency = Annotated[AsyncSession, Depends(get_session, scope="function")]
"""The request's session. `scope="function"` commits before the response is sent, so that a
2xx always means the change is durable, and a failed commit is an error response."""


HOT_LEASE = "hot_lease"
"""Key in the ASGI scope state of the request's `HotLease`."""


class HotLease:
    """The hot connection that resolved a request's token. The request's hot read may take it
    (one checkout per request on the hottest path). It goes back to the pool as soon as the
    route turns out not to read on it (kit/routing.py), and at the latest when the request
    first waits on its client, reading its body or sending its response: a slow client never
    holds a connection that other requests need."""

    def __init__(self, checkout: Checkout) -> None:
        self._checkout: Checkout | None = checkout

    @property
    def connection(self) -> RawConnection:
        assert self._checkout is not None
        return self._checkout.connection

    def take(self) -> Checkout | None:
        """The connection, now owned by the caller, if it was not given back already."""
        checkout, self._checkout = self._checkout, None
        return checkout

    async def give_back(self) -> None:
        """Return the connection to the pool unless it was taken (idempotent)."""
        checkout, self._checkout = self._checkout, None
        if checkout is not None:
            await checkout.release()


async def give_back_hot_lease(scope: Scope) -> None:
    """Return the request's hot connection to the pool unless its hot read took it."""
    lease: HotLease | None = scope.get("state", {}).get(HOT_LEASE)
    if lease is not None:
        await lease.give_back()


async def get_raw_connection(request: Request) -> AsyncIterator[RawConnection]:
    """A driver connection for the request's hot reads (see kit/raw_sql.py), held until the
    handler returns: the one that resolved its token if it is still lent, else a new one."""
    lease: HotLease | None = request.scope.get("state", {}).get(HOT_LEASE)
    checkout = lease.take() if lease is not None else None
    if checkout is None:
        checkout = await get_database(request).hot.checkout()
    try:
        yield checkout.connection
    finally:
        await checkout.release()


RawConnectionDependency = Annotated[RawConnection, Depends(get_raw_connection, scope="function")]
