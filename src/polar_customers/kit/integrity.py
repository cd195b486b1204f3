"""Which declared constraint an `IntegrityError` violated, on PostgreSQL and SQLite."""

import re

from sqlalchemy import Table, UniqueConstraint
from sqlalchemy.exc import IntegrityError

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
        columns = [part.split(".", 1)[1] for part in match.group(1).split(", ")]
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and constraint.columns.keys() == columns:
                return str(constraint.name)
    return None
