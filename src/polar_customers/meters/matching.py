"""What a meter makes of one event, evaluated in Python as events are ingested: whether its
filter matches, and the value its aggregation takes from it.

`filter_sql.py` states the same rules in SQL for the reads that scan stored events (events of a
meter, quantities); the tests hold the two to the same answers. The rules follow the SQL that
Polar runs on its reads:

- `name` and `source` compare as text (code point order) with a string value, `timestamp` as
  whole seconds since the epoch with an integer value; another value type matches nothing.
- Any other property is a metadata key (`metadata.` optional). A missing key matches nothing,
  whatever the operator. A string compares as text with a string or integer value (the
  integer as its decimal text); a number numerically with an integer value; a boolean with a
  boolean value; any other pairing matches nothing.
- `like` and `not_like` test whether the text contains the value's text (case-sensitive);
  on metadata they apply to string values only (docs/decisions.md#d42).
- Metadata is flat, so a property path with a dot never resolves.
"""

import math
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from polar_customers.meters.schemas import (
    AggregationFunction,
    CountAggregation,
    Filter,
    FilterClause,
    FilterConjunction,
    FilterOperator,
    UniqueAggregation,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
COLUMNS = ("name", "source", "timestamp")


class EventFacts(NamedTuple):
    """What a filter or an aggregation may read of an event (a tuple: made per event)."""

    name: str
    source: str
    timestamp: datetime
    metadata: Mapping[str, Any]


Predicate = Callable[[EventFacts], bool]
_COMPARE: dict[FilterOperator, Callable[[Any, Any], bool]] = {
    FilterOperator.eq: operator.eq,
    FilterOperator.ne: operator.ne,
    FilterOperator.gt: operator.gt,
    FilterOperator.gte: operator.ge,
    FilterOperator.lt: operator.lt,
    FilterOperator.lte: operator.le,
    FilterOperator.like: lambda actual, expected: expected in actual,
    FilterOperator.not_like: lambda actual, expected: expected not in actual,
}
TEXT_OPERATORS = frozenset({FilterOperator.like, FilterOperator.not_like})


def epoch_seconds(timestamp: datetime) -> int:
    """Whole seconds since the epoch, rounded down."""
    return (timestamp - EPOCH) // _SECOND


def is_number(value: Any) -> bool:
    # Values come from JSON: exactly int, float, bool, str (the test runs once per event and
    # meter, and `isinstance` with a union is several times slower).
    kind = type(value)
    return kind is int or kind is float


def as_float(value: int | float) -> float:
    """A JSON number as a float; integers past the float range are infinite."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def value_text(value: str | int | bool) -> str:
    """A clause value as the text `like` looks for, or a string compares with."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _never(_event: EventFacts) -> bool:
    return False


def _column_clause(clause: FilterClause) -> Predicate:
    compare, value = _COMPARE[clause.operator], clause.value
    if clause.property == "timestamp":
        if not is_number(value):
            return _never
        if clause.operator in TEXT_OPERATORS:
            text = value_text(value)
            return lambda event: compare(str(epoch_seconds(event.timestamp)), text)
        return lambda event: compare(epoch_seconds(event.timestamp), value)
    if not isinstance(value, str):
        return _never
    if clause.property == "name":
        return lambda event: compare(event.name, value)
    return lambda event: compare(event.source, value)


def metadata_matches(actual: Any, clause_operator: FilterOperator, value: Any) -> bool:
    """Whether a metadata value (None when missing) satisfies a clause."""
    compare = _COMPARE[clause_operator]
    if isinstance(actual, str):
        if isinstance(value, bool):
            return False
        return compare(actual, value_text(value))
    if clause_operator in TEXT_OPERATORS:
        return False
    if isinstance(actual, bool):
        return isinstance(value, bool) and compare(actual, value)
    if is_number(actual):
        return is_number(value) and compare(actual, value)
    return False


def _metadata_clause(clause: FilterClause) -> Predicate:
    key, clause_operator, value = clause.property, clause.operator, clause.value
    if "." in key:
        return _never
    return lambda event: metadata_matches(event.metadata.get(key), clause_operator, value)


def compile_filter(meter_filter: Filter) -> Predicate:
    """The filter as a predicate on events."""
    parts = [
        compile_filter(clause)
        if isinstance(clause, Filter)
        else (_column_clause if clause.property in COLUMNS else _metadata_clause)(clause)
        for clause in meter_filter.clauses
    ]
    if not parts:
        return lambda _event: True
    if len(parts) == 1:
        return parts[0]
    # Loops rather than all()/any() over a generator: this runs per event and meter.
    if meter_filter.conjunction == FilterConjunction.and_:

        def every(event: EventFacts) -> bool:
            for part in parts:  # noqa: SIM110
                if not part(event):
                    return False
            return True

        return every

    def some(event: EventFacts) -> bool:
        for part in parts:  # noqa: SIM110
            if part(event):
                return True
        return False

    return some


# Aggregations ---------------------------------------------------------------------------------

NO_VALUE = object()
"""What `Extractor` gives for an event the aggregation does not take (not counted at all)."""
Extractor = Callable[[EventFacts], Any]


def unique_key(value: Any) -> str:
    """The identity of a value for `unique`: its JSON type and value, numbers compared as
    numbers (1 and 1.0 are one value)."""
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, str):
        return f"s:{value}"
    if math.isinf(number := as_float(value)):
        return f"n:{number}"
    return f"n:{int(number)}" if number.is_integer() else f"n:{number!r}"


def compile_aggregation(aggregation: Any) -> tuple[AggregationFunction, Extractor]:
    """The aggregation's function and what it reads of each event: None for `count`, a
    float for the property aggregations, a `unique_key` (or None without the property) for
    `unique`; `NO_VALUE` for an event it does not take."""
    if isinstance(aggregation, CountAggregation):
        return AggregationFunction.cnt, lambda _event: None
    key = aggregation.property
    if isinstance(aggregation, UniqueAggregation):

        def unique(event: EventFacts) -> Any:
            value = None if "." in key else event.metadata.get(key)
            return None if value is None else unique_key(value)

        return AggregationFunction.unique, unique
    if key == "timestamp":
        return aggregation.func, lambda event: float(epoch_seconds(event.timestamp))
    if key in COLUMNS or "." in key:
        return aggregation.func, lambda _event: NO_VALUE

    def number(event: EventFacts) -> Any:
        value: Any = event.metadata.get(key)
        return as_float(value) if is_number(value) else NO_VALUE

    return aggregation.func, number
