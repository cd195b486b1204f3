"""Hot reads on the database driver's own connection, with SQLAlchemy's type conversions.

A primary-key read through an ORM session costs about four times the query itself (session,
greenlet hop, ORM loading), and an ORM result costs more per row than the export's CSV
formatting. The reads made on every request (the token lookup, a customer by id, its state
and balance) and the export's batches instead compile their Core statement once per dialect and
run it on the driver connection, converting parameters and columns with the same processors
SQLAlchemy would apply, so rows come back exactly as a Core query would return them.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Dialect, Label, Select, inspect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import visitors
from sqlalchemy.types import TypeEngine
from sqlalchemy.util import greenlet_spawn

from polar_customers.kit.sqlite_inline import InlineConnection

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    # Per position: the parameter's name, the list index for an expanded IN, the processor.
    binds: tuple[tuple[str, int | None, Processor], ...]
    results: tuple[Processor, ...]
    constants: dict[str, Any]  # values bound in the statement itself (JSON paths, ...)

    def arguments(self, parameters: dict[str, Any]) -> list[Any]:
        values = self.constants | parameters
        arguments = []
        for name, index, process in self.binds:
            value = values[name] if index is None else values[name][index]
            arguments.append(value if process is None else process(value))
        return arguments

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
    """A Core SELECT with named bound parameters, compiled on first use for each dialect and,
    when it holds expanding INs (lists known only per call), for each length of those lists.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.names = tuple(str(column.key) for column in statement.selected_columns)
        self._expanding = tuple(
            sorted({bind.key for bind in _bind_parameters(statement) if bind.expanding})
        )
        self._compiled: dict[tuple[str, tuple[int, ...]], _Compiled] = {}

    def compiled(self, dialect: Dialect, parameters: dict[str, Any]) -> _Compiled:
        lengths = (
            tuple(len(parameters[name]) for name in self._expanding) if self._expanding else ()
        )
        compiled = self._compiled.get((dialect.name, lengths))
        if compiled is None:
            compiled = self._compile(dialect, dict(zip(self._expanding, lengths, strict=True)))
            self._compiled[dialect.name, lengths] = compiled
        return compiled

    def _compile(self, dialect: Dialect, lengths: dict[str, int]) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        sql, names = compiled.string, list(compiled.positiontup or [])
        bind_types = {name: bind.type for name, bind in compiled.binds.items()}
        sources: dict[str, tuple[str, int | None]] = {name: (name, None) for name in names}
        if lengths:
            # Expanded once per length; positions then read list items (`name_1` is item 0).
            placeholders = {name: [None] * length for name, length in lengths.items()}
            expanded = compiled._process_parameters_for_postcompile(
                placeholders, _populate_self=False
            )
            sql, names = expanded.statement, list(expanded.positiontup or [])
            for base, length in lengths.items():
                for index in range(length):
                    sources[f"{base}_{index + 1}"] = (base, index)
        binds = tuple(
            (
                *sources[name],
                bind_types[sources[name][0]].dialect_impl(dialect).bind_processor(dialect),
            )
            for name in names
        )
        results = tuple(
            _result_processor(column.type, dialect) for column in self.statement.selected_columns
        )
        constants = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None and not bind.expanding
        }
        return _Compiled(sql, binds, results, constants)


def _bind_parameters(statement: Select[Any]) -> list[BindParameter[Any]]:
    found: list[BindParameter[Any]] = []
    visitors.traverse(statement, {}, {"bindparam": found.append})
    return found


class RawConnection:
    """A driver connection (asyncpg, aiosqlite, or an inline sqlite3 one) and its dialect."""

    def __init__(self, driver_connection: Any, dialect: Dialect) -> None:
        self._driver = driver_connection
        self._dialect = dialect

    async def fetch(self, query: RawQuery, **parameters: Any) -> list[tuple[Any, ...]]:
        """Every row of `query` with these parameters."""
        compiled = query.compiled(self._dialect, parameters)
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
        # One trip to aiosqlite's thread, not three (execute, fetch, close): each trip waits
        # for the event loop's thread to let go of the GIL.
        return list(await self._driver.execute_fetchall(sql, arguments))

    @asynccontextmanager
    async def index_order(self) -> AsyncIterator[None]:
        """Within the block, queries read their ORDER BY from an index, never sorting.

        Until a new table's first ANALYZE, PostgreSQL costs every index of a tenant alike
        and may answer a keyset batch (`... AND (a, b) > (?, ?) ORDER BY a, b LIMIT n`) by
        reading all of the tenant's rows through another index and sorting them: once per
        batch. SQLite's planner already prefers the index that gives the order.
        """
        if self._dialect.name != "postgresql":
            yield
            return
        async with self._driver.transaction(readonly=True):
            await self._driver.execute("SET LOCAL enable_sort = off")
            yield

    async def fetch_one(self, query: RawQuery, **parameters: Any) -> tuple[Any, ...] | None:
        """The first row of `query`, or None."""
        rows = await self.fetch(query, **parameters)
        return rows[0] if rows else None


async def borrow(connection: AsyncConnection) -> RawConnection:
    """The driver connection under an open SQLAlchemy connection, which keeps owning it (and
    its transaction)."""
    pooled = await connection.get_raw_connection()
    return RawConnection(pooled.driver_connection, connection.dialect)


class Checkout:
    """A driver connection taken from an engine's pool until `release` (which is idempotent),
    or lent by an open SQLAlchemy connection that keeps owning it (`pooled` None)."""

    def __init__(self, connection: RawConnection, pooled: PoolProxiedConnection | None) -> None:
        self.connection = connection
        self._pooled = pooled

    async def release(self) -> None:
        pooled, self._pooled = self._pooled, None
        if pooled is not None:
            # Returning it resets it through the async adapter, which needs a greenlet.
            await greenlet_spawn(pooled.close)


class RawPool:
    """Driver connections of one engine's pool. The engine must run statements in autocommit
    mode: nothing here begins or ends a transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def checkout(self) -> Checkout:
        pooled = await self.engine.raw_connection()
        return Checkout(RawConnection(pooled.driver_connection, self.engine.dialect), pooled)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[RawConnection]:
        """A connection for the duration of the block."""
        checkout = await self.checkout()
        try:
            yield checkout.connection
        finally:
            await checkout.release()
