"""Alembic: one head, migrations match the models, and down/up round-trips, on both engines."""

import asyncio
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from polar_customers import migrate
from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.models import Base
from polar_customers.models.base import exists_on
from tests.conftest import ENGINE, POSTGRES_URL, _admin


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the engine under test, separate from the suite's one."""
    if ENGINE == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"polar_customers_scratch_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def _differences(url: str) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": lambda item, *_: exists_on(item, connection.dialect.name),
            },
        )
        with warnings.catch_warnings():
            # SQLite cannot reflect expression indexes; PostgreSQL compares them.
            warnings.filterwarnings("ignore", message=".*expression-based index")
            return list(compare_metadata(context, Base.metadata))

    async def run() -> list[Any]:
        engine = create_engine(Settings(database_url=url))
        async with engine.connect() as connection:
            differences = await connection.run_sync(compare)
        await engine.dispose()
        return differences

    return asyncio.run(run())


def test_single_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_models_match_migrations(scratch_url: str) -> None:
    migrate.upgrade(scratch_url)
    assert _differences(scratch_url) == []


def test_downgrade_and_upgrade_again(scratch_url: str) -> None:
    migrate.upgrade(scratch_url)
    migrate.downgrade(scratch_url, "base")
    migrate.upgrade(scratch_url)
    migrate.upgrade(scratch_url)  # a second upgrade is a no-op
    assert _differences(scratch_url) == []


def test_existing_customers_get_their_owner(scratch_url: str) -> None:
    """0006 gives every live customer an owner member made of its email and name."""
    migrate.upgrade(scratch_url, "0005")
    organization, customer, deleted = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    sqlite = ENGINE == "sqlite"

    def key(value: uuid.UUID) -> str:
        return value.hex if sqlite else str(value)

    async def run(*statements: str) -> list[Any]:
        engine = create_engine(Settings(database_url=scratch_url))
        async with engine.begin() as connection:
            for statement in statements[:-1]:
                await connection.exec_driver_sql(statement)
            rows = list((await connection.exec_driver_sql(statements[-1])).all())
        await engine.dispose()
        return rows

    now = "'2025-10-05 12:00:00'"
    asyncio.run(
        run(
            f"INSERT INTO organizations (id, created_at, name, default_currency) "
            f"VALUES ('{key(organization)}', {now}, 'Acme', 'usd')",
            "INSERT INTO customers (id, created_at, organization_id, email, email_verified, "
            f"name, external_id, user_metadata, deleted_at) VALUES ('{key(customer)}', {now}, "
            f"'{key(organization)}', 'jane@example.com', false, 'Jane', 'usr_1', '{{}}', NULL), "
            f"('{key(deleted)}', {now}, '{key(organization)}', 'gone@example.com', false, NULL, "
            f"NULL, '{{}}', {now})",
            "SELECT 1",
        )
    )
    migrate.upgrade(scratch_url)

    [(member_id, customer_id, email, name, external_id, role)] = asyncio.run(
        run("SELECT id, customer_id, email, name, external_id, role FROM members")
    )
    assert uuid.UUID(str(member_id)).version == 4
    assert str(customer_id).replace("-", "") == customer.hex
    assert (email, name, external_id, role) == ("jane@example.com", "Jane", "usr_1", "owner")
