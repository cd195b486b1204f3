"""SQLite connections that run statements on the event loop's own thread.

aiosqlite hands every statement to a thread and back, which costs far more than an indexed
read itself. Reads in WAL mode never wait for writers, so running them inline blocks the loop
only for the microseconds of the read. These objects give SQLAlchemy's aiosqlite dialect the
interface of an aiosqlite connection (through `async_creator`) without the thread. Writers
keep aiosqlite: they may wait for the write lock, which must not block the loop.
"""

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any


class _ImmediateQueue:
    """Stands in for aiosqlite's request queue: runs the function at once."""

    def put_nowait(self, item: tuple["asyncio.Future[Any]", Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> "InlineCursor":
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> "InlineCursor":
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection
        self._tx = _ImmediateQueue()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        return InlineCursor(self._conn.execute(sql, parameters))

    def fetch_now(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """Every row of one statement, synchronously (see kit/raw_sql.py)."""
        return self._conn.execute(sql, parameters).fetchall()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()


def inline_connector(path: str, *, timeout: float) -> Callable[[], Awaitable[InlineConnection]]:
    """An `async_creator` for `create_async_engine` opening inline connections to `path`."""

    async def connect() -> InlineConnection:
        # Pools may close a connection from another thread (at disposal), hence the flag.
        connection = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
        return InlineConnection(connection)

    return connect
