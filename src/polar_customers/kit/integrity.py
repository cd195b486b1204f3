"""Which declared constraint an `IntegrityError` violated, on PostgreSQL and SQLite."""

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.errors import PolarRequestValidationError, ValidationErrorItem

_SQLITE_INDEX = re.compile(r"UNIQUE constraint failed: index '([^']+)'")
_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: ((?:\w+\.\w+(?:, )?)+)")


def violated_constraint(error: IntegrityError, table: Table) -> str | None:
    """The name of the unique constraint or index of `table` that `error` reports, if any."""
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)  # asyncpg
    if isinstance(name, str):
        return name
    message = str(error.orig)
    if match := _SQLITE_INDEX.search(message):
        return match.group(1)
    if match := _SQLITE_COLUMNS.search(message):
        # SQLite names the columns of a unique constraint or of a unique index on columns.
        columns = [part.split(".", 1)[1] for part in match.group(1).split(", ")]
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.columns.keys() == columns:
                return str(constraint.name)
        for index in table.indexes:
            if index.unique and [column.key for column in index.columns] == columns:
                return str(index.name)
    return None


async def flush_unique(
    session: AsyncSession, table: Any, errors: Mapping[str, ValidationErrorItem]
) -> None:
    """Flush; a violation of a unique constraint or index named in `errors` (lost to a
    concurrent request after the pre-check) is the 422 the pre-check gives. `errors` must be
    built before: a failed flush expires the row's attributes."""
    try:
        await session.flush()
    except IntegrityError as error:
        constraint = violated_constraint(error, table)
        if constraint is not None and constraint in errors:
            raise PolarRequestValidationError([errors[constraint]]) from error
        raise
