"""The running totals on PostgreSQL, where batches run side by side.

Batches of the same customers lock the same rows, and a batch that finds a row locked waits
for the batch holding it to commit: what a batch does while it holds rows decides how many
batches a second the server takes. So everything is prepared before the first lock (the
tallies, each new counter's first value, the subscription meters and their prices, all as
arrays), and the rows then change in at most three statements, each locking in one order:
customer meters by (customer, meter), subscription meters by id, then the unique values of
counters the batch already holds. Two batches never wait on each other (no deadlock), and no
Python work of the batch runs between its first lock and its commit.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from polar_customers.meters.driver import Driver
from polar_customers.meters.tally import UPDATED, Function, Tally, Usage, words

_WORDS = words(postgresql=True)
_LOW, _HIGH = -(2**31), 2**31 - 1


@dataclass(frozen=True, slots=True)
class Priced:
    """A subscription meter a batch adds to, and its metered price (if any)."""

    id: uuid.UUID
    tally: Tally
    meter_id: uuid.UUID
    price_id: uuid.UUID | None


def _amount(consumed: str) -> str:
    """What a metered price `p` makes of `consumed` units of subscription meter `t`: beyond
    the credited units, times the unit amount, rounded half away from zero (numeric), capped,
    in the range of the column."""
    return (
        f"LEAST(GREATEST(round(GREATEST(({consumed})::numeric - t.credited_units, 0) * "
        f"COALESCE(p.unit_amount, 0)), {_LOW}), COALESCE(p.cap_amount, {_HIGH}), {_HIGH})::int4"
    )


def _consumed_by_meter(functions: Sequence[Function], first_parameter: int) -> str:
    """Customer meters' new consumed units, by the function of their meter (the meters of
    each function in an array parameter, from `first_parameter` on)."""
    expressions = [
        UPDATED[function].format(
            t="customer_meters",
            n="excluded.event_count",
            total="excluded.value_sum",
            extreme="excluded.consumed_units",  # a new row's: the batch's extreme
            **_WORDS,
        )
        for function in functions
    ]
    if len(expressions) == 1:
        return expressions[0]
    branches = " ".join(
        f"WHEN customer_meters.meter_id = ANY(${first_parameter + i}::uuid[]) THEN {expression}"
        for i, expression in enumerate(expressions)
    )
    return f"CASE {branches} END"


async def add_usage(
    driver: Driver,
    organization_id: uuid.UUID,
    usage: Usage,
    functions: Mapping[uuid.UUID, Function],
    subscriptions: Sequence[Priced],
    *,
    now: datetime,
) -> None:
    # The statement sorts them: the order rows are locked in.
    ordered = list(usage.items())
    counters = await _upsert_customer_meters(driver, organization_id, ordered, functions, now=now)
    priced = sorted(subscriptions, key=lambda counter: counter.id.int)
    if priced:
        await _update_subscription_meters(driver, organization_id, priced, functions, now=now)
    unique = [counter for counter in priced if functions[counter.meter_id] == Function.unique]
    if counters or unique:
        await _add_unique_values(driver, organization_id, counters, unique, now=now)


async def _upsert_customer_meters(
    driver: Driver,
    organization_id: uuid.UUID,
    ordered: Sequence[tuple[tuple[uuid.UUID, uuid.UUID], Tally]],
    functions: Mapping[uuid.UUID, Function],
    *,
    now: datetime,
) -> list[tuple[uuid.UUID, Tally]]:
    """One statement for every customer meter of the batch; gives back the ids of those of
    `unique` meters, with their tallies (their values are counted next)."""
    meters_of: dict[Function, list[uuid.UUID]] = {}
    for meter_id, function in functions.items():
        meters_of.setdefault(function, []).append(meter_id)
    counted = {functions[meter] for (_, meter), _ in ordered}
    present = [function for function in Function if function in counted]
    consumed = _consumed_by_meter(present, first_parameter=9)
    rows = await driver.fetch(
        "WITH changed AS (INSERT INTO customer_meters (id, organization_id, customer_id, "
        "meter_id, created_at, modified_at, consumed_units, credited_units, balance, "
        "event_count, value_sum) SELECT gen_random_uuid(), $1::uuid, u.customer_id, u.meter_id, "
        "$2::timestamptz, $2::timestamptz, u.initial, 0, -u.initial, u.n, u.total FROM "
        "unnest($3::uuid[], $4::uuid[], $5::int8[], $6::float8[], $7::float8[]) AS "
        "u(customer_id, meter_id, n, total, initial) ORDER BY u.customer_id, u.meter_id "
        "ON CONFLICT (organization_id, customer_id, meter_id) DO UPDATE SET "
        "event_count = customer_meters.event_count + excluded.event_count, "
        "value_sum = customer_meters.value_sum + excluded.value_sum, "
        f"consumed_units = {consumed}, balance = customer_meters.credited_units - ({consumed}), "
        "modified_at = excluded.modified_at RETURNING id, customer_id, meter_id) "
        "SELECT id, customer_id, meter_id FROM changed WHERE meter_id = ANY($8::uuid[])",
        organization_id,
        now,
        [customer_id for (customer_id, _), _ in ordered],
        [meter_id for (_, meter_id), _ in ordered],
        [counted.count for _, counted in ordered],
        [counted.total for _, counted in ordered],
        [counted.initial(functions[meter_id]) for (_, meter_id), counted in ordered],
        meters_of.get(Function.unique, []),
        *([meters_of[function] for function in present] if len(present) > 1 else []),
    )
    tallies = dict(ordered)
    return [(id, tallies[customer_id, meter_id]) for id, customer_id, meter_id in rows]


async def _update_subscription_meters(
    driver: Driver,
    organization_id: uuid.UUID,
    priced: Sequence[Priced],
    functions: Mapping[uuid.UUID, Function],
    *,
    now: datetime,
) -> None:
    """One statement for every subscription meter of the batch, locked in id order first:
    units and, from them, the amount."""
    branches = " ".join(
        f"WHEN '{function.value}' THEN "
        + UPDATED[function].format(t="t", n="u.n", total="u.total", extreme="u.extreme", **_WORDS)
        for function in {functions[counter.meter_id] for counter in priced}
    )
    consumed = f"CASE u.kind {branches} END"
    await driver.execute(
        "WITH locked AS (SELECT id FROM subscription_meters WHERE organization_id = $1::uuid "
        "AND id = ANY($3::uuid[]) ORDER BY id FOR UPDATE) "
        "UPDATE subscription_meters AS t SET event_count = t.event_count + u.n, "
        f"value_sum = t.value_sum + u.total, consumed_units = {consumed}, "
        f"amount = CASE WHEN p.id IS NULL THEN t.amount ELSE {_amount(consumed)} END, "
        "modified_at = $2::timestamptz FROM unnest($3::uuid[], $4::int8[], $5::float8[], "
        "$6::float8[], $7::text[], $8::uuid[]) AS u(id, n, total, extreme, kind, price_id) "
        "JOIN locked ON locked.id = u.id LEFT JOIN product_prices AS p ON p.id = u.price_id "
        "WHERE t.id = u.id",
        organization_id,
        now,
        [counter.id for counter in priced],
        [counter.tally.count for counter in priced],
        [counter.tally.total for counter in priced],
        [counter.tally.extreme(functions[counter.meter_id]) for counter in priced],
        [functions[counter.meter_id].value for counter in priced],
        [counter.price_id for counter in priced],
    )


async def _add_unique_values(
    driver: Driver,
    organization_id: uuid.UUID,
    customer_counters: Sequence[tuple[uuid.UUID, Tally]],
    subscription_counters: Sequence[Priced],
    *,
    now: datetime,
) -> None:
    """Insert the values; each counter's consumed units grow by the number it had not seen
    (a customer meter's balance shrinks by as many, a subscription meter's amount follows)."""
    pairs = sorted(
        [(id.int, id, value) for id, counted in customer_counters for value in counted.uniques]
        + [(c.id.int, c.id, value) for c in subscription_counters for value in c.tally.uniques]
    )
    if not pairs:
        return
    await driver.execute(
        "WITH added AS (INSERT INTO meter_unique_values (organization_id, counter_id, value) "
        "SELECT $1::uuid, u.counter_id, u.value FROM unnest($2::uuid[], $3::text[]) "
        "AS u(counter_id, value) ON CONFLICT DO NOTHING RETURNING counter_id), "
        "counted AS (SELECT counter_id, count(*) AS n FROM added GROUP BY counter_id), "
        "customers AS (UPDATE customer_meters SET consumed_units = consumed_units + counted.n, "
        "balance = balance - counted.n, modified_at = $4::timestamptz FROM counted "
        "WHERE customer_meters.id = counted.counter_id RETURNING 1), "
        "subscriptions AS (UPDATE subscription_meters AS t SET "
        "consumed_units = t.consumed_units + counted.n, amount = CASE WHEN p.id IS NULL "
        f"THEN t.amount ELSE {_amount('t.consumed_units + counted.n')} END, "
        "modified_at = $4::timestamptz FROM counted JOIN unnest($5::uuid[], $6::uuid[]) "
        "AS s(id, price_id) ON s.id = counted.counter_id LEFT JOIN product_prices AS p "
        "ON p.id = s.price_id WHERE t.id = counted.counter_id RETURNING 1) "
        "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM subscriptions)",
        organization_id,
        [counter_id for _, counter_id, _ in pairs],
        [value for _, _, value in pairs],
        now,
        [counter.id for counter in subscription_counters],
        [counter.price_id for counter in subscription_counters],
    )


async def refresh_amounts(
    driver: Driver, organization_id: uuid.UUID, priced: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> None:
    """The amounts of these subscription meters (id, metered price id), from their units."""
    await driver.execute(
        f"UPDATE subscription_meters AS t SET amount = {_amount('t.consumed_units')} "
        "FROM unnest($2::uuid[], $3::uuid[]) AS u(id, price_id), product_prices AS p "
        "WHERE t.organization_id = $1::uuid AND t.id = u.id AND p.id = u.price_id",
        organization_id,
        [id for id, _ in priced],
        [price_id for _, price_id in priced],
    )
