"""Database URLs, and fresh benchmark databases that are removed afterwards."""

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def sqlite_path(database_url: str) -> str:
    """The file of a `sqlite+aiosqlite:///path` URL."""
    path = make_url(database_url).database
    if not path:
        raise ValueError(f"no SQLite file in {database_url!r}")
    return path


def asyncpg_dsn(database_url: str) -> str:
    """A `postgresql+asyncpg://` URL as a DSN that asyncpg itself accepts."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def with_database(database_url: str, name: str) -> str:
    return make_url(database_url).set(database=name).render_as_string(hide_password=False)


async def _admin(admin_url: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def fresh_database(engine: str, *, postgres_url: str = DEFAULT_POSTGRES_URL) -> Iterator[str]:
    """The URL of a new, empty database: an SQLite file under bench/results/, or a PostgreSQL
    database `polar_customers_bench_<random>`; deleted (dropped) on exit."""
    suffix = secrets.token_hex(4)
    if engine == "sqlite":
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"bench-{suffix}.db"
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            for extra in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{extra}").unlink(missing_ok=True)
        return
    if engine != "postgresql":
        raise ValueError(f"unknown engine {engine!r}")
    name = f"polar_customers_bench_{suffix}"
    asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(postgres_url, name)
    finally:
        asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
