"""A meter's quantities over time: the events it counts, aggregated per period.

As Polar: periods follow each other from `start_timestamp` by the interval up to
`end_timestamp`, and each takes the events of its calendar unit (its hour, day, Monday-based
week, month or year, in UTC). The total is the sum of the periods for `count` and `sum`, their
maximum or minimum for `max` and `min`, and for `avg` and `unique` the aggregation of all the
events of the periods at once. Only ingested (`user`) events count, as in customer meters.
"""

import calendar
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.errors import PolarRequestValidationError
from polar_customers.events.repository import customer_clause
from polar_customers.kit.metadata import metadata_matches
from polar_customers.kit.schemas import is_storable
from polar_customers.meters import filter_sql
from polar_customers.meters.matching import unique_key
from polar_customers.meters.repository import MeterRow
from polar_customers.meters.schemas import (
    AGGREGATION,
    AggregationFunction,
    CountAggregation,
    Filter,
    TimeInterval,
    UniqueAggregation,
)
from polar_customers.models import Event, EventSource

# Polar's bounds on the days a request spans, per interval.
MAX_INTERVAL_DAYS = {
    TimeInterval.hour: 7,
    TimeInterval.day: 366,
    TimeInterval.week: 7 * 53,
    TimeInterval.month: 365 * 4,
    TimeInterval.year: 365 * 10,
}
TOO_MANY = (
    "The interval is too small for the given date range. "
    "Use a larger interval or reduce the date range."
)
Function = AggregationFunction
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def check_range(start: datetime, end: datetime, interval: TimeInterval) -> None:
    """422 unless `start` comes before `end` within the days the interval allows."""
    days = end.astimezone(UTC).date().toordinal() - start.astimezone(UTC).date().toordinal()
    if start > end or days > MAX_INTERVAL_DAYS[interval]:
        raise PolarRequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query",),
                    "msg": TOO_MANY,
                    "input": [start.isoformat(), end.isoformat(), interval.value],
                }
            ]
        )


def _add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def step(moment: datetime, interval: TimeInterval) -> datetime:
    """The next moment of a series (PostgreSQL's `generate_series` adds the interval)."""
    if interval == TimeInterval.hour:
        return moment + timedelta(hours=1)
    if interval == TimeInterval.day:
        return moment + timedelta(days=1)
    if interval == TimeInterval.week:
        return moment + timedelta(weeks=1)
    return _add_months(moment, 1 if interval == TimeInterval.month else 12)


def _after(moment: datetime, interval: TimeInterval) -> datetime | None:
    """The next moment of a series, or None when it would fall after 9999-12-31 (the last day
    a datetime holds), where a series ends."""
    try:
        return step(moment, interval)
    except (OverflowError, ValueError):
        return None


def truncate(moment: datetime, interval: TimeInterval) -> datetime:
    """The start of the moment's calendar unit, in UTC."""
    moment = moment.astimezone(UTC)
    if interval == TimeInterval.hour:
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == TimeInterval.day:
        return day
    if interval == TimeInterval.week:
        return day - timedelta(days=day.weekday())
    if interval == TimeInterval.month:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def series(start: datetime, end: datetime, interval: TimeInterval) -> list[datetime]:
    moments: list[datetime] = []
    moment: datetime | None = start.astimezone(UTC)
    while moment is not None and moment <= end:
        moments.append(moment)
        moment = _after(moment, interval)
    return moments


_SQLITE_UNITS = {
    TimeInterval.hour: ("%Y-%m-%d %H:00:00",),
    TimeInterval.day: ("%Y-%m-%d 00:00:00",),
    TimeInterval.week: ("%Y-%m-%d 00:00:00", "weekday 0", "-6 days"),
    TimeInterval.month: ("%Y-%m-01 00:00:00",),
    TimeInterval.year: ("%Y-01-01 00:00:00",),
}


def _bucket(interval: TimeInterval, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.date_trunc(interval.value, Event.timestamp, "UTC")
    pattern, *modifiers = _SQLITE_UNITS[interval]
    return func.strftime(pattern, filter_sql.whole_seconds(Event.timestamp), *modifiers)


def _bucket_key(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which events of the meter count: of these customers, with this metadata."""

    customer_ids: Sequence[uuid.UUID] | None = None
    external_customer_ids: Sequence[str] | None = None
    metadata: dict[str, list[str]] | None = None


def _where(
    meter: MeterRow,
    aggregation: Any,
    selection: Selection,
    bounds: tuple[datetime, datetime],
    dialect: str,
) -> list[Any]:
    clauses: list[Any] = [
        Event.organization_id == meter["organization_id"],
        Event.source == EventSource.user,
        Event.timestamp >= bounds[0],
        Event.timestamp < bounds[1],
        filter_sql.filter_clause(Filter.model_validate(meter["filter"]), dialect),
        filter_sql.aggregation_clause(aggregation, dialect),
    ]
    customers = customer_clause(selection.customer_ids, selection.external_customer_ids)
    if customers is not None:
        clauses.append(customers)
    for key, values in (selection.metadata or {}).items():
        if not all(is_storable(text) for text in (key, *values)):
            clauses.append(Event.id.is_(None))
            continue
        clauses.append(metadata_matches(Event.user_metadata, key, values, dialect=dialect))
    return clauses


_SQL_FUNCTIONS: dict[Function, Any] = {
    Function.cnt: func.count,
    Function.sum: func.sum,
    Function.max: func.max,
    Function.min: func.min,
    Function.avg: func.avg,
}


def _customer_key() -> ColumnElement[Any]:
    return func.coalesce(sql_cast(Event.customer_id, String), Event.external_customer_id)


async def quantities(
    session: AsyncSession,
    meter: MeterRow,
    *,
    start: datetime,
    end: datetime,
    interval: TimeInterval,
    selection: Selection,
    customer_aggregation: Function | None,
) -> tuple[list[tuple[datetime, float]], float]:
    """The quantity of each period of the series, and the total."""
    moments = series(start, end, interval)
    if not moments:
        return [], 0.0
    last_unit = truncate(moments[-1], interval)
    bounds = (truncate(moments[0], interval), _after(last_unit, interval) or _END_OF_TIME)
    dialect = session.get_bind().dialect.name
    aggregation = AGGREGATION.validate_python(meter["aggregation"])
    where = _where(meter, aggregation, selection, bounds, dialect)
    bucket = _bucket(interval, dialect).label("bucket")
    if isinstance(aggregation, UniqueAggregation):
        per_bucket = await _unique_buckets(
            session, aggregation, where, bucket, customer_aggregation
        )
    else:
        per_bucket = await _buckets(
            session, aggregation, where, bucket, customer_aggregation, dialect
        )
    periods = [(moment, per_bucket.get(truncate(moment, interval), 0.0)) for moment in moments]
    counted = [
        per_bucket[key] for key in {truncate(m, interval) for m in moments} if key in per_bucket
    ]
    return periods, await _total(session, aggregation, where, counted)


def _value(aggregation: Any, dialect: str) -> Any:
    if isinstance(aggregation, CountAggregation):
        return Event.id
    return filter_sql.aggregation_value(aggregation, dialect)


async def _buckets(
    session: AsyncSession,
    aggregation: Any,
    where: list[Any],
    bucket: Any,
    customer_aggregation: Function | None,
    dialect: str,
) -> dict[datetime, float]:
    quantity = _SQL_FUNCTIONS[aggregation.func](_value(aggregation, dialect))
    if customer_aggregation is None:
        statement = select(bucket, quantity).where(*where).group_by(bucket)
    else:
        per_customer = (
            select(bucket, quantity.label("quantity"))
            .where(*where)
            .group_by(bucket, _customer_key())
            .subquery()
        )
        outer = (
            func.count(func.distinct(per_customer.c.quantity))
            if customer_aggregation == Function.unique
            else _SQL_FUNCTIONS[customer_aggregation](per_customer.c.quantity)
        )
        statement = select(per_customer.c.bucket, outer).group_by(per_customer.c.bucket)
    rows = (await session.execute(statement)).all()
    return {_bucket_key(key): float(value or 0) for key, value in rows}


def _unique_value(kind: Any, value: Any) -> str | None:
    """`matching.unique_key` of a value read as (JSON type, value) by `filter_sql`."""
    if kind is None or value is None:
        return None
    if kind in ("true", "false", "boolean"):
        return unique_key(value in (True, 1, "true"))
    if kind in ("text", "string"):
        return unique_key(str(value))
    if kind in ("integer", "real", "number"):
        return unique_key(float(value))
    return None


async def _unique_buckets(
    session: AsyncSession,
    aggregation: UniqueAggregation,
    where: list[Any],
    bucket: Any,
    customer_aggregation: Function | None,
) -> dict[datetime, float]:
    dialect = session.get_bind().dialect.name
    kind, value = filter_sql.unique_columns(aggregation, dialect)
    customer = _customer_key().label("customer")
    statement = select(bucket, customer, kind, value).where(*where).distinct()
    seen: dict[tuple[datetime, Any], set[str]] = {}
    for key, who, row_kind, row_value in (await session.execute(statement)).all():
        values = seen.setdefault((_bucket_key(key), who), set())
        if (unique := _unique_value(row_kind, row_value)) is not None:
            values.add(unique)
    if customer_aggregation is None:
        merged: dict[datetime, set[str]] = {}
        for (moment, _), values in seen.items():
            merged.setdefault(moment, set()).update(values)
        return {moment: float(len(values)) for moment, values in merged.items()}
    per_customer: dict[datetime, list[float]] = {}
    for (moment, _), values in seen.items():
        per_customer.setdefault(moment, []).append(float(len(values)))
    return {
        moment: _combine(customer_aggregation, counts) for moment, counts in per_customer.items()
    }


def _combine(function: Function, values: Sequence[float]) -> float:
    if function == Function.cnt:
        return float(len(values))
    if function == Function.sum:
        return float(sum(values))
    if function == Function.max:
        return max(values)
    if function == Function.min:
        return min(values)
    if function == Function.avg:
        return sum(values) / len(values)
    return float(len(set(values)))


async def _total(
    session: AsyncSession, aggregation: Any, where: list[Any], counted: Sequence[float]
) -> float:
    function = Function(aggregation.func)
    if function in (Function.cnt, Function.sum):
        return float(sum(counted))
    if function in (Function.max, Function.min):
        return _combine(function, counted) if counted else 0.0
    dialect = session.get_bind().dialect.name
    if function == Function.avg:
        statement = select(func.avg(filter_sql.aggregation_value(aggregation, dialect))).where(
            *where
        )
        return float(await session.scalar(statement) or 0)
    kind, value = filter_sql.unique_columns(aggregation, dialect)
    rows = (await session.execute(select(kind, value).where(*where).distinct())).all()
    return float(len({u for k, v in rows if (u := _unique_value(k, v)) is not None}))
