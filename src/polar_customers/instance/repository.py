"""The instance settings table: a few keys, read whole and written by upsert."""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import InstanceSetting


async def read_all(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(InstanceSetting.key, InstanceSetting.value))
    return dict(rows.tuples().all())


async def write(session: AsyncSession, values: Mapping[str, str], *, now: datetime) -> None:
    """Sets each key to its value; two processes writing at once do not conflict."""
    if not values:
        return
    bind = session.get_bind()
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    statement = insert(InstanceSetting).values(
        [{"key": key, "value": value, "modified_at": now} for key, value in sorted(values.items())]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[InstanceSetting.key],
            set_={"value": statement.excluded.value, "modified_at": statement.excluded.modified_at},
        )
    )
