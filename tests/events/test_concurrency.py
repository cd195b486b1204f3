"""Concurrent batches of one customer, each in its own transaction: the running totals add up
exactly (on PostgreSQL the transactions of different server processes overlap; SQLite runs
them one after the other). A process counts one batch at a time (docs/decisions.md#d43).

These tests commit: they run the application on its own pools, on a tenant of their own that
they delete afterwards."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
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
PROCESSES = 4  # applications, each with its own pools and ingest slot, as server processes


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
async def apps(settings: Settings) -> AsyncIterator[list[FastAPI]]:
    """The application `PROCESSES` times, each on its own pools: every request in its own
    transaction."""
    created = [create_app(settings) for _ in range(PROCESSES)]
    yield created
    for app in created:
        await app.state.database.dispose()


@pytest.fixture
async def clients(apps: list[FastAPI]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
            )
            for app in apps
        ]


@pytest.fixture
def live(clients: list[httpx.AsyncClient]) -> httpx.AsyncClient:
    return clients[0]


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
    live: httpx.AsyncClient, clients: list[httpx.AsyncClient], tenant: Tenant, settings: Settings
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
            clients[b % PROCESSES].post(
                "/v1/events/ingest", json={"events": batch(b)}, headers=headers
            )
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


async def test_a_process_counts_one_batch_at_a_time(
    apps: list[FastAPI], clients: list[httpx.AsyncClient], tenant: Tenant
) -> None:
    """While a process's slot is taken, its next batch waits, holding no connection, and goes
    on when the slot is free; another process is not held up."""
    body = {"events": [{"name": "call", "customer_id": str(tenant.customer_id)}]}
    first, second = clients[0], clients[1]
    assert (await first.post("/v1/events/ingest", json=body, headers=tenant.headers)).is_success
    slots = apps[0].state.ingest_slots
    await slots.acquire()
    try:
        waiting = asyncio.create_task(
            first.post("/v1/events/ingest", json=body, headers=tenant.headers)
        )
        response = await second.post("/v1/events/ingest", json=body, headers=tenant.headers)
        assert response.status_code == 200, response.text
        await asyncio.sleep(0.2)
        assert not waiting.done()
        assert [engine.pool.checkedout() for engine in apps[0].state.database.engines] == [0] * 3
    finally:
        slots.release()
    response = await asyncio.wait_for(waiting, timeout=10)
    assert response.status_code == 200, response.text
    response = await first.get("/v1/events/", headers=tenant.headers)
    assert response.json()["pagination"]["total_count"] == 3
