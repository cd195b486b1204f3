"""Every meter rule that needs the database: meters, the units credited to customer meters,
and the meters of subscriptions' billing periods. Services flush; the request commits.

Ingested events move the totals in `totals.py`; the functions here are what the other domains
call: `credit_units` (benefits), `reset_customer_meter` (benefits, when a period renews),
`open_subscription_meters` and `close_subscription_period` (subscriptions)."""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal, organization_of_new
from polar_customers.errors import (
    PolarRequestValidationError,
    ResourceNotFound,
    ValidationErrorItem,
)
from polar_customers.events import repository as events_repository
from polar_customers.events.repository import NewEvent
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection, borrow
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.meters import repository, totals
from polar_customers.meters.driver import Driver, driver_of
from polar_customers.meters.repository import CustomerMeterFull, MeterRow, row_of
from polar_customers.meters.schemas import MeterCreate, MeterUpdate
from polar_customers.models import (
    EventSource,
    Meter,
    MeterUniqueValue,
    Subscription,
    SubscriptionMeter,
)

METER_CREDITED = "meter.credited"
METER_RESET = "meter.reset"
DEFINITION_FIXED = "This field can't be updated because the meter is already aggregating events."
IN_ACTIVE_PRICES = "Cannot archive meter that is still attached to active products"
IN_ACTIVE_BENEFITS = "Cannot archive meter that is still referenced by active benefits"


def _error(field: str, msg: str, value: Any, *, kind: str = "value_error") -> ValidationErrorItem:
    return {"type": kind, "loc": ("body", field), "msg": msg, "input": value}


# Meters ---------------------------------------------------------------------------------------


async def get(connection: RawConnection, principal: Principal, meter_id: uuid.UUID) -> MeterRow:
    """The visible meter with this id; 404 when there is none."""
    meter = await repository.read(connection, principal.organization_ids, meter_id)
    if meter is None:
        raise ResourceNotFound()
    return meter


async def list_meters(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    query: str | None,
    is_archived: bool | None,
    metadata: dict[str, list[str]],
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[MeterRow], int]:
    statement = repository.meters_statement(
        dialect=session.get_bind().dialect.name,
        query=query,
        is_archived=is_archived,
        metadata=metadata,
    )
    return await repository.page_meters(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )


async def create_meter(
    session: AsyncSession, principal: Principal, *, create: MeterCreate
) -> MeterRow:
    meter = Meter(
        organization_id=organization_of_new(principal, create.organization_id)[0],
        name=create.name,
        filter=create.filter.model_dump(mode="json"),
        aggregation=create.aggregation.model_dump(mode="json"),
        user_metadata=create.metadata,
    )
    session.add(meter)
    await session.flush()
    return row_of(meter)


async def lock(session: AsyncSession, principal: Principal, meter_id: uuid.UUID) -> Meter:
    meter = await repository.lock(session, principal.organization_ids, meter_id)
    if meter is None:
        raise ResourceNotFound()
    return meter


async def update_meter(
    session: AsyncSession, meter: Meter, *, update: MeterUpdate, now: datetime
) -> MeterRow:
    """Write the fields given (null ones are left unchanged, as in Polar). The filter and
    aggregation are fixed once the meter has counted an event: its totals were made with
    them. Archiving is refused while a price or a benefit uses the meter."""
    fields = {field for field in update.model_fields_set if getattr(update, field) is not None}
    errors = [
        _error(
            field,
            DEFINITION_FIXED,
            getattr(update, field).model_dump(mode="json"),
            kind="forbidden",
        )
        for field in ("filter", "aggregation")
        if field in fields
    ]
    if errors and not await repository.has_counted_events(session, meter):
        errors = []
    if update.is_archived and meter.archived_at is None:
        if await repository.in_active_prices(session, meter):
            errors.append(_error("is_archived", IN_ACTIVE_PRICES, True))
        elif await repository.in_active_benefits(session, meter):
            errors.append(_error("is_archived", IN_ACTIVE_BENEFITS, True))
    if errors:
        raise PolarRequestValidationError(errors)
    if "name" in fields:
        meter.name = update.name  # type: ignore[assignment]
    if "metadata" in fields:
        meter.user_metadata = update.metadata  # type: ignore[assignment]
    if update.filter is not None:
        meter.filter = update.filter.model_dump(mode="json")
    if update.aggregation is not None:
        meter.aggregation = update.aggregation.model_dump(mode="json")
    if update.is_archived is not None:
        meter.archived_at = (meter.archived_at or now) if update.is_archived else None
    if fields:
        meter.modified_at = now
    await session.flush()
    return row_of(meter)


# Customer meters ------------------------------------------------------------------------------


async def get_customer_meter(
    connection: RawConnection, principal: Principal, customer_meter_id: uuid.UUID
) -> CustomerMeterFull:
    found = await repository.read_customer_meter(
        connection, principal.organization_ids, customer_meter_id
    )
    if found is None:
        raise ResourceNotFound()
    return found


async def list_customer_meters(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    customer_ids: Sequence[uuid.UUID] | None,
    external_customer_ids: Sequence[str] | None,
    meter_ids: Sequence[uuid.UUID] | None,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[CustomerMeterFull], int]:
    statement = repository.customer_meters_statement(
        customer_ids=customer_ids, external_customer_ids=external_customer_ids, meter_ids=meter_ids
    )
    rows, total = await repository.page_customer_meters(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )
    return await repository.embed(await borrow(await session.connection()), rows), total


# Credits --------------------------------------------------------------------------------------


def _credit_upsert(driver: Driver) -> str:
    greatest = "GREATEST" if driver.postgresql else "max"
    units = "$6::int8" if driver.postgresql else "$6"
    stamp = "$5::timestamptz" if driver.postgresql else "$5"
    credited = f"{greatest}(customer_meters.credited_units + {units}, 0)"
    return (
        "INSERT INTO customer_meters (id, organization_id, customer_id, meter_id, created_at, "
        "modified_at, consumed_units, credited_units, balance, event_count, value_sum) "
        f"VALUES ($1, $2, $3, $4, {stamp}, {stamp}, 0, {greatest}({units}, 0), "
        f"{greatest}({units}, 0), 0, 0) "
        "ON CONFLICT (organization_id, customer_id, meter_id) DO UPDATE SET "
        f"credited_units = {credited}, balance = {credited} - customer_meters.consumed_units, "
        "modified_at = excluded.modified_at"
    )


async def credit_units(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    meter_id: uuid.UUID,
    units: int,
    rollover: bool,
    now: datetime,
) -> None:
    """Credit units to a customer's meter (creating it), and to the meters of its active
    subscriptions that count that meter (what their periods bill shrinks by as much); negative
    units debit. Credits never go below zero (Polar's running sum). Recorded as a
    `meter.credited` event, whose `rollover` tells `reset_customer_meter` what carries over."""
    driver = await driver_of(session)
    await driver.execute(
        _credit_upsert(driver),
        driver.uid(uuid.uuid4()),
        driver.uid(organization_id),
        driver.uid(customer_id),
        driver.uid(meter_id),
        driver.time(now),
        units,
    )
    counters = await totals.subscription_counters(
        driver, organization_id, [customer_id], [meter_id]
    )
    if counters:
        greatest = "GREATEST" if driver.postgresql else "max"
        for counter in counters:
            await driver.execute(
                "UPDATE subscription_meters SET "
                f"credited_units = {greatest}(credited_units + $2, 0), modified_at = $3 "
                "WHERE id = $1",
                driver.uid(counter.id),
                units,
                driver.time(now),
            )
        await totals.refresh_amounts(
            driver,
            organization_id,
            [
                (counter.id, counter.price_id)
                for counter in counters
                if counter.price_id is not None
            ],
        )
    metadata = {"meter_id": str(meter_id), "units": units, "rollover": rollover}
    await _record(driver, organization_id, customer_id, METER_CREDITED, metadata, now=now)


async def _record(
    driver: Driver,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    name: str,
    metadata: dict[str, Any],
    *,
    now: datetime,
) -> None:
    event = NewEvent(organization_id, now, name, customer_id, None, metadata)
    await events_repository.insert_events(
        driver, organization_id, [event], source=EventSource.system, now=now
    )


async def reset_customer_meter(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    meter_id: uuid.UUID,
    now: datetime,
) -> int:
    """Start a customer's meter over, as Polar does when a meter credit benefit renews: what
    is left of the units credited with `rollover` since the last reset (at most the balance)
    carries over as a new credit; everything else goes to zero. Recorded as a `meter.reset`
    event. Returns the units carried over."""
    driver = await driver_of(session)
    locking = " FOR UPDATE" if driver.postgresql else ""
    rows = await driver.fetch(
        "SELECT id, consumed_units FROM customer_meters WHERE organization_id = $1 "
        f"AND customer_id = $2 AND meter_id = $3{locking}",
        driver.uid(organization_id),
        driver.uid(customer_id),
        driver.uid(meter_id),
    )
    carried = 0
    if rows:
        [(id, consumed)] = rows
        carried = await _rollover_units(
            driver, organization_id, customer_id, meter_id, float(consumed)
        )
        await driver.execute(
            "UPDATE customer_meters SET consumed_units = 0, credited_units = 0, balance = 0, "
            "event_count = 0, value_sum = 0, modified_at = $2 WHERE id = $1",
            id,
            driver.time(now),
        )
        await driver.execute("DELETE FROM meter_unique_values WHERE counter_id = $1", id)
    await _record(
        driver, organization_id, customer_id, METER_RESET, {"meter_id": str(meter_id)}, now=now
    )
    if carried > 0:
        # A microsecond later: the carried credit follows the reset in the events' order.
        await credit_units(
            session,
            organization_id=organization_id,
            customer_id=customer_id,
            meter_id=meter_id,
            units=carried,
            rollover=True,
            now=now + timedelta(microseconds=1),
        )
    return carried


async def _rollover_units(
    driver: Driver,
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    meter_id: uuid.UUID,
    consumed: float,
) -> int:
    """Polar's rule: of the credits since the last reset, the running sum of those marked
    `rollover`, at most what the balance of all of them leaves."""
    events = await driver.fetch(
        "SELECT name, user_metadata, timestamp FROM events WHERE organization_id = $1 "
        "AND customer_id = $2 AND source = 'system' AND name IN ('meter.credited', 'meter.reset')",
        driver.uid(organization_id),
        driver.uid(customer_id),
    )
    of_meter = []
    for name, metadata, timestamp in events:
        document = json.loads(metadata) if isinstance(metadata, str) else metadata
        if document.get("meter_id") == str(meter_id):
            # At one instant, a reset comes before the credits (a renewal resets, then credits).
            of_meter.append((driver.read_time(timestamp), name != METER_RESET, name, document))
    of_meter.sort(key=lambda item: item[:2])
    rollover = regular = 0
    for _, _, name, document in of_meter:
        if name == METER_RESET:
            rollover = regular = 0
        elif document.get("rollover"):
            rollover = max(0, rollover + int(document.get("units", 0)))
        else:
            regular = max(0, regular + int(document.get("units", 0)))
    return max(0, min(int(regular + rollover - consumed), rollover))


# Subscription meters --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeterUsage:
    """A subscription's use of one meter over a billing period."""

    meter_id: uuid.UUID
    consumed_units: float
    amount: int
    """In cents: what the subscription's metered price makes of the units (beyond those
    credited), capped."""


async def open_subscription_meters(
    session: AsyncSession, *, subscription: Subscription, meter_ids: Sequence[uuid.UUID]
) -> None:
    """Start counting these meters for the subscription, from zero; a meter it already counts
    is left as it is."""
    if not meter_ids:
        return
    connection = await session.connection()
    dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(SubscriptionMeter).on_conflict_do_nothing()
    await connection.execute(
        statement,
        [
            {
                "organization_id": subscription.organization_id,
                "subscription_id": subscription.id,
                "meter_id": meter_id,
                "consumed_units": 0,
                "credited_units": 0,
                "amount": 0,
                "event_count": 0,
                "value_sum": 0,
            }
            for meter_id in sorted(set(meter_ids))
        ],
    )


async def close_subscription_period(
    session: AsyncSession, *, subscription: Subscription
) -> list[MeterUsage]:
    """The usage of each meter of the subscription over the ending period; its meters then
    start the new period from zero (consumed, credited, amount and unique values)."""
    table = SubscriptionMeter
    connection = await session.connection()
    rows = (
        await connection.execute(
            select(table.id, table.meter_id, table.consumed_units, table.amount)
            .where(
                table.organization_id == subscription.organization_id,
                table.subscription_id == subscription.id,
                table.deleted_at.is_(None),
            )
            .order_by(table.id)
            .with_for_update()
        )
    ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    await connection.execute(
        update(table)
        .where(table.id.in_(ids), table.organization_id == subscription.organization_id)
        .values(consumed_units=0, credited_units=0, amount=0, event_count=0, value_sum=0)
    )
    await connection.execute(delete(MeterUniqueValue).where(MeterUniqueValue.counter_id.in_(ids)))
    return [
        MeterUsage(
            meter_id=row.meter_id, consumed_units=float(row.consumed_units), amount=row.amount
        )
        for row in sorted(rows, key=lambda row: str(row.meter_id))
    ]
