"""What the command line says instead of a traceback when the configuration is wrong: one or
two lines naming the setting to change (`--debug` shows the traceback instead)."""

import errno
import socket
import sqlite3
from collections.abc import Iterator

import asyncpg
from alembic.util.exc import CommandError
from pydantic import ValidationError

from polar_customers.database_setup import SetupError
from polar_customers.database_url import describe

DATABASE_URL = "POLAR_CUSTOMERS_DATABASE_URL"
DEBUG_HINT = "(run with --debug, or POLAR_CUSTOMERS_DEBUG=true, for the traceback)"


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and every error behind it (SQLAlchemy wraps the driver's in `orig`)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None]
        pending += [current.__cause__, current.__context__]


def explain(error: BaseException, database_url: str | None) -> list[str]:
    """Lines for a person: what went wrong and which setting fixes it."""
    for cause in causes(error):
        lines = _explain_one(cause, database_url)
        if lines:
            return lines
    return [f"Unexpected error: {type(error).__name__}: {error}", DEBUG_HINT]


def _explain_one(error: BaseException, database_url: str | None) -> list[str]:
    if isinstance(error, SetupError):
        return str(error).splitlines()
    if isinstance(error, ValidationError):
        return _settings_errors(error)
    if isinstance(error, OSError) and error.filename:
        # A file of ours: the data directory, the development secret, a SQLite database.
        return [
            f"Cannot use {error.filename}: {error.strerror}.",
            "Fix POLAR_CUSTOMERS_DATA_DIR (or --data-dir), POLAR_CUSTOMERS_SECRET_FILE or "
            "POLAR_CUSTOMERS_DATABASE_URL, whichever names it.",
        ]
    database = describe(database_url) if database_url else "the database"
    if isinstance(error, CommandError) and "Can't locate revision" in str(error):
        revision = str(error).rsplit(" ", 1)[-1]
        return [
            f"The {database} was migrated by a newer version of polar-customers (its "
            f"revision {revision} is unknown to this one).",
            f"Upgrade polar-customers, or point {DATABASE_URL} at another database.",
        ]
    if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error):
        return [
            f"Cannot open the {database}: its directory is missing or not writable.",
            f"Fix POLAR_CUSTOMERS_DATA_DIR or {DATABASE_URL}.",
        ]
    return _connection_error(error, database)


def _connection_error(error: BaseException, database: str) -> list[str]:
    if isinstance(
        error, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return [
            f"Cannot log in to the {database}: {error}.",
            f"Fix the user or password in {DATABASE_URL}.",
        ]
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return [
            f"The {database} does not exist: {error}.",
            "Create it with `polar-customers db upgrade`, or fix the database name in "
            f"{DATABASE_URL}.",
        ]
    if isinstance(error, socket.gaierror):
        return [
            f"Cannot find the host of the {database} ({error.strerror}).",
            f"Fix the host in {DATABASE_URL}.",
        ]
    if isinstance(error, ConnectionRefusedError) or (
        isinstance(error, OSError) and error.errno == errno.ECONNREFUSED
    ):
        return [
            f"Cannot connect to the {database}: connection refused. Is PostgreSQL running?",
            f"Start it, or fix the host and port in {DATABASE_URL}.",
        ]
    if isinstance(error, TimeoutError):
        return [
            f"The {database} did not answer in time.",
            f"Check that it is reachable, or fix the host and port in {DATABASE_URL}.",
        ]
    if isinstance(error, asyncpg.PostgresError | ConnectionError) or (
        isinstance(error, OSError) and error.errno is not None
    ):
        return [f"Cannot use the {database}: {error}.", f"Check {DATABASE_URL}."]
    return []


def _settings_errors(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        message = item["msg"].removeprefix("Value error, ")
        if item["loc"]:
            name = "POLAR_CUSTOMERS_" + "_".join(str(part) for part in item["loc"]).upper()
            lines.append(
                f"{name} {message}" if item["type"] == "value_error" else f"{name}: {message}"
            )
        else:
            lines.append(message)
    return lines
