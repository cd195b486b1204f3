"""The customers of the heavy state scenario: each with 10 subscriptions, 30 benefit grants
and 5 customer meters, the meters fed by 1,000,000 stored events in all. State reads the
running totals, never the events: the scenario shows that the events cost it nothing.

Seeded directly (the events by batches of 20,000 rows), after the rest of the seed."""

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from polar_customers.config import Settings
from polar_customers.db import Database
from polar_customers.kit.time import utc_now
from polar_customers.models import (
    Base,
    Benefit,
    BenefitGrant,
    CustomerMeter,
    Event,
    Meter,
    Product,
    ProductPrice,
    Subscription,
    SubscriptionMeter,
    SubscriptionPrice,
)

HEAVY_CUSTOMERS = 20
SUBSCRIPTIONS, GRANTS_PER_SUBSCRIPTION, METERS = 10, 3, 5
EVENTS = 1_000_000
EVENT_BATCH = 20_000


def _row(model: type[Any], organization_id: uuid.UUID, **values: Any) -> Any:
    return model(id=uuid.uuid4(), organization_id=organization_id, **values)


def _catalogue(organization_id: uuid.UUID) -> tuple[list[Base], Product, ProductPrice]:
    product = _row(Product, organization_id, name="Heavy", recurring_interval="month")
    price = _row(ProductPrice, organization_id, product_id=product.id, price_amount=1000)
    return [product, price], product, price


def _customer_rows(
    organization_id: uuid.UUID,
    customer_id: uuid.UUID,
    product: Product,
    price: ProductPrice,
    meters: Sequence[Meter],
    benefits: Sequence[Benefit],
    rng: random.Random,
    events: int,
) -> Iterator[Any]:
    now = utc_now()
    for number in range(SUBSCRIPTIONS):
        subscription = _row(
            Subscription,
            organization_id,
            customer_id=customer_id,
            product_id=product.id,
            status="active",
            amount=1000,
            currency="usd",
            recurring_interval="month",
            current_period_start=now - timedelta(days=rng.randrange(30)),
            current_period_end=now + timedelta(days=1 + rng.randrange(30)),
            started_at=now - timedelta(days=400),
        )
        yield subscription
        yield _row(
            SubscriptionPrice,
            organization_id,
            subscription_id=subscription.id,
            product_price_id=price.id,
            position=0,
        )
        yield _row(
            SubscriptionMeter,
            organization_id,
            subscription_id=subscription.id,
            meter_id=meters[number % METERS].id,
            consumed_units=float(rng.randrange(5000)),
        )
        for benefit in benefits:
            yield _row(
                BenefitGrant,
                organization_id,
                customer_id=customer_id,
                benefit_id=benefit.id,
                subscription_id=subscription.id,
                granted_at=now,
            )
    per_meter = events // HEAVY_CUSTOMERS // METERS
    for meter in meters:
        yield _row(
            CustomerMeter,
            organization_id,
            customer_id=customer_id,
            meter_id=meter.id,
            consumed_units=float(per_meter),
            credited_units=per_meter * 2,
            balance=float(per_meter),
            event_count=per_meter,
        )


_INSERT_ORDER: tuple[tuple[type[Base], ...], ...] = (
    (Product, Meter, Benefit),
    (ProductPrice, Subscription),
    (SubscriptionPrice, SubscriptionMeter, BenefitGrant, CustomerMeter),
)


def _events(
    organization_id: uuid.UUID,
    customer_ids: Sequence[uuid.UUID],
    meters: Sequence[Meter],
    count: int,
) -> Iterator[dict[str, Any]]:
    start = utc_now() - timedelta(days=30)
    for number in range(count):
        yield {
            "id": uuid.uuid4(),
            "organization_id": organization_id,
            "customer_id": customer_ids[number % len(customer_ids)],
            "name": meters[number % METERS].name,
            "source": "user",
            "timestamp": start + timedelta(seconds=number),
            "ingested_at": start + timedelta(seconds=number),
            "user_metadata": {},
        }


async def seed_heavy_state(
    database_url: str,
    organization_id: uuid.UUID,
    customer_ids: Sequence[str],
    *,
    events: int = EVENTS,
    seed: int = 9,
) -> int:
    """Seed the heavy state of `customer_ids` and `events` events; returns the number of rows
    written."""
    rng = random.Random(seed)
    ids = [uuid.UUID(id) for id in customer_ids]
    rows, product, price = _catalogue(organization_id)
    meters = [
        _row(
            Meter,
            organization_id,
            name=f"heavy_{number}",
            filter={
                "conjunction": "and",
                "clauses": [{"property": "name", "operator": "eq", "value": f"heavy_{number}"}],
            },
            aggregation={"func": "count"},
        )
        for number in range(METERS)
    ]
    benefits = [
        _row(Benefit, organization_id, type="custom", description=f"Heavy {number}")
        for number in range(GRANTS_PER_SUBSCRIPTION)
    ]
    rows += [*meters, *benefits]
    for customer_id in ids:
        rows.extend(
            _customer_rows(
                organization_id, customer_id, product, price, meters, benefits, rng, events
            )
        )
    database = Database(Settings(database_url=database_url))
    try:
        async with database.write_sessions() as session, session.begin():
            for models in _INSERT_ORDER:
                session.add_all(row for row in rows if isinstance(row, models))
                await session.flush()
            batch: list[dict[str, Any]] = []
            for event in _events(organization_id, ids, meters, events):
                batch.append(event)
                if len(batch) == EVENT_BATCH:
                    await session.execute(insert(Event), batch)
                    batch = []
            if batch:
                await session.execute(insert(Event), batch)
    finally:
        await database.dispose()
    return len(rows) + events
