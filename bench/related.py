"""What customer state and balance read: subscriptions, grants, meters, orders and payments.

Seeded for the sampled customers only (the ones the state and balance scenarios ask for),
through the ORM: a few thousand rows, shaped like a small SaaS: two plans, a metered API,
three benefits; each customer has one subscription (a fifth of them trialing) with a usage
meter, two granted benefits, a customer meter, and three paid orders with their payments.
"""

import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from polar_customers.config import Settings
from polar_customers.db import Database
from polar_customers.kit.time import utc_now
from polar_customers.models import (
    Base,
    Benefit,
    BenefitGrant,
    Checkout,
    CustomerMeter,
    Meter,
    Order,
    Payment,
    Product,
    ProductPrice,
    Subscription,
    SubscriptionMeter,
    SubscriptionPrice,
)

PLANS = (("Starter", 900), ("Pro", 2900))
BENEFITS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("license_keys", {"tier": "pro"}),
    ("custom", {}),
    ("downloadables", {"bundle": "assets"}),
)


_INSERT_ORDER: tuple[tuple[type[Base], ...], ...] = (
    (Product, ProductPrice, Meter, Benefit, Checkout),
    (Subscription, Order),
    (SubscriptionPrice, SubscriptionMeter, CustomerMeter, BenefitGrant, Payment),
)


class _Catalog:
    """The organization's products, prices, meter and benefits."""

    def __init__(self, organization_id: uuid.UUID) -> None:
        self.organization_id = organization_id
        self.products = [self.row(Product, name=name) for name, _ in PLANS]
        self.prices = [self.row(ProductPrice, product_id=p.id) for p in self.products]
        self.meter = self.row(Meter, name="API calls")
        self.benefits = [
            self.row(Benefit, type=kind, description=kind, user_metadata=metadata)
            for kind, metadata in BENEFITS
        ]

    def row(self, model: type[Any], **values: Any) -> Any:
        return model(id=uuid.uuid4(), organization_id=self.organization_id, **values)

    def rows(self) -> list[Base]:
        return [*self.products, *self.prices, self.meter, *self.benefits]


def _customer_rows(catalog: _Catalog, customer_id: uuid.UUID, rng: random.Random) -> Iterator[Any]:
    row, now = catalog.row, utc_now()
    plan = rng.randrange(len(PLANS))
    started = now - timedelta(days=rng.randrange(1, 400))
    subscription = row(
        Subscription,
        customer_id=customer_id,
        product_id=catalog.products[plan].id,
        status="trialing" if rng.random() < 0.2 else "active",
        amount=PLANS[plan][1],
        currency="usd",
        recurring_interval="month",
        current_period_start=now - timedelta(days=rng.randrange(30)),
        current_period_end=now + timedelta(days=rng.randrange(1, 30)),
        started_at=started,
        user_metadata={"seats": rng.randrange(1, 20)},
    )
    yield subscription
    yield row(
        SubscriptionPrice,
        subscription_id=subscription.id,
        product_price_id=catalog.prices[plan].id,
        position=0,
    )
    consumed, credited = float(rng.randrange(0, 5000)), 10_000
    yield row(
        SubscriptionMeter,
        subscription_id=subscription.id,
        meter_id=catalog.meter.id,
        consumed_units=consumed,
        credited_units=credited,
        amount=0,
    )
    yield row(
        CustomerMeter,
        customer_id=customer_id,
        meter_id=catalog.meter.id,
        consumed_units=consumed,
        credited_units=credited,
        balance=credited - consumed,
    )
    for benefit in catalog.benefits[: 1 + rng.randrange(len(catalog.benefits))]:
        properties = {"license_key_id": str(uuid.uuid4()), "display_key": "****-ABCD"}
        yield row(
            BenefitGrant,
            customer_id=customer_id,
            benefit_id=benefit.id,
            subscription_id=subscription.id,
            granted_at=started,
            properties=properties if benefit.type == "license_keys" else {},
        )
    yield from _purchases(catalog, customer_id, PLANS[plan][1], rng)


def _purchases(
    catalog: _Catalog, customer_id: uuid.UUID, amount: int, rng: random.Random
) -> Iterator[Any]:
    row = catalog.row
    for _ in range(3):
        checkout = row(Checkout, customer_id=customer_id)
        tax = amount * rng.choice((0, 20)) // 100
        order = row(
            Order,
            customer_id=customer_id,
            checkout_id=checkout.id,
            status="paid",
            subtotal_amount=amount,
            tax_amount=tax,
            currency="usd",
        )
        payment = row(
            Payment,
            order_id=order.id,
            checkout_id=checkout.id,
            status="succeeded",
            amount=amount + tax,
            currency="usd",
        )
        yield from (checkout, order, payment)


async def seed_related(
    database_url: str,
    organization_id: uuid.UUID,
    customer_ids: Sequence[str],
    *,
    seed: int = 42,
) -> int:
    """Seed the state and balance data of `customer_ids`; returns the number of rows."""
    rng = random.Random(seed)
    catalog = _Catalog(organization_id)
    rows: list[Any] = catalog.rows()
    for customer_id in customer_ids:
        rows.extend(_customer_rows(catalog, uuid.UUID(customer_id), rng))
    database = Database(Settings(database_url=database_url))
    try:
        async with database.write_sessions() as session, session.begin():
            # The models declare foreign keys but no relationships: insert referenced rows first.
            for models in _INSERT_ORDER:
                session.add_all(row for row in rows if isinstance(row, models))
                await session.flush()
    finally:
        await database.dispose()
    return len(rows)
