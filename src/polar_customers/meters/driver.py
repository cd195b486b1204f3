"""Set-based statements on the database driver's own connection, inside the session's
transaction: the ingestion path writes a batch of events and the running totals they change in
a few statements (`unnest` arrays on PostgreSQL, `executemany` and JSON arrays on SQLite),
without the ORM or SQLAlchemy's per-row parameter processing.

Statements are written once with `$n` placeholders; SQLite reads them as `?n`. Values go in
the form each driver stores: SQLite keeps uuids as 32 hex digits and datetimes as naive UTC
text, the way SQLAlchemy's types write them (`tests/events` reads them back through the ORM).
"""

import json
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_PLACEHOLDER = re.compile(r"\$(\d+)")


class Driver:
    def __init__(self, connection: Any, dialect: str) -> None:
        self._connection = connection
        self.dialect = dialect
        self.postgresql = dialect == "postgresql"

    def _sql(self, sql: str) -> str:
        return sql if self.postgresql else _PLACEHOLDER.sub(r"?\1", sql)

    async def execute(self, sql: str, *arguments: Any) -> None:
        if self.postgresql:
            await self._connection.execute(sql, *arguments)
        else:
            await self._connection.execute_fetchall(self._sql(sql), arguments)

    async def fetch(self, sql: str, *arguments: Any) -> list[Sequence[Any]]:
        if self.postgresql:
            return list(await self._connection.fetch(sql, *arguments))
        return list(await self._connection.execute_fetchall(self._sql(sql), arguments))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement per row (SQLite only: PostgreSQL statements take arrays)."""
        if not rows:
            return
        cursor = await self._connection.executemany(self._sql(sql), rows)
        await cursor.close()

    # Values ---------------------------------------------------------------------------------

    def uid(self, value: uuid.UUID | None) -> Any:
        if value is None or self.postgresql:
            return value
        return value.hex

    def uids(self, values: Iterable[uuid.UUID]) -> Any:
        """A list parameter: an array on PostgreSQL, a JSON array on SQLite (`json_each`)."""
        if self.postgresql:
            return list(values)
        return json.dumps([value.hex for value in values])

    def texts(self, values: Iterable[str]) -> Any:
        return list(values) if self.postgresql else json.dumps(list(values))

    def time(self, value: datetime) -> Any:
        if self.postgresql:
            return value
        # SQLAlchemy's text, `YYYY-MM-DD HH:MM:SS.ffffff`: `isoformat` pads the year to four
        # digits, where `strftime("%Y")` writes year 999 as `999` (then unreadable as a date).
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def read_uuid(self, value: Any) -> uuid.UUID:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(value)

    def read_time(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def member_of(self, column: str, parameter: str) -> str:
        """SQL testing `column` against a list parameter made by `uids` or `texts`."""
        if self.postgresql:
            return f"{column} = ANY({parameter})"
        return f"{column} IN (SELECT value FROM json_each({parameter}))"


_VERSION_4 = (~(0xF000 << 64) & ~(0xC000 << 48) & (2**128 - 1), (0x4000 << 64) | (0x8000 << 48))


def new_hex_ids(count: int) -> list[str]:
    """`count` random version 4 uuids as SQLite stores them (32 hex digits): one call for
    the random bytes of all, instead of one per uuid."""
    clear, set_bits = _VERSION_4
    random = os.urandom(16 * count)
    return [
        f"{int.from_bytes(random[start : start + 16]) & clear | set_bits:032x}"
        for start in range(0, 16 * count, 16)
    ]


async def driver_of(session: AsyncSession) -> Driver:
    """The driver connection of the session's transaction (begun if it was not)."""
    connection = await session.connection()
    pooled = await connection.get_raw_connection()
    driver_connection: Any = pooled.driver_connection
    driver = Driver(driver_connection, connection.dialect.name)
    if driver.postgresql and not driver_connection.is_in_transaction():
        # asyncpg's adapter opens the transaction with its first statement.
        await connection.exec_driver_sql("SELECT 1")
    return driver
