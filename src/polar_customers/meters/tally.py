"""What a batch of events adds to each meter, tallied in Python before any row is locked;
and how the running totals take it, as SQL shared by both engines' statements."""

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from polar_customers.meters.matching import (
    NO_VALUE,
    EventFacts,
    Extractor,
    Predicate,
    compile_aggregation,
    compile_filter,
)
from polar_customers.meters.repository import MeterRow
from polar_customers.meters.schemas import AGGREGATION, AggregationFunction, Filter

Function = AggregationFunction
EXTREMES = (Function.max, Function.min)


@dataclass(slots=True)
class Tally:
    """What a batch adds to one counter."""

    count: int = 0
    total: float = 0.0
    highest: float = -math.inf
    lowest: float = math.inf
    uniques: set[str] = field(default_factory=set)

    def extreme(self, function: Function) -> float:
        if function == Function.max:
            return self.highest
        if function == Function.min:
            return self.lowest
        return 0.0

    def initial(self, function: Function) -> float:
        """The consumed units of a counter that only this tally has added to."""
        if function == Function.cnt:
            return float(self.count)
        if function == Function.sum:
            return self.total
        if function == Function.avg:
            return self.total / self.count
        if function == Function.unique:
            return 0.0  # counted with the unique values
        return self.extreme(function)


@dataclass(frozen=True, slots=True)
class CountingMeter:
    """A meter ready to count events."""

    id: uuid.UUID
    function: Function
    matches: Predicate
    read: Extractor


def counting_meter(row: MeterRow) -> CountingMeter:
    function, read = compile_aggregation(AGGREGATION.validate_python(row["aggregation"]))
    predicate = compile_filter(Filter.model_validate(row["filter"]))
    return CountingMeter(row["id"], function, predicate, read)


Usage = dict[tuple[uuid.UUID, uuid.UUID], Tally]
"""Tallies by (customer id, meter id)."""


def tally(meters: Sequence[CountingMeter], events: Iterable[tuple[uuid.UUID, EventFacts]]) -> Usage:
    """What the events of customers add to the meters that take them."""
    batch = list(events)
    # Tallied by the customers' ids as integers: a UUID hashes in Python, an int in C, and
    # this runs once per event and meter.
    keys = [customer_id.int for customer_id, _ in batch]
    customers = {key: customer_id for key, (customer_id, _) in zip(keys, batch, strict=True)}
    usage: Usage = {}
    # Meter by meter, with `Tally.add` written out.
    for meter in meters:
        matches, read, unique = meter.matches, meter.read, meter.function == Function.unique
        tallies: dict[int, Tally] = {}
        for key, (_, event) in zip(keys, batch, strict=True):
            if not matches(event):
                continue
            value = read(event)
            if value is NO_VALUE:
                continue
            counted = tallies.get(key)
            if counted is None:
                counted = tallies[key] = Tally()
            counted.count += 1
            if value is None:
                continue
            if unique:
                counted.uniques.add(value)
                continue
            counted.total += value
            if value > counted.highest:
                counted.highest = value
            if value < counted.lowest:
                counted.lowest = value
        meter_id = meter.id
        for key, counted in tallies.items():
            usage[customers[key], meter_id] = counted
    return usage


# Consumed units as SQL -------------------------------------------------------------------------

# Of a row the batch creates, from what it adds: n events, their total and their extreme.
INITIAL = {
    Function.cnt: "{n}",
    Function.sum: "{total}",
    Function.max: "{extreme}",
    Function.min: "{extreme}",
    Function.avg: "CAST({total} AS {real}) / {n}",
    Function.unique: "0",
}
# Of an existing row `{t}`, as the batch changes it (unique values are counted afterwards).
UPDATED = {
    Function.cnt: "{t}.consumed_units + {n}",
    Function.sum: "{t}.consumed_units + {total}",
    Function.max: (
        "CASE WHEN {t}.event_count = 0 THEN {extreme} "
        "ELSE {greatest}({t}.consumed_units, {extreme}) END"
    ),
    Function.min: (
        "CASE WHEN {t}.event_count = 0 THEN {extreme} "
        "ELSE {least}({t}.consumed_units, {extreme}) END"
    ),
    Function.avg: "CAST({t}.value_sum + {total} AS {real}) / ({t}.event_count + {n})",
    Function.unique: "{t}.consumed_units",
}


def words(*, postgresql: bool) -> dict[str, str]:
    """The names the templates take on each engine."""
    if postgresql:
        return {"greatest": "GREATEST", "least": "LEAST", "real": "float8"}
    return {"greatest": "max", "least": "min", "real": "REAL"}
