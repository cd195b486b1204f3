"""Hot reads on the database driver's own connection, with SQLAlchemy's type conversions.

A primary-key read through an ORM session costs about four times the query itself (session,
greenlet hop, ORM loading), and an ORM result costs more per row than the export's CSV
formatting. The reads made on every request (the token lookup, a customer by id, its state
and balance) and the export's scan instead compile their Core statement once per dialect and
run it on the driver connection, converting parameters and columns with the same processors
SQLAlchemy would apply, so rows come back exactly as a Core query would return them.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Label, Select, inspect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import TypeEngine
from sqlalchemy.util import greenlet_spawn

from polar_customers.kit.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor, ...]
    constants: dict[str, Any]  # values bound in the statement itself (JSON paths, ...)

    def arguments(self, parameters: dict[str, Any]) -> list[Any]:
        values = self.constants | parameters
        return [
            values[name] if process is None else process(values[name])
            for name, process in self.binds
        ]

    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(row, self.results, strict=True)
        )

    def convert_all(self, rows: Sequence[Any]) -> list[Any]:
        """The rows converted; as they came when no column needs a conversion."""
        if not any(self.results):
            return list(rows)
        return [self.convert(row) for row in rows]


_POSTGRESQL_NUMERIC = 1700  # the type code of `numeric` columns


def _result_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor:
    impl = type_.dialect_impl(dialect)
    try:
        return impl.result_processor(dialect, None)
    except (TypeError, InvalidRequestError):
        # PostgreSQL dialects choose numeric conversions by the column's type code, which a
        # raw query does not report; `numeric` is the only type that asks for it here.
        return impl.result_processor(dialect, _POSTGRESQL_NUMERIC)


def attribute_columns(model: type[Any]) -> list[Label[Any]]:
    """A mapped class's columns, labelled with their attribute names (for mappings that
    validate the class's schemas)."""
    return [attribute.columns[0].label(attribute.key) for attribute in inspect(model).column_attrs]


class RawQuery:
    """A Core SELECT with named bound parameters, compiled on first use for each dialect.

    Its statement may not hold an expanding IN (a list of values known only per call).
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.names = tuple(str(column.key) for column in statement.selected_columns)
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError(f"an expanding IN cannot be run raw: {self.statement}")
        names = compiled.positiontup or []
        binds = tuple(
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        )
        results = tuple(
            _result_processor(column.type, dialect) for column in self.statement.selected_columns
        )
        constants = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None
        }
        return _Compiled(compiled.string, binds, results, constants)


class RawConnection:
    """A driver connection (asyncpg, aiosqlite, or an inline sqlite3 one) and its dialect."""

    def __init__(self, driver_connection: Any, dialect: Dialect) -> None:
        self._driver = driver_connection
        self._dialect = dialect

    async def fetch(self, query: RawQuery, **parameters: Any) -> list[tuple[Any, ...]]:
        """Every row of `query` with these parameters."""
        compiled = query.compiled(self._dialect)
        rows = await self._rows(compiled.sql, compiled.arguments(parameters))
        return compiled.convert_all(rows)

    async def fetch_mappings(self, query: RawQuery, **parameters: Any) -> list[dict[str, Any]]:
        """Every row of `query` as a mapping of its column names."""
        return [
            dict(zip(query.names, row, strict=True))
            for row in await self.fetch(query, **parameters)
        ]

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

    async def stream(
        self, query: RawQuery, *, batch_size: int, **parameters: Any
    ) -> AsyncIterator[list[Any]]:
        """The rows of `query` in batches, never all in memory, from one snapshot."""
        compiled = query.compiled(self._dialect)
        arguments = compiled.arguments(parameters)
        if self._dialect.name == "sqlite":
            batches = self._sqlite_batches(compiled.sql, arguments, batch_size)
        elif self._driver.is_in_transaction():
            batches = self._cursor_batches(compiled.sql, arguments, batch_size)
        else:
            batches = self._snapshot_batches(compiled.sql, arguments, batch_size)
        async for rows in batches:
            yield compiled.convert_all(rows)

    async def _sqlite_batches(
        self, sql: str, arguments: list[Any], batch_size: int
    ) -> AsyncIterator[Sequence[Any]]:
        # One SQLite statement reads one snapshot.
        cursor = await self._driver.execute(sql, arguments)
        try:
            while rows := await cursor.fetchmany(batch_size):
                yield rows
        finally:
            await cursor.close()

    async def _snapshot_batches(
        self, sql: str, arguments: list[Any], batch_size: int
    ) -> AsyncIterator[Sequence[Any]]:
        # A PostgreSQL cursor needs a transaction; a read-only repeatable read one gives the
        # whole scan one snapshot.
        async with self._driver.transaction(isolation="repeatable_read", readonly=True):
            async for rows in self._cursor_batches(sql, arguments, batch_size):
                yield rows

    async def _cursor_batches(
        self, sql: str, arguments: list[Any], batch_size: int
    ) -> AsyncIterator[Sequence[Any]]:
        cursor = await self._driver.cursor(sql, *arguments)
        while rows := await cursor.fetch(batch_size):
            yield rows

    async def fetch_one(self, query: RawQuery, **parameters: Any) -> tuple[Any, ...] | None:
        """The first row of `query`, or None."""
        rows = await self.fetch(query, **parameters)
        return rows[0] if rows else None


async def borrow(connection: AsyncConnection) -> RawConnection:
    """The driver connection under an open SQLAlchemy connection, which keeps owning it (and
    its transaction)."""
    pooled = await connection.get_raw_connection()
    return RawConnection(pooled.driver_connection, connection.dialect)


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
