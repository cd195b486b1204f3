"""The SQL of the shared counters: a process adds its counts and reads the totals back; past
windows are purged."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningInsert

from polar_customers.models import RateLimitWindow

# Rows per statement: 3 parameters each, far below SQLite's 32,766 bound parameters.
CHUNK = 500


async def add_counts(
    connection: AsyncConnection, *, window_start: datetime, counts: Mapping[str, int]
) -> dict[str, int]:
    """Adds `counts` (requests per subject) to the window's totals; returns the new totals."""
    # Every process writes its subjects in the same order: concurrent batches lock rows in
    # one order and never deadlock.
    subjects = sorted(counts)
    totals: dict[str, int] = {}
    for first in range(0, len(subjects), CHUNK):
        rows = [
            {"window_start": window_start, "subject": subject, "requests": counts[subject]}
            for subject in subjects[first : first + CHUNK]
        ]
        result = await connection.execute(_upsert(connection.dialect.name, rows))
        totals.update(result.tuples().all())
    return totals


def _upsert(dialect: str, rows: list[dict[str, Any]]) -> ReturningInsert[tuple[str, int]]:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RateLimitWindow).values(rows)
    return statement.on_conflict_do_update(
        index_elements=[RateLimitWindow.window_start, RateLimitWindow.subject],
        set_={"requests": RateLimitWindow.requests + statement.excluded.requests},
    ).returning(RateLimitWindow.subject, RateLimitWindow.requests)


async def purge(connection: AsyncConnection, *, before: datetime) -> None:
    """Deletes the totals of windows that started before `before`."""
    await connection.execute(delete(RateLimitWindow).where(RateLimitWindow.window_start < before))
