"""JSON documents written by the database, byte for byte as pydantic would write the same rows.

A customer's state can hold hundreds of values (10 subscriptions with their meters, 30 grants,
5 meters). Converting each to a Python object, validating it and serializing it again cost
several times the queries themselves; the database's JSON functions write the same document in
C. Each value goes through `json_value`, which writes it as the response schemas do: UUIDs with
hyphens, UTC times as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, booleans, floats as pydantic prints
them, stored JSON documents as they are. One difference is left: on SQLite a stored document
keeps its numbers as `json.dumps` wrote them, so a float of metadata beyond 1e16 or under 1e-4
reads `1e+20` or `1e-05` where pydantic writes `1e20` or `0.00001` (the same number).

SQLite returns a JSON value from a subquery as plain text, so every nested document goes
through `json_embedded` (SQLite's `json()`, which marks it as JSON again).
"""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic_core import from_json, to_json
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Dialect,
    Numeric,
    ScalarSelect,
    Select,
    String,
    Text,
    TypeDecorator,
    Uuid,
    cast,
    literal_column,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from polar_customers.kit.db_types import UTCDateTime
from polar_customers.kit.sql_text import json_datetime, uuid_text

SQLITE_FLOAT_FUNCTION = "polar_json_float"
"""The Python function SQLite connections register (`register_sqlite_functions`): SQLite
3.40 writes REAL values in JSON with 15 significant digits, which would round the 17 that a
running total of fractional usage can need."""


def sqlite_json_float(value: int | float | None) -> str | None:
    """A number as pydantic writes a `float` field (`10.0`, `1e20`; null when not finite)."""
    if value is None:
        return None
    return to_json(float(value), inf_nan_mode="null").decode()


def register_sqlite_functions(dbapi_connection: Any) -> None:
    """Give a new SQLite connection the functions these documents use."""
    dbapi_connection.create_function(
        SQLITE_FLOAT_FUNCTION, 1, sqlite_json_float, deterministic=True
    )


class _Unary(FunctionElement[str]):
    type = String()
    inherit_cache = True


def _argument(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


class json_embedded(_Unary):
    """A JSON document (a stored JSON column, a nested array) inside another one."""

    name = "json_embedded"


@compiles(json_embedded)
def _json_embedded(element: json_embedded, compiler: SQLCompiler, **kw: Any) -> str:
    return _argument(element, compiler, **kw)


@compiles(json_embedded, "sqlite")
def _json_embedded_sqlite(element: json_embedded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json({_argument(element, compiler, **kw)})"


class json_float(_Unary):
    """A number written as pydantic writes a `float` field: `10.0`, `0.30000000000000004`."""

    name = "json_float"


@compiles(json_float)
def _json_float(element: json_float, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL prints float8 in the shortest form that reads back exactly, as Python does,
    # but integral values without the `.0` a float has in Python.
    text = f"CAST(CAST({_argument(element, compiler, **kw)} AS float8) AS text)"
    return (
        f"CAST(CASE WHEN {text} IN ('NaN', 'Infinity', '-Infinity') THEN 'null' "
        f"WHEN {text} ~ '^-?[0-9]+$' THEN {text} || '.0' ELSE {text} END AS json)"
    )


@compiles(json_float, "sqlite")
def _json_float_sqlite(element: json_float, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json({SQLITE_FLOAT_FUNCTION}({_argument(element, compiler, **kw)}))"


class json_boolean(_Unary):
    name = "json_boolean"


@compiles(json_boolean)
def _json_boolean(element: json_boolean, compiler: SQLCompiler, **kw: Any) -> str:
    return _argument(element, compiler, **kw)


@compiles(json_boolean, "sqlite")
def _json_boolean_sqlite(element: json_boolean, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores booleans as 0 and 1.
    value = _argument(element, compiler, **kw)
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} THEN json('true') ELSE json('false') END"
    )


def json_value(column: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    """A column's value as the response schemas write it, by the column's type."""
    column_type = column.type
    if isinstance(column_type, Uuid):
        return uuid_text(column)
    if isinstance(column_type, UTCDateTime):
        return json_datetime(column)
    if isinstance(column_type, Boolean):
        return json_boolean(column)
    if isinstance(column_type, JSON):
        return json_embedded(column)
    if isinstance(column_type, Numeric) and not column_type.asdecimal:
        return json_float(column)
    return column.expression if isinstance(column, InstrumentedAttribute) else column


class json_fields(FunctionElement[str]):
    """An object of `(key, SQL value)` pairs, in that order."""

    type = String()
    name = "json_fields"
    inherit_cache = True

    def __init__(self, *pairs: tuple[str, ColumnElement[Any] | InstrumentedAttribute[Any]]) -> None:
        arguments: list[Any] = []
        for key, value in pairs:
            if not key.isidentifier():
                raise ValueError(f"not a plain key: {key!r}")
            arguments += [literal_column(f"'{key}'"), value]
        super().__init__(*arguments)


@compiles(json_fields)
def _json_fields(element: json_fields, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_object({_argument(element, compiler, **kw)})"


@compiles(json_fields, "sqlite")
def _json_fields_sqlite(element: json_fields, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object({_argument(element, compiler, **kw)})"


class json_array_of(_Unary):
    """The aggregate of a subquery's JSON column into an array (`[]` without rows), in the
    order the subquery gives its rows."""

    name = "json_array_of"


@compiles(json_array_of)
def _json_array_of(element: json_array_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"coalesce(json_agg({_argument(element, compiler, **kw)}), '[]'::json)"


@compiles(json_array_of, "sqlite")
def _json_array_of_sqlite(element: json_array_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json({_argument(element, compiler, **kw)}))"


class json_pick(FunctionElement[str]):
    """The keys of a stored JSON object that are in `keys`, in the order of `keys`, as an
    object (`{}` when the document is not an object or has none of them)."""

    type = String()
    name = "json_pick"
    inherit_cache = False

    def __init__(
        self, document: ColumnElement[Any] | InstrumentedAttribute[Any], keys: tuple[str, ...]
    ) -> None:
        for key in keys:
            if not key.isidentifier():
                raise ValueError(f"not a plain key: {key!r}")
        self.keys = keys
        super().__init__(document)

    def key_list(self) -> str:
        return ", ".join(f"'{key}'" for key in self.keys) or "NULL"

    def key_rank(self, column: str) -> str:
        ranks = " ".join(f"WHEN '{key}' THEN {rank}" for rank, key in enumerate(self.keys))
        return f"CASE {column} {ranks} END" if self.keys else "0"


@compiles(json_pick)
def _json_pick(element: json_pick, compiler: SQLCompiler, **kw: Any) -> str:
    document = _argument(element, compiler, **kw)
    return (
        f"CASE WHEN jsonb_typeof({document}) = 'object' THEN (SELECT coalesce(json_object_agg("
        f"picked.key, picked.value ORDER BY {element.key_rank('picked.key')}), '{{}}'::json) "
        f"FROM jsonb_each({document}) AS picked WHERE picked.key IN ({element.key_list()})"
        f") ELSE '{{}}'::json END"
    )


@compiles(json_pick, "sqlite")
def _json_pick_sqlite(element: json_pick, compiler: SQLCompiler, **kw: Any) -> str:
    # Ordered in a subquery (SQLite 3.40 has no ORDER BY in aggregates); `->` gives each value
    # as JSON text (`true`, not json_each's 1), which json() marks as JSON again.
    document = _argument(element, compiler, **kw)
    return (
        f"json(CASE WHEN json_type({document}) = 'object' THEN (SELECT json_group_object("
        f"picked.key, json({document} -> ('$.' || picked.key))) FROM (SELECT key FROM "
        f"json_each({document}) WHERE key IN ({element.key_list()}) "
        f"ORDER BY {element.key_rank('key')}) AS picked) ELSE '{{}}' END)"
    )


class JSONText(TypeDecorator[str]):
    """A document of these functions, read as compact JSON text."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or dialect.name == "sqlite":
            return value
        # PostgreSQL's json functions put spaces between keys, values and items (and newlines
        # between json_agg's), and drivers would decode `json` into objects: read as text,
        # written again without the spaces (a fraction of the cost of validating objects).
        return to_json(from_json(value), inf_nan_mode="null").decode()


def json_text(document: ColumnElement[Any]) -> ColumnElement[str]:
    """A document as the compact JSON text of a response."""
    return cast(document, JSONText())


def column_values(model: type[Any], schema: type[BaseModel]) -> dict[str, ColumnElement[Any]]:
    """The fields of `schema` that are columns of `model` (by name), as JSON values."""
    columns = model.__table__.columns
    return {
        name: json_value(getattr(model, name)) for name in schema.model_fields if name in columns
    }


def schema_object(
    schema: type[BaseModel], values: Mapping[str, ColumnElement[Any] | InstrumentedAttribute[Any]]
) -> json_fields:
    """An object with the fields of `schema`, in its order, from one SQL value per field."""
    fields = list(schema.model_fields)
    if sorted(fields) != sorted(values):
        raise ValueError(f"{schema.__name__} has the fields {fields}, not {sorted(values)}")
    return json_fields(*((name, values[name]) for name in fields))


def json_array(rows: Select[Any]) -> ScalarSelect[str]:
    """The JSON array of a SELECT of one JSON column, in the SELECT's order. The SELECT may
    refer to the tables of the statements it is nested in (a customer's id)."""
    # Within a subquery of FROM, SQLAlchemy correlates only when told to.
    ordered = rows.correlate_except(None).subquery()
    (column,) = ordered.c
    return select(json_array_of(column)).scalar_subquery()
