"""The running totals of meters, changed by the events of an ingested batch in the batch's
own transaction: never re-aggregated from stored events on a read.

A batch is first tallied in Python (`tally.py`). The tallies then go to the customer meters
(created on their first event) and to the meters of the customer's active and trialing
subscriptions that count the meter: each total changes by arithmetic in SQL on the row as it
is when the statement locks it, so concurrent batches of one customer add up exactly. A
`unique` value counts when its row of `meter_unique_values` is first inserted, by whichever
transaction inserts it first.

PostgreSQL runs batches side by side: `totals_postgresql.py` locks rows in one order (so that
two batches never wait on each other) and keeps the time it holds them short. SQLite runs one
writer at a time, which the statements below rely on.
"""

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from polar_customers.meters import totals_postgresql
from polar_customers.meters.driver import Driver, new_hex_ids
from polar_customers.meters.tally import INITIAL, UPDATED, Function, Tally, Usage, words

INT32 = (-(2**31), 2**31 - 1)


@dataclass(frozen=True, slots=True)
class SubscriptionCounter:
    id: uuid.UUID
    customer_id: uuid.UUID
    meter_id: uuid.UUID
    price_id: uuid.UUID | None
    """The subscription's metered price for the meter (the first, by position)."""


async def subscription_counters(
    driver: Driver,
    organization_id: uuid.UUID,
    customer_ids: Iterable[uuid.UUID],
    meter_ids: Iterable[uuid.UUID],
    *,
    lock: bool = True,
) -> list[SubscriptionCounter]:
    """The meters of the customers' active and trialing subscriptions that count these meters,
    in id order (and locked in that order, unless `lock` is false)."""
    locking = " FOR UPDATE OF subscription_meters" if lock and driver.postgresql else ""
    rows = await driver.fetch(
        "SELECT subscription_meters.id, subscriptions.customer_id, subscription_meters.meter_id, "
        "(SELECT subscription_prices.product_price_id FROM subscription_prices JOIN "
        "product_prices ON product_prices.id = subscription_prices.product_price_id "
        "WHERE subscription_prices.organization_id = subscription_meters.organization_id "
        "AND subscription_prices.subscription_id = subscription_meters.subscription_id "
        "AND subscription_prices.deleted_at IS NULL "
        "AND product_prices.meter_id = subscription_meters.meter_id "
        "ORDER BY subscription_prices.position LIMIT 1) AS price_id "
        "FROM subscription_meters JOIN subscriptions "
        "ON subscriptions.organization_id = subscription_meters.organization_id "
        "AND subscriptions.id = subscription_meters.subscription_id "
        "WHERE subscription_meters.organization_id = $1 "
        "AND subscription_meters.deleted_at IS NULL AND subscriptions.deleted_at IS NULL "
        "AND subscriptions.status IN ('active', 'trialing') "
        f"AND {driver.member_of('subscriptions.customer_id', '$2')} "
        f"AND {driver.member_of('subscription_meters.meter_id', '$3')} "
        f"ORDER BY subscription_meters.id{locking}",
        driver.uid(organization_id),
        driver.uids(set(customer_ids)),
        driver.uids(set(meter_ids)),
    )
    if driver.postgresql:  # asyncpg reads uuids as Python's
        return [SubscriptionCounter(*row) for row in rows]
    return [
        SubscriptionCounter(
            driver.read_uuid(id),
            driver.read_uuid(customer_id),
            driver.read_uuid(meter_id),
            None if price_id is None else driver.read_uuid(price_id),
        )
        for id, customer_id, meter_id, price_id in rows
    ]


async def add_usage(
    driver: Driver,
    organization_id: uuid.UUID,
    usage: Usage,
    functions: Mapping[uuid.UUID, Function],
    *,
    now: datetime,
) -> None:
    """Add a batch's tallies to the customer meters and to the subscription meters."""
    if not usage:
        return
    subscriptions = await subscription_counters(
        driver,
        organization_id,
        {customer_id for customer_id, _ in usage},
        {meter_id for _, meter_id in usage},
        lock=False,  # the statements that change them lock them, in order
    )
    if driver.postgresql:
        priced = [
            totals_postgresql.Priced(s.id, usage[s.customer_id, s.meter_id], s.meter_id, s.price_id)
            for s in subscriptions
            if (s.customer_id, s.meter_id) in usage
        ]
        await totals_postgresql.add_usage(
            driver, organization_id, usage, functions, priced, now=now
        )
        return
    await _add_usage_sqlite(driver, organization_id, usage, functions, subscriptions, now=now)


# SQLite ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counter:
    """A row whose totals a tally changes: a customer meter or a subscription meter."""

    id: uuid.UUID
    tally: Tally
    function: Function


def _customer_meters_upsert(function: Function) -> str:
    """Add one (customer, meter)'s tally to its customer meter, creating it."""
    sql_words = words(postgresql=False)
    updated = UPDATED[function].format(
        t="customer_meters",
        n="excluded.event_count",
        total="excluded.value_sum",
        extreme="excluded.consumed_units",  # a new row's: the batch's extreme for max and min
        **sql_words,
    )
    initial = INITIAL[function].format(n="$6", total="$7", extreme="$8", **sql_words)
    return (
        "INSERT INTO customer_meters (id, organization_id, customer_id, meter_id, created_at, "
        "modified_at, consumed_units, credited_units, balance, event_count, value_sum) "
        f"VALUES ($3, $1, $4, $5, $2, $2, {initial}, 0, -({initial}), $6, $7) "
        "ON CONFLICT (organization_id, customer_id, meter_id) DO UPDATE SET "
        "event_count = customer_meters.event_count + excluded.event_count, "
        "value_sum = customer_meters.value_sum + excluded.value_sum, "
        f"consumed_units = {updated}, "
        f"balance = customer_meters.credited_units - ({updated}), "
        "modified_at = excluded.modified_at"
    )


def _subscription_meters_update(function: Function) -> str:
    updated = UPDATED[function].format(
        t="subscription_meters", n="$4", total="$5", extreme="$6", **words(postgresql=False)
    )
    return (
        "UPDATE subscription_meters SET event_count = event_count + $4, "
        f"value_sum = value_sum + $5, consumed_units = {updated}, modified_at = $2 "
        "WHERE organization_id = $1 AND id = $3"
    )


def _by_function(
    usage: Usage, functions: Mapping[uuid.UUID, Function]
) -> dict[Function, list[tuple[tuple[uuid.UUID, uuid.UUID], Tally]]]:
    grouped: dict[Function, list[tuple[tuple[uuid.UUID, uuid.UUID], Tally]]] = {}
    for key, counted in usage.items():
        grouped.setdefault(functions[key[1]], []).append((key, counted))
    return grouped


async def _add_usage_sqlite(
    driver: Driver,
    organization_id: uuid.UUID,
    usage: Usage,
    functions: Mapping[uuid.UUID, Function],
    subscriptions: Sequence[SubscriptionCounter],
    *,
    now: datetime,
) -> None:
    organization, time = driver.uid(organization_id), driver.time(now)
    for function, rows in _by_function(usage, functions).items():
        # SQLite counts the parameters up to the last one a statement uses: the extreme.
        last = 8 if function in (Function.max, Function.min) else 7
        await driver.executemany(
            _customer_meters_upsert(function),
            [
                (
                    organization,
                    time,
                    new_id,
                    customer_id.hex,
                    meter_id.hex,
                    counted.count,
                    counted.total,
                    counted.extreme(function),
                )[:last]
                for new_id, ((customer_id, meter_id), counted) in zip(
                    new_hex_ids(len(rows)), rows, strict=True
                )
            ],
        )
    unique = [key for key in usage if functions[key[1]] == Function.unique]
    ids = await _customer_meter_ids(driver, organization_id, unique) if unique else {}
    counters = [Counter(ids[key], usage[key], Function.unique) for key in unique]
    await _add_unique_values(driver, organization_id, "customer_meters", counters, now=now)
    await _add_to_subscriptions(driver, organization_id, usage, functions, subscriptions, now=now)


async def _customer_meter_ids(
    driver: Driver, organization_id: uuid.UUID, keys: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID]:
    rows = await driver.fetch(
        "SELECT id, customer_id, meter_id FROM customer_meters WHERE organization_id = $1 AND "
        f"{driver.member_of('customer_id', '$2')} AND {driver.member_of('meter_id', '$3')}",
        driver.uid(organization_id),
        driver.uids({customer_id for customer_id, _ in keys}),
        driver.uids({meter_id for _, meter_id in keys}),
    )
    return {
        (driver.read_uuid(customer_id), driver.read_uuid(meter_id)): driver.read_uuid(id)
        for id, customer_id, meter_id in rows
    }


async def _add_unique_values(
    driver: Driver,
    organization_id: uuid.UUID,
    table: str,
    counters: Sequence[Counter],
    *,
    now: datetime,
) -> None:
    """Count the values each counter had not seen: its consumed units grow by as many (and a
    customer meter's balance shrinks by as many). One writer at a time: what this
    transaction reads stays true until it ends."""
    pairs = [(counter.id.hex, value) for counter in counters for value in counter.tally.uniques]
    if not pairs:
        return
    known = {
        (counter_id, value)
        for counter_id, value in await driver.fetch(
            "SELECT counter_id, value FROM meter_unique_values WHERE (counter_id, value) IN "
            "(SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]') "
            "FROM json_each($1) AS j)",
            json.dumps(pairs),
        )
    }
    new = [pair for pair in pairs if pair not in known]
    organization = driver.uid(organization_id)
    await driver.executemany(
        "INSERT INTO meter_unique_values (organization_id, counter_id, value) VALUES ($1, $2, $3)",
        [(organization, counter_id, value) for counter_id, value in new],
    )
    added: dict[str, int] = {}
    for counter_id, _ in new:
        added[counter_id] = added.get(counter_id, 0) + 1
    balance = ", balance = balance - $2" if table == "customer_meters" else ""
    await driver.executemany(
        f"UPDATE {table} SET consumed_units = consumed_units + $2{balance}, modified_at = $3 "
        "WHERE id = $1",
        [(counter_id, count, driver.time(now)) for counter_id, count in added.items()],
    )


async def _add_to_subscriptions(
    driver: Driver,
    organization_id: uuid.UUID,
    usage: Usage,
    functions: Mapping[uuid.UUID, Function],
    subscriptions: Sequence[SubscriptionCounter],
    *,
    now: datetime,
) -> None:
    counters = [
        Counter(s.id, usage[s.customer_id, s.meter_id], functions[s.meter_id])
        for s in subscriptions
        if (s.customer_id, s.meter_id) in usage
    ]
    organization, time = driver.uid(organization_id), driver.time(now)
    for function in {counter.function for counter in counters}:
        last = 6 if function in (Function.max, Function.min) else 5
        await driver.executemany(
            _subscription_meters_update(function),
            [
                (
                    organization,
                    time,
                    c.id.hex,
                    c.tally.count,
                    c.tally.total,
                    c.tally.extreme(function),
                )[:last]
                for c in counters
                if c.function == function
            ],
        )
    unique = [counter for counter in counters if counter.function == Function.unique]
    await _add_unique_values(driver, organization_id, "subscription_meters", unique, now=now)
    await refresh_amounts(
        driver, organization_id, [(s.id, s.price_id) for s in subscriptions if s.price_id]
    )


async def refresh_amounts(
    driver: Driver,
    organization_id: uuid.UUID,
    priced: Sequence[tuple[uuid.UUID, uuid.UUID]],
) -> None:
    """Recompute the amount of subscription meters (id, metered price id) from their units:
    the units consumed beyond those credited, times the unit amount, rounded half away from
    zero, capped at the price's cap (Polar's metered unit price)."""
    if not priced:
        return
    if driver.postgresql:
        await totals_postgresql.refresh_amounts(driver, organization_id, priced)
        return
    low, high = INT32
    await driver.executemany(
        "UPDATE subscription_meters SET amount = (SELECT CAST(min(max(round(max("
        "subscription_meters.consumed_units - subscription_meters.credited_units, 0) * "
        f"coalesce(product_prices.unit_amount, 0)), {low}), "
        f"coalesce(product_prices.cap_amount, {high}), {high}) AS INTEGER) "
        "FROM product_prices WHERE product_prices.id = $2) WHERE id = $1",
        [(id.hex, price_id.hex) for id, price_id in priced],
    )
