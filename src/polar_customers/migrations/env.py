"""Alembic environment: runs migrations on the configured database, async engines included."""

import asyncio

from alembic import context
from sqlalchemy import Connection, text

from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.models import Base
from polar_customers.models.base import exists_on

# Serializes concurrent upgrades of one PostgreSQL database (several servers starting at once).
MIGRATION_LOCK_ID = 7_412_650_391


def _run(connection: Connection) -> None:
    is_postgresql = connection.dialect.name == "postgresql"
    if is_postgresql:
        connection.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=lambda item, _name, _kind, _reflected, _other: exists_on(
            item, connection.dialect.name
        ),
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if is_postgresql:
            connection.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})"))
            connection.commit()


async def _run_async(url: str) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        # Also on failure: an open aiosqlite connection's thread keeps the process alive.
        await engine.dispose()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or Settings().database_url
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run them against a database.")
run_migrations_online()
