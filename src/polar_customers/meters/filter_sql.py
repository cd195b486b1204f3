"""Meter filters and aggregations as SQL over `events`, on PostgreSQL and SQLite: the rules of
`matching.py` (which evaluates them on ingestion), for the reads that scan stored events."""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import type_coerce

from polar_customers.meters.matching import COLUMNS, TEXT_OPERATORS, is_number, value_text
from polar_customers.meters.schemas import (
    CountAggregation,
    Filter,
    FilterClause,
    FilterConjunction,
    FilterOperator,
    UniqueAggregation,
)
from polar_customers.models import Event

_SQL_OPERATORS = {
    FilterOperator.eq: "__eq__",
    FilterOperator.ne: "__ne__",
    FilterOperator.gt: "__gt__",
    FilterOperator.gte: "__ge__",
    FilterOperator.lt: "__lt__",
    FilterOperator.lte: "__le__",
}


def _compare(left: Any, clause_operator: FilterOperator, right: Any) -> ColumnElement[bool]:
    # A bound value, whatever its type (SQLAlchemy refuses `> true` as a constant).
    result: ColumnElement[bool] = getattr(left, _SQL_OPERATORS[clause_operator])(literal(right))
    return result


def _contains(text: Any, clause_operator: FilterOperator, part: str, dialect: str) -> Any:
    position = func.strpos(text, part) if dialect == "postgresql" else func.instr(text, part)
    return position > 0 if clause_operator == FilterOperator.like else position == 0


def _ordered_text(column: Any, dialect: str) -> Any:
    # Code point order, as Python compares strings (SQLite's BINARY already is).
    return column.collate("C") if dialect == "postgresql" else column


def epoch_seconds(dialect: str) -> ColumnElement[int]:
    """The event's timestamp in whole seconds since the epoch, rounded down."""
    if dialect == "postgresql":
        return sql_cast(func.floor(func.extract("epoch", Event.timestamp)), BigInteger)
    # Whole seconds of the stored text: SQLite rounds fractions to milliseconds.
    return sql_cast(func.strftime("%s", whole_seconds(Event.timestamp)), Integer)


def whole_seconds(column: Any) -> Any:
    """A SQLite datetime text without its fraction of a second."""
    return func.substr(column, 1, 19)


def _column_clause(clause: FilterClause, dialect: str) -> ColumnElement[bool]:
    value, clause_operator = clause.value, clause.operator
    if clause.property == "timestamp":
        if not is_number(value):
            return false()
        if clause_operator in TEXT_OPERATORS:
            text = sql_cast(epoch_seconds(dialect), String)
            return _contains(text, clause_operator, value_text(value), dialect)  # type: ignore[no-any-return]
        return _compare(epoch_seconds(dialect), clause_operator, value)
    if not isinstance(value, str):
        return false()
    column = Event.name if clause.property == "name" else Event.source
    if clause_operator in TEXT_OPERATORS:
        return _contains(column, clause_operator, value, dialect)  # type: ignore[no-any-return]
    return _compare(_ordered_text(column, dialect), clause_operator, value)


def _postgresql_metadata(key: str, clause_operator: FilterOperator, value: Any) -> Any:
    document = type_coerce(Event.user_metadata, JSONB)[key]
    kind, text = func.jsonb_typeof(document), document.astext
    whens: list[tuple[Any, Any]] = []
    if not isinstance(value, bool):
        string = (
            _contains(text, clause_operator, value_text(value), "postgresql")
            if clause_operator in TEXT_OPERATORS
            else _compare(text.collate("C"), clause_operator, value_text(value))
        )
        whens.append((kind == "string", string))
    if clause_operator not in TEXT_OPERATORS:
        if is_number(value):
            whens.append(
                (kind == "number", _compare(sql_cast(text, Numeric), clause_operator, value))
            )
        if isinstance(value, bool):
            whens.append(
                (kind == "boolean", _compare(sql_cast(text, Boolean), clause_operator, value))
            )
    return case(*whens, else_=false()) if whens else false()


def _sqlite_metadata(key: str, clause_operator: FilterOperator, value: Any) -> Any:
    entry = func.json_each(Event.user_metadata).table_valued("key", "value", "type").alias("entry")
    conditions: list[Any] = []
    if not isinstance(value, bool):
        text = value_text(value)
        string = (
            _contains(entry.c.value, clause_operator, text, "sqlite")
            if clause_operator in TEXT_OPERATORS
            else _compare(entry.c.value, clause_operator, text)
        )
        conditions.append(and_(entry.c.type == "text", string))
    if clause_operator not in TEXT_OPERATORS:
        if is_number(value):
            numeric = _compare(entry.c.value, clause_operator, value)
            conditions.append(and_(entry.c.type.in_(("integer", "real")), numeric))
        if isinstance(value, bool):
            boolean = _compare(entry.c.value, clause_operator, int(value))
            conditions.append(and_(entry.c.type.in_(("true", "false")), boolean))
    if not conditions:
        return false()
    return exists(select(1).select_from(entry).where(entry.c.key == key, or_(*conditions)))


def _metadata_clause(clause: FilterClause, dialect: str) -> Any:
    if "." in clause.property:
        return false()
    if dialect == "postgresql":
        return _postgresql_metadata(clause.property, clause.operator, clause.value)
    return _sqlite_metadata(clause.property, clause.operator, clause.value)


def filter_clause(meter_filter: Filter, dialect: str) -> ColumnElement[bool]:
    """The events `meter_filter` matches."""
    parts = [
        filter_clause(clause, dialect)
        if isinstance(clause, Filter)
        else (_column_clause if clause.property in COLUMNS else _metadata_clause)(clause, dialect)
        for clause in meter_filter.clauses
    ]
    if not parts:
        return true()
    return and_(*parts) if meter_filter.conjunction == FilterConjunction.and_ else or_(*parts)


# Aggregations ---------------------------------------------------------------------------------


def _metadata_kind_value(key: str, dialect: str) -> tuple[Any, Any]:
    """The JSON type and the value of a metadata key, as columns (NULL when missing)."""
    if dialect == "postgresql":
        document = type_coerce(Event.user_metadata, JSONB)[key]
        return func.jsonb_typeof(document), document.astext
    entry = func.json_each(Event.user_metadata).table_valued("key", "value", "type").alias("entry")
    lookup = select(entry.c.type, entry.c.value).select_from(entry).where(entry.c.key == key)
    return (
        lookup.with_only_columns(entry.c.type).scalar_subquery(),
        lookup.with_only_columns(entry.c.value).scalar_subquery(),
    )


def aggregation_clause(aggregation: Any, dialect: str) -> ColumnElement[bool]:
    """The matched events the aggregation takes: those with a number at its property."""
    if isinstance(aggregation, CountAggregation | UniqueAggregation):
        return true()
    key = aggregation.property
    if key == "timestamp":
        return true()
    if key in COLUMNS or "." in key:
        return false()
    kind, _ = _metadata_kind_value(key, dialect)
    if dialect == "postgresql":
        return kind == "number"  # type: ignore[no-any-return]
    return kind.in_(("integer", "real"))  # type: ignore[no-any-return]


def aggregation_value(aggregation: Any, dialect: str) -> ColumnElement[Any]:
    """What a property aggregation sums, averages or compares, as a float column."""
    key = aggregation.property
    if key == "timestamp":
        return sql_cast(epoch_seconds(dialect), Float)
    kind, value = _metadata_kind_value(key, dialect)
    if dialect == "postgresql":
        return case((kind == "number", sql_cast(value, Float)))
    return sql_cast(value, Float)


def unique_columns(aggregation: UniqueAggregation, dialect: str) -> tuple[Any, Any]:
    """The JSON type and the value (text on PostgreSQL, the SQL value on SQLite) at a unique
    aggregation's property, from which Python builds `matching.unique_key`."""
    if "." in aggregation.property:
        return literal(None, String), literal(None, String)
    return _metadata_kind_value(aggregation.property, dialect)
