"""JSON documents written by the database, byte for byte as pydantic would write the same rows.

A customer's state can hold hundreds of values (10 subscriptions with their meters, 30 grants,
5 meters). Converting each to a Python object, validating it and serializing it again cost
several times the queries themselves; the database writes the same document in C.

A list is a SELECT of one labelled column per field, in the schema's order (`schema_columns`),
made an array by `json_array`: `json_object` and `json_group_array` on SQLite, `row_to_json`
and `string_agg` on PostgreSQL (twice as fast as `json_build_object`, and without its spaces).
Each value goes through `json_value`, which writes it as the response schemas do: UUIDs with
hyphens, UTC times as `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`, booleans, floats as pydantic prints
them, stored JSON documents as they are.

Two differences remain, both in stored documents (metadata, custom field data), both the same
JSON values: PostgreSQL writes JSONB with spaces (`{"a": 1}`), which `JSONText` removes when a
document has any; SQLite keeps numbers as `json.dumps` wrote them, so a float of metadata
beyond 1e16 or under 1e-4 reads `1e+20` or `1e-05` where pydantic writes `1e20` or `0.00001`.
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
    Label,
    Numeric,
    ScalarSelect,
    Select,
    String,
    Text,
    TypeDecorator,
    Uuid,
    cast,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Subquery
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


class JSONValue(TypeDecorator[str]):
    """The type of a column whose text is JSON (a number, a boolean, a document): SQLite's
    `json_object` must be told so, or it writes the text as a string."""

    impl = String
    cache_ok = True


Column = ColumnElement[Any] | InstrumentedAttribute[Any]


class _Unary(FunctionElement[str]):
    type = JSONValue()
    inherit_cache = True


def _argument(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


class json_document(_Unary):
    """A stored JSON column, as it is."""

    name = "json_document"


@compiles(json_document)
def _json_document(element: json_document, compiler: SQLCompiler, **kw: Any) -> str:
    return _argument(element, compiler, **kw)


class json_nested(_Unary):
    """A `json_array` inside an object."""

    name = "json_nested"


@compiles(json_nested)
def _json_nested(element: json_nested, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({_argument(element, compiler, **kw)} AS json)"


@compiles(json_nested, "sqlite")
def _json_nested_sqlite(element: json_nested, compiler: SQLCompiler, **kw: Any) -> str:
    return _argument(element, compiler, **kw)


class json_float(_Unary):
    """A number written as pydantic writes a `float` field: `10.0`, `0.30000000000000004`."""

    name = "json_float"


@compiles(json_float)
def _json_float(element: json_float, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL prints float8 with the shortest digits that read back exactly, as pydantic
    # does, but integral values without pydantic's `.0`, and exponents from other thresholds
    # (`2.5e+15`, `1e-05` where pydantic writes `2500000000000000.0`, `0.00001`): those are
    # rare, and written with a leading space, which `JSONText` takes as its cue to rewrite
    # the document through pydantic.
    text = f"CAST(CAST({_argument(element, compiler, **kw)} AS float8) AS text)"
    return (
        f"CAST(CASE WHEN {text} IN ('NaN', 'Infinity', '-Infinity') THEN 'null' "
        f"WHEN {text} ~ '^-?[0-9]+$' THEN {text} || '.0' "
        f"WHEN {text} LIKE '%e%' THEN ' ' || {text} ELSE {text} END AS json)"
    )


@compiles(json_float, "sqlite")
def _json_float_sqlite(element: json_float, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_FLOAT_FUNCTION}({_argument(element, compiler, **kw)})"


class json_boolean(_Unary):
    name = "json_boolean"


@compiles(json_boolean)
def _json_boolean(element: json_boolean, compiler: SQLCompiler, **kw: Any) -> str:
    return _argument(element, compiler, **kw)


@compiles(json_boolean, "sqlite")
def _json_boolean_sqlite(element: json_boolean, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite stores booleans as 0 and 1.
    value = _argument(element, compiler, **kw)
    return f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} THEN 'true' ELSE 'false' END"


def json_value(column: Column) -> ColumnElement[Any]:
    """A column's value as the response schemas write it, by the column's type."""
    column_type = column.type
    if isinstance(column_type, Uuid):
        return uuid_text(column)
    if isinstance(column_type, UTCDateTime):
        return json_datetime(column)
    if isinstance(column_type, Boolean):
        return json_boolean(column)
    if isinstance(column_type, JSON):
        return json_document(column)
    if isinstance(column_type, Numeric) and not column_type.asdecimal:
        return json_float(column)
    return column.expression if isinstance(column, InstrumentedAttribute) else column


class json_pick(FunctionElement[str]):
    """The keys of a stored JSON object that are in `keys`, in the order of `keys`, as an
    object (`{}` when the document is not an object or has none of them)."""

    type = JSONValue()
    name = "json_pick"
    inherit_cache = False

    def __init__(self, document: Column, keys: tuple[str, ...]) -> None:
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
        f"CASE WHEN json_type({document}) = 'object' THEN (SELECT json_group_object("
        f"picked.key, json({document} -> ('$.' || picked.key))) FROM (SELECT key FROM "
        f"json_each({document}) WHERE key IN ({element.key_list()}) "
        f"ORDER BY {element.key_rank('key')}) AS picked) ELSE '{{}}' END"
    )


class _json_row(FunctionElement[str]):
    """One row of a subquery as an object of its columns."""

    type = String()
    name = "json_row"
    inherit_cache = False

    def __init__(self, rows: Subquery) -> None:
        self.rows = rows
        super().__init__(rows.table_valued())


@compiles(_json_row)
def _json_row_postgresql(element: _json_row, compiler: SQLCompiler, **kw: Any) -> str:
    return f"row_to_json({_argument(element, compiler, **kw)})"


@compiles(_json_row, "sqlite")
def _json_row_sqlite(element: _json_row, compiler: SQLCompiler, **kw: Any) -> str:
    fields = []
    for column in element.rows.c:
        value = compiler.process(column, **kw)
        # A subquery's JSON values come out as text: json() reads them as JSON again.
        fields.append(
            f"'{column.key}', json({value})"
            if isinstance(column.type, JSONValue)
            else f"'{column.key}', {value}"
        )
    return f"json_object({', '.join(fields)})"


class _json_rows(FunctionElement[str]):
    """The aggregate of `_json_row`s into an array, `[]` without rows."""

    type = String()
    name = "json_rows"
    inherit_cache = True


@compiles(_json_rows)
def _json_rows_postgresql(element: _json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    row = _argument(element, compiler, **kw)
    return f"coalesce('[' || string_agg(CAST({row} AS text), ',') || ']', '[]')"


@compiles(_json_rows, "sqlite")
def _json_rows_sqlite(element: _json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({_argument(element, compiler, **kw)})"


def schema_columns(schema: type[BaseModel], values: Mapping[str, Column]) -> list[Label[Any]]:
    """The fields of `schema`, in its order, each from its SQL value, for `json_array`."""
    fields = list(schema.model_fields)
    if sorted(fields) != sorted(values):
        raise ValueError(f"{schema.__name__} has the fields {fields}, not {sorted(values)}")
    for name in fields:
        if not name.isidentifier():
            raise ValueError(f"not a plain key: {name!r}")
    return [_labelled(values[name], name) for name in fields]


def _labelled(value: Column, name: str) -> Label[Any]:
    expression = value.expression if isinstance(value, InstrumentedAttribute) else value
    return expression.label(name)


def column_values(model: type[Any], schema: type[BaseModel]) -> dict[str, ColumnElement[Any]]:
    """The fields of `schema` that are columns of `model` (by name), as JSON values."""
    columns = model.__table__.columns
    return {
        name: json_value(getattr(model, name)) for name in schema.model_fields if name in columns
    }


def json_array(rows: Select[Any]) -> ScalarSelect[str]:
    """The JSON array (as text) of the rows of a SELECT of `schema_columns`, in the SELECT's
    order. The SELECT may refer to the tables of the statements it is nested in."""
    # Within a subquery of FROM, SQLAlchemy correlates only when told to.
    ordered = rows.correlate_except(None).subquery()
    return select(_json_rows(_json_row(ordered))).select_from(ordered).scalar_subquery()


class JSONText(TypeDecorator[str]):
    """A `json_array` read as compact JSON text."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or dialect.name == "sqlite":
            return value
        if ", " not in value and ": " not in value:
            return value  # no JSONB document, no exponent (`json_float`), written as is
        # Written again by pydantic, without JSONB's spaces (a string with ", " in it comes
        # here too, and comes out the same).
        return to_json(from_json(value), inf_nan_mode="null").decode()


def json_text(document: ColumnElement[Any]) -> ColumnElement[str]:
    """A `json_array` as the compact JSON text of a response."""
    return cast(document, JSONText())
