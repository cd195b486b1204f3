"""Hot reads on the database driver's own connection, with SQLAlchemy's type conversions.

A primary-key read through an ORM session costs about four times the query itself (session,
greenlet hop, ORM loading). The few reads made on every request (the token lookup, a
customer by id) instead compile their Core statement once per dialect and run it on the
pooled driver connection, converting parameters and columns with the same processors
SQLAlchemy would apply, so rows come back exactly as a Core query would return them.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

from polar_customers.kit.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor, ...]

    def arguments(self, parameters: dict[str, Any]) -> list[Any]:
        return [
            parameters[name] if process is None else process(parameters[name])
            for name, process in self.binds
        ]

    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, self.results, strict=True)
        )


class RawQuery:
    """A Core SELECT with named bound parameters, compiled on first use for each dialect."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        names = compiled.positiontup or []
        binds = tuple(
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        )
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.selected_columns
        )
        return _Compiled(compiled.string, binds, results)


class RawConnection:
    """A driver connection (asyncpg, aiosqlite, or an inline sqlite3 one) and its dialect."""

    def __init__(self, driver_connection: Any, dialect: Dialect) -> None:
        self._driver = driver_connection
        self._dialect = dialect

    async def fetch(self, query: RawQuery, **parameters: Any) -> list[tuple[Any, ...]]:
        """Every row of `query` with these parameters."""
        compiled = query.compiled(self._dialect)
        rows = await self._rows(compiled.sql, compiled.arguments(parameters))
        return [compiled.convert(row) for row in rows]

    async def _rows(self, sql: str, arguments: list[Any]) -> Sequence[Any]:
        if self._dialect.name != "sqlite":
            return await self._driver.fetch(sql, *arguments)  # type: ignore[no-any-return]
        if isinstance(self._driver, InlineConnection):
            return self._driver.fetch_now(sql, arguments)
        cursor = await self._driver.execute(sql, arguments)
        try:
            return await cursor.fetchall()  # type: ignore[no-any-return]
        finally:
            await cursor.close()

    async def fetch_one(self, query: RawQuery, **parameters: Any) -> tuple[Any, ...] | None:
        """The first row of `query`, or None."""
        rows = await self.fetch(query, **parameters)
        return rows[0] if rows else None


@asynccontextmanager
async def raw_connection(engine: AsyncEngine) -> AsyncIterator[RawConnection]:
    """A driver connection checked out of `engine`'s pool for the duration of the block.

    The engine must run statements in autocommit mode: nothing here begins or ends a
    transaction.
    """
    pooled = await engine.raw_connection()
    try:
        yield RawConnection(pooled.driver_connection, engine.dialect)
    finally:
        # Returning it to the pool resets it through the async adapter, which needs a greenlet.
        await greenlet_spawn(pooled.close)
