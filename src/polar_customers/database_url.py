"""Database URLs as people have them, turned into the ones the server's drivers take.

Hosting providers print `postgres://user:password@host/db?sslmode=require`; SQLAlchemy reads
`postgres://` as nothing and `postgresql://` as psycopg2, which is not installed, and asyncpg
takes `ssl`, not libpq's `sslmode`. Every form below means the one driver of each engine.
"""

from pathlib import Path
from typing import Final

from sqlalchemy import URL, make_url
from sqlalchemy.exc import ArgumentError

SQLITE_DRIVER: Final = "sqlite+aiosqlite"
POSTGRESQL_DRIVER: Final = "postgresql+asyncpg"
_POSTGRESQL_SCHEMES = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})
_SQLITE_SCHEMES = frozenset({"sqlite", "sqlite+aiosqlite"})
# libpq options that asyncpg has no keyword for, and that change nothing it does: it always
# offers SCRAM channel binding when the server has it.
_LIBPQ_ONLY = ("channel_binding",)
# What a URL may ask of asyncpg: the rest of its keywords are not strings, or are settings.
_ACCEPTED_OPTIONS = ("ssl", "sslmode", *_LIBPQ_ONLY)
SUPPORTED_FORMS = "sqlite:///path/to/file.db or postgresql://user:password@host:5432/database"


class DatabaseURLError(ValueError):
    """A URL this server cannot use; the message says why, never the password."""


def normalize_database_url(value: str) -> str:
    """The URL with this server's driver for its engine; libpq's `sslmode` becomes `ssl`."""
    try:
        url = make_url(value.strip())
    except ArgumentError:
        raise DatabaseURLError(f"is not a database URL; use {SUPPORTED_FORMS}") from None
    scheme = url.drivername
    if scheme in _SQLITE_SCHEMES:
        return _sqlite(url)
    if scheme in _POSTGRESQL_SCHEMES:
        return _postgresql(url)
    raise DatabaseURLError(f"names an unsupported database ({scheme}); use {SUPPORTED_FORMS}")


def _sqlite(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        # Each pool would open its own empty in-memory database.
        raise DatabaseURLError(f"names no SQLite file; use {SUPPORTED_FORMS}")
    # SQLite would take `~` literally, as a directory of that name.
    path = str(Path(url.database).expanduser())
    return url.set(drivername=SQLITE_DRIVER, database=path).render_as_string(hide_password=False)


def _postgresql(url: URL) -> str:
    if not url.database:
        raise DatabaseURLError(f"names no PostgreSQL database; use {SUPPORTED_FORMS}")
    unknown = sorted(set(url.query) - set(_ACCEPTED_OPTIONS))
    if unknown:
        hint = (
            " (set POLAR_CUSTOMERS_DATABASE_CONNECT_TIMEOUT instead of connect_timeout)"
            if "connect_timeout" in unknown
            else ""
        )
        raise DatabaseURLError(
            f"has options this server does not take: {', '.join(unknown)}; it takes "
            f"{', '.join(_ACCEPTED_OPTIONS)}{hint}"
        )
    query = {key: value for key, value in url.query.items() if key not in _LIBPQ_ONLY}
    if "sslmode" in query:
        sslmode = query.pop("sslmode")
        query.setdefault("ssl", sslmode)
    return url.set(drivername=POSTGRESQL_DRIVER, query=query).render_as_string(hide_password=False)


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def sqlite_path(database_url: str) -> Path:
    """The absolute path of a SQLite database's file (relative URLs are from the current
    directory, as SQLite opens them)."""
    return Path(make_url(database_url).database or "").resolve()


def describe(database_url: str) -> str:
    """What a person needs to recognize the database, without its password."""
    if is_sqlite(database_url):
        return f"SQLite file {sqlite_path(database_url)}"
    url = make_url(database_url)
    return (
        f'PostgreSQL database "{url.database}" on {url.host or "localhost"}:{url.port or 5432}'
        f' as user "{url.username or ""}"'
    )
