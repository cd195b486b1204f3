"""Shared fixtures: one fresh database per run (SQLite or PostgreSQL), migrated with Alembic.

The engine is chosen by `POLAR_CUSTOMERS_TEST_ENGINE` (`sqlite`, the default, or `postgresql`).
PostgreSQL is reached at `POLAR_CUSTOMERS_TEST_POSTGRES_URL` (an asyncpg URL of an existing
database used only to create and drop the run's own database).
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from polar_customers import migrate
from polar_customers.app import create_app
from polar_customers.config import Settings
from polar_customers.db import Database, create_engine
from polar_customers.kit.raw_sql import Checkout, RawPool, borrow
from tests.factories import TEST_SECRET

ENGINE = os.environ.get("POLAR_CUSTOMERS_TEST_ENGINE", "sqlite")
POSTGRES_URL = os.environ.get(
    "POLAR_CUSTOMERS_TEST_POSTGRES_URL",
    "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres",
)


def pytest_report_header() -> str:
    return f"database engine: {ENGINE}"


async def _admin(statement: str) -> None:
    import asyncpg  # only needed for PostgreSQL runs

    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new, migrated database for this run, dropped afterwards."""
    if ENGINE == "sqlite":
        path = tmp_path_factory.mktemp("db") / "polar-customers.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrate.upgrade(url)
        yield url
        return
    if ENGINE != "postgresql":
        raise pytest.UsageError(f"unknown POLAR_CUSTOMERS_TEST_ENGINE {ENGINE!r}")
    name = f"polar_customers_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    yield url
    asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        secret=TEST_SECRET,
        secret_file=tmp_path_factory.mktemp("secret") / "unused.secret",
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def sessions(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits are savepoints of the test's transaction."""
    return async_sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


class LentPool(RawPool):
    """Lends the test's connection (and its transaction) instead of pooled ones."""

    def __init__(self, connection: AsyncConnection) -> None:
        super().__init__(connection.engine)
        self._connection = connection

    async def checkout(self) -> Checkout:
        return Checkout(await borrow(self._connection), None)


def use_sessions(database: Database, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Make every session of the application one of the test's savepoint sessions, and its
    raw reads run on the test's connection."""
    database.read_sessions = database.write_sessions = sessions
    connection: AsyncConnection = sessions.kw["bind"]
    database.hot = database.scans = LentPool(connection)


AppFactory = Callable[..., FastAPI]


@pytest.fixture
async def app_with(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[AppFactory]:
    """Makes applications on the test's sessions, each with some settings changed:
    `app_with(export_neutralize_formulas=False)`."""
    made: list[FastAPI] = []

    def make(**changes: Any) -> FastAPI:
        app = create_app(settings.model_copy(update=changes))
        use_sessions(app.state.database, sessions)
        made.append(app)
        return app

    yield make
    for app in made:
        await app.state.database.dispose()


@pytest.fixture
def app(app_with: AppFactory) -> FastAPI:
    return app_with()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture(scope="session")
def repository_root() -> Path:
    return Path(__file__).resolve().parent.parent
