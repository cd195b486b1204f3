"""Making sure the configured database exists before migrations run: created when asked
(`serve`, `db upgrade`, `--create`) and the server's user may, else a refusal that says the
one command to run."""

import asyncio
from typing import Any

import asyncpg
from sqlalchemy import URL, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from polar_customers.cli_output import command_name
from polar_customers.config import Settings
from polar_customers.database_url import describe, is_sqlite, sqlite_path


class SetupError(Exception):
    """A problem with the configuration a person can fix; the message says how."""


def ensure_database(settings: Settings, *, create: bool) -> None:
    """Returns when the database exists (creating it if `create`), or raises SetupError."""
    if is_sqlite(settings.database_url):
        _ensure_sqlite_file(settings, create=create)
    else:
        asyncio.run(
            _ensure_postgresql_database(
                settings.database_url,
                create=create,
                connect_timeout=settings.database_connect_timeout,
            )
        )


def _missing(database_url: str) -> SetupError:
    return SetupError(
        f"There is no {describe(database_url)}.\n"
        f"Create it with `{command_name()} db upgrade` (or pass --create), or set "
        "POLAR_CUSTOMERS_DATABASE_URL or POLAR_CUSTOMERS_DATA_DIR to an existing one."
    )


def _ensure_sqlite_file(settings: Settings, *, create: bool) -> None:
    path = sqlite_path(settings.database_url)
    if path.exists():
        return
    if not create:
        raise _missing(settings.database_url)
    # SQLite creates the file, but not its directory.
    path.parent.mkdir(parents=True, exist_ok=True)


async def _ensure_postgresql_database(
    database_url: str, *, create: bool, connect_timeout: float
) -> None:
    url = make_url(database_url)
    try:
        await _execute(url, "SELECT 1", connect_args={"timeout": connect_timeout})
    except asyncpg.InvalidCatalogNameError:
        if not create:
            raise _missing(database_url) from None
        await _create_postgresql_database(url, connect_timeout=connect_timeout)


async def _create_postgresql_database(url: URL, *, connect_timeout: float) -> None:
    assert url.database is not None
    statement = f"CREATE DATABASE {_quoted(url.database)}"
    try:
        # The `postgres` database exists on every cluster unless someone dropped it.
        await _execute(
            url.set(database="postgres"),
            statement,
            isolation_level="AUTOCOMMIT",
            connect_args={"timeout": connect_timeout},
        )
    except asyncpg.DuplicateDatabaseError:
        return  # another process created it meanwhile
    except (asyncpg.InsufficientPrivilegeError, asyncpg.InvalidCatalogNameError) as error:
        host = f"-h {url.host or 'localhost'} -p {url.port or 5432}"
        raise SetupError(
            f"There is no {describe(url.render_as_string())}, and it could not be created "
            f"({error}).\nCreate it as a user who may, for example: "
            f"createdb {host} -U postgres -O {url.username or 'postgres'} {url.database}"
        ) from None


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def _execute(url: URL, statement: str, **options: Any) -> None:
    """Runs one statement; a failure is asyncpg's own error, as when connecting."""
    engine = create_async_engine(url, poolclass=NullPool, **options)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    except DBAPIError as error:
        driver_error = error.orig.__cause__ if error.orig is not None else None
        if isinstance(driver_error, asyncpg.PostgresError):
            raise driver_error from error
        raise
    finally:
        await engine.dispose()
