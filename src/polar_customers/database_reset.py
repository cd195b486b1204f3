"""Emptying a development database: every row of every table, the schema kept."""

from collections.abc import Callable

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Base

TABLES = len(Base.metadata.sorted_tables)


async def empty_tables(session: AsyncSession, progress: Callable[[int], None]) -> None:
    """Deletes every row, in one transaction; `progress(1)` after each table."""
    tables = list(reversed(Base.metadata.sorted_tables))  # rows that refer to others first
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        await session.execute(text(f"TRUNCATE {names}"))
        progress(len(tables))
        return
    for table in tables:
        await session.execute(delete(table))
        progress(1)
