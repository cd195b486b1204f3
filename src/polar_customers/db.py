"""Engines, session factories and the per-request session dependency."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from polar_customers.config import Settings

SessionFactory = async_sessionmaker[AsyncSession]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_engine(settings: Settings, *, immediate: bool = False) -> AsyncEngine:
    """An engine for the configured database.

    On SQLite, `immediate=True` opens every transaction with BEGIN IMMEDIATE, so that writers
    queue on the busy timeout instead of failing when a read lock must be upgraded.
    """
    if not settings.is_sqlite:
        return create_async_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size,
            pool_pre_ping=False,
        )
    engine = create_async_engine(
        settings.database_url,
        connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
    )
    _configure_sqlite(engine, settings, begin="BEGIN IMMEDIATE" if immediate else "BEGIN")
    return engine


def _configure_sqlite(engine: AsyncEngine, settings: Settings, *, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


class Database:
    """The engines and session factories of one process.

    PostgreSQL uses one engine for everything. SQLite gets a second engine whose transactions
    take the write lock up front, used by requests that write.
    """

    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings)
        self.write_engine = create_engine(settings, immediate=True) if settings.is_sqlite else None
        self.read_sessions: SessionFactory = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_sessions: SessionFactory = (
            async_sessionmaker(self.write_engine, expire_on_commit=False)
            if self.write_engine is not None
            else self.read_sessions
        )

    def sessions_for(self, method: str) -> SessionFactory:
        return self.read_sessions if method in READ_METHODS else self.write_sessions

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not None:
            await self.write_engine.dispose()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed after the handler, rolled back on any error."""
    async with get_database(request).sessions_for(request.method)() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


SessionDependency = Annotated[AsyncSession, Depends(get_session, scope="function")]
"""The request's session. `scope="function"` commits before the response is sent, so that a
2xx always means the change is durable, and a failed commit is an error response."""
