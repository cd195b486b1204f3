"""Concurrent batches of one customer, each in its own transaction: the running totals add up
exactly (on PostgreSQL the transactions overlap; SQLite runs them one after the other).

These tests commit: they run the application on its own pools, on a tenant of their own that
they delete afterwards."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from polar_customers.app import create_app
from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.kit.time import utc_now
from polar_customers.models import (
    Customer,
    Meter,
    Organization,
    Product,
    ProductPrice,
    SubscriptionMeter,
)
from tests.factories import (
    bearer,
    create_customer,
    create_organization,
    create_organization_token,
    create_subscription,
    create_subscription_meter,
)
from tests.meters.support import SCOPES, create_meter, customer_meters, iso

BATCHES = 12
EVENTS_PER_BATCH = 50


@dataclass
class Tenant:
    organization_id: uuid.UUID
    customer_id: uuid.UUID
    headers: dict[str, str]


@pytest.fixture
async def tenant(settings: Settings) -> AsyncIterator[Tenant]:
    engine = create_engine(settings)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        organization = await create_organization(session, name=f"Racing {uuid.uuid4().hex}")
        token = await create_organization_token(session, organization=organization, scopes=SCOPES)
        customer = await create_customer(session, organization=organization, external_id="racer")
    yield Tenant(organization.id, customer.id, bearer(token))
    async with sessions() as session, session.begin():
        await session.execute(delete(Organization).where(Organization.id == organization.id))
    await engine.dispose()


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The application on its own pools: every request in its own transaction."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.database.dispose()


async def _subscribe(settings: Settings, tenant: Tenant, meter_id: str) -> None:
    """A subscription of the customer billing the meter at 1 cent a unit."""
    engine = create_engine(settings)
    try:
        async with async_sessionmaker(engine)() as session, session.begin():
            product = Product(organization_id=tenant.organization_id, name="Usage")
            session.add(product)
            await session.flush()
            price = ProductPrice(
                organization_id=tenant.organization_id,
                product_id=product.id,
                amount_type="metered_unit",
                meter_id=uuid.UUID(meter_id),
                unit_amount=1,
            )
            session.add(price)
            customer = await session.get(Customer, tenant.customer_id)
            assert customer is not None
            subscription = await create_subscription(
                session, customer=customer, product=product, prices=[price]
            )
            meter = await session.get(Meter, uuid.UUID(meter_id))
            assert meter is not None
            await create_subscription_meter(session, subscription=subscription, meter=meter)
    finally:
        await engine.dispose()


async def test_concurrent_batches_add_up(
    live: httpx.AsyncClient, tenant: Tenant, settings: Settings
) -> None:
    headers = tenant.headers
    count = await create_meter(live, headers, name="Count")
    total = await create_meter(
        live, headers, name="Sum", aggregation={"func": "sum", "property": "v"}
    )
    highest = await create_meter(
        live, headers, name="Max", aggregation={"func": "max", "property": "v"}
    )
    average = await create_meter(
        live, headers, name="Avg", aggregation={"func": "avg", "property": "v"}
    )
    unique = await create_meter(
        live, headers, name="Unique", aggregation={"func": "unique", "property": "u"}
    )
    await _subscribe(settings, tenant, count["id"])
    start = utc_now() - timedelta(hours=1)
    customer = tenant.customer_id

    def batch(index: int) -> list[dict[str, Any]]:
        """Half of the events by customer id, half by external id."""
        return [
            {
                "name": "call",
                **({"customer_id": str(customer)} if i % 2 else {"external_customer_id": "racer"}),
                "timestamp": iso(start + timedelta(seconds=index * EVENTS_PER_BATCH + i)),
                "metadata": {"v": index * EVENTS_PER_BATCH + i, "u": f"u{i % 7}"},
            }
            for i in range(EVENTS_PER_BATCH)
        ]

    responses = await asyncio.gather(
        *(
            live.post("/v1/events/ingest", json={"events": batch(b)}, headers=headers)
            for b in range(BATCHES)
        )
    )
    assert [response.status_code for response in responses] == [200] * BATCHES
    n = BATCHES * EVENTS_PER_BATCH
    found = {item["meter"]["name"]: item for item in await customer_meters(live, headers)}
    assert found["Count"]["consumed_units"] == n
    assert found["Sum"]["consumed_units"] == n * (n - 1) / 2
    assert found["Max"]["consumed_units"] == n - 1
    assert found["Avg"]["consumed_units"] == pytest.approx((n - 1) / 2)
    assert found["Unique"]["consumed_units"] == 7
    assert found["Count"]["balance"] == -n
    for meter in (total, highest, average, unique):
        assert found[meter["name"]]["customer_id"] == str(customer)
    response = await live.get(f"/v1/customers/{customer}", headers=headers)
    assert response.json()["first_user_event_at"] == iso(start)
    response = await live.get("/v1/events/", headers=headers)
    assert response.json()["pagination"]["total_count"] == n
    await _assert_subscription_usage(settings, tenant, n)


async def _assert_subscription_usage(settings: Settings, tenant: Tenant, n: int) -> None:
    engine = create_engine(settings)
    try:
        async with async_sessionmaker(engine)() as session:
            row = (
                await session.execute(
                    select(SubscriptionMeter.consumed_units, SubscriptionMeter.amount).where(
                        SubscriptionMeter.organization_id == tenant.organization_id
                    )
                )
            ).one()
            assert tuple(row) == (n, n)
    finally:
        await engine.dispose()
