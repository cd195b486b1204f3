"""Database URLs as hosting providers and people write them."""

from pathlib import Path

import pytest

from polar_customers.database_url import (
    DatabaseURLError,
    describe,
    normalize_database_url,
    sqlite_path,
)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db.example.com/app", "postgresql+asyncpg://u:p@db.example.com/app"),
        ("postgres://u:p@db.example.com:6543/app", "postgresql+asyncpg://u:p@db.example.com:6543/app"),
        ("postgresql+asyncpg://u:p@h/app", "postgresql+asyncpg://u:p@h/app"),
        # libpq's sslmode is asyncpg's ssl; channel_binding has no asyncpg keyword.
        ("postgres://u:p@h/app?sslmode=require", "postgresql+asyncpg://u:p@h/app?ssl=require"),
        (
            "postgresql://u:p@h/app?sslmode=require&channel_binding=require",
            "postgresql+asyncpg://u:p@h/app?ssl=require",
        ),
        ("postgresql://u:p%40ss@h/app", "postgresql+asyncpg://u:p%40ss@h/app"),
        ("  postgresql://u@h/app\n", "postgresql+asyncpg://u@h/app"),
        ("sqlite:///polar.db", "sqlite+aiosqlite:///polar.db"),
        ("sqlite:////var/lib/polar.db", "sqlite+aiosqlite:////var/lib/polar.db"),
        ("sqlite+aiosqlite:///polar.db", "sqlite+aiosqlite:///polar.db"),
    ],
)  # fmt: skip
def test_accepted_forms(given: str, used: str) -> None:
    assert normalize_database_url(given) == used


def test_home_directory_of_a_sqlite_file() -> None:
    used = normalize_database_url("sqlite:///~/polar.db")
    assert used == f"sqlite+aiosqlite:///{Path.home() / 'polar.db'}"


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("mysql://u:p@h/app", "unsupported database (mysql)"),
        ("sqlite://", "names no SQLite file"),
        ("sqlite:///:memory:", "names no SQLite file"),
        ("postgresql://u:p@h", "names no PostgreSQL database"),
        ("not a url", "is not a database URL"),
        ("postgresql://u:p@h/app?pgbouncer=true", "options this server does not take: pgbouncer"),
        ("postgres://u:p@h/app?connect_timeout=5", "POLAR_CUSTOMERS_DATABASE_CONNECT_TIMEOUT"),
    ],
)
def test_refused_forms_say_why_without_the_password(given: str, reason: str) -> None:
    with pytest.raises(DatabaseURLError) as raised:
        normalize_database_url(given)
    assert reason in str(raised.value)
    assert ":p@" not in str(raised.value)


def test_description_names_the_database_but_not_the_password() -> None:
    described = describe("postgresql+asyncpg://app:hunter2@db.example.com:6543/polar")
    assert described == 'PostgreSQL database "polar" on db.example.com:6543 as user "app"'
    assert describe("postgresql+asyncpg://app@db/polar").endswith('on db:5432 as user "app"')
    assert describe("sqlite+aiosqlite:///x.db") == f"SQLite file {Path.cwd() / 'x.db'}"
    assert sqlite_path("sqlite+aiosqlite:////tmp/a/../b.db") == Path("/tmp/b.db")
