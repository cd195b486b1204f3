"""SQL expressions that render values as Python prints them, so bulk reads skip the
per-row conversions (the CSV export writes a million of these)."""

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class uuid_text(FunctionElement[str]):
    """A UUID column as `str(uuid.UUID)` writes it: lower-case hex with hyphens."""

    type = String()
    name = "uuid_text"
    inherit_cache = True


class isoformat_utc(FunctionElement[str]):
    """A UTC timestamp column as `datetime.isoformat()` writes it for an aware UTC value:
    `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, the fraction only when it is not zero."""

    type = String()
    name = "isoformat_utc"
    inherit_cache = True
    zone = "+00:00"


class json_datetime(isoformat_utc):
    """A UTC timestamp column as pydantic writes it in JSON: `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`."""

    name = "json_datetime"
    zone = "Z"


def _argument(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(uuid_text)
def _uuid_text(element: uuid_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({_argument(element, compiler, **kw)} AS TEXT)"


@compiles(uuid_text, "sqlite")
def _uuid_text_sqlite(element: uuid_text, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores UUIDs as 32 lower-case hex digits.
    value = _argument(element, compiler, **kw)
    parts = [f"substr({value}, {start}, {length})" for start, length in _UUID_GROUPS]
    return " || '-' || ".join(parts)


_UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


@compiles(isoformat_utc)
def _isoformat_utc(element: isoformat_utc, compiler: SQLCompiler, **kw: Any) -> str:
    # One to_char (the costly part), then a zero fraction dropped: `.000000` followed by the
    # zone can only be the fraction.
    value = f"({_argument(element, compiler, **kw)} AT TIME ZONE 'UTC')"
    written = f"""to_char({value}, 'YYYY-MM-DD"T"HH24:MI:SS.US') || '{element.zone}'"""
    return f"replace({written}, '.000000{element.zone}', '{element.zone}')"


@compiles(isoformat_utc, "sqlite")
def _isoformat_utc_sqlite(element: isoformat_utc, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, always six fraction digits).
    value = _argument(element, compiler, **kw)
    return (
        f"replace(CASE WHEN substr({value}, 20) = '.000000' THEN substr({value}, 1, 19) "
        f"ELSE {value} END, ' ', 'T') || '{element.zone}'"
    )
