"""What other domains call: credits, the renewal of a customer meter, and the meters of a
subscription's billing period."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.meters import service
from polar_customers.meters.service import MeterUsage
from polar_customers.models import (
    Customer,
    MeterUniqueValue,
    Organization,
    Subscription,
    SubscriptionMeter,
)
from tests.factories import create_subscription
from tests.meters.support import (
    create_meter,
    customer_meters,
    event,
    ingest_ok,
    metered_subscription,
    named,
)


async def credit(
    session: AsyncSession, customer: Customer, meter: dict[str, Any], units: int, **fields: Any
) -> None:
    await service.credit_units(
        session,
        organization_id=customer.organization_id,
        customer_id=customer.id,
        meter_id=uuid.UUID(meter["id"]),
        units=units,
        rollover=fields.get("rollover", False),
        now=utc_now(),
    )


async def totals(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[Any, ...]:
    [item] = await customer_meters(client, headers)
    return item["consumed_units"], item["credited_units"], item["balance"]


async def subscription_meter(session: AsyncSession, subscription: Subscription) -> Any:
    rows = await session.execute(
        select(
            SubscriptionMeter.consumed_units,
            SubscriptionMeter.credited_units,
            SubscriptionMeter.amount,
        ).where(SubscriptionMeter.subscription_id == subscription.id)
    )
    return rows.one()


async def system_events(client: httpx.AsyncClient, headers: dict[str, str]) -> list[Any]:
    response = await client.get(
        "/v1/events/", params={"source": "system", "sorting": "timestamp"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [(item["name"], item["metadata"]) for item in response.json()["items"]]


class TestCreditUnits:
    async def test_creates_the_customer_meter(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers)
        await credit(session, customer, meter, 100)
        assert await totals(client, headers) == (0, 100, 100)
        await ingest_ok(client, headers, [event(customer)] * 3)
        assert await totals(client, headers) == (3, 100, 97)
        await credit(session, customer, meter, 50, rollover=True)
        assert await totals(client, headers) == (3, 150, 147)
        assert await system_events(client, headers) == [
            ("meter.credited", {"meter_id": meter["id"], "units": 100, "rollover": False}),
            ("meter.credited", {"meter_id": meter["id"], "units": 50, "rollover": True}),
        ]

    async def test_debit_never_below_zero(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers)
        await ingest_ok(client, headers, [event(customer)] * 2)
        await credit(session, customer, meter, 10)
        await credit(session, customer, meter, -4)
        assert await totals(client, headers) == (2, 6, 4)
        await credit(session, customer, meter, -10)
        assert await totals(client, headers) == (2, 0, -2)
        await credit(session, customer, meter, -3)  # on a new meter too
        assert await totals(client, headers) == (2, 0, -2)

    async def test_credits_reduce_what_subscriptions_bill(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers)
        subscription = await metered_subscription(
            session, customer=customer, meter_id=meter["id"], unit_amount=10
        )
        await ingest_ok(client, headers, [event(customer)] * 5)
        assert tuple(await subscription_meter(session, subscription)) == (5, 0, 50)
        await credit(session, customer, meter, 3)
        assert tuple(await subscription_meter(session, subscription)) == (5, 3, 20)
        await credit(session, customer, meter, 10)
        assert tuple(await subscription_meter(session, subscription)) == (5, 13, 0)

    async def test_state_lists_the_meter(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers)
        await credit(session, customer, meter, 7)
        response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
        [active] = response.json()["active_meters"]
        assert (active["meter_id"], active["credited_units"], active["balance"]) == (
            meter["id"],
            7,
            7,
        )


class TestResetCustomerMeter:
    async def reset(self, session: AsyncSession, customer: Customer, meter: dict[str, Any]) -> int:
        return await service.reset_customer_meter(
            session,
            organization_id=customer.organization_id,
            customer_id=customer.id,
            meter_id=uuid.UUID(meter["id"]),
            now=utc_now(),
        )

    async def test_without_rollover(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers)
        await credit(session, customer, meter, 10)
        await ingest_ok(client, headers, [event(customer)] * 4)
        assert await self.reset(session, customer, meter) == 0
        assert await totals(client, headers) == (0, 0, 0)
        await ingest_ok(client, headers, [event(customer)])
        assert await totals(client, headers) == (1, 0, -1)

    @pytest.mark.parametrize(("used", "carried"), [(0, 10), (5, 10), (6, 9), (14, 1), (20, 0)])
    async def test_rollover(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
        used: int,
        carried: int,
    ) -> None:
        """10 units with rollover and 5 without: what is left of the balance carries over,
        at most the 10."""
        meter = await create_meter(client, headers)
        await credit(session, customer, meter, 10, rollover=True)
        await credit(session, customer, meter, 5)
        if used:
            await ingest_ok(client, headers, [event(customer)] * used)
        assert await self.reset(session, customer, meter) == carried
        assert await totals(client, headers) == (0, carried, carried)
        names = [name for name, _ in await system_events(client, headers)]
        expected = ["meter.credited", "meter.credited", "meter.reset"]
        assert names == expected + (["meter.credited"] if carried else [])

    async def test_rollover_counts_since_the_last_reset(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers)
        await credit(session, customer, meter, 10, rollover=True)
        assert await self.reset(session, customer, meter) == 10
        assert await totals(client, headers) == (0, 10, 10)
        await ingest_ok(client, headers, [event(customer)] * 3)
        assert await self.reset(session, customer, meter) == 7
        assert await totals(client, headers) == (0, 7, 7)

    async def test_unique_values_start_over(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(
            client, headers, aggregation={"func": "unique", "property": "user"}
        )
        await ingest_ok(client, headers, [event(customer, metadata={"user": "a"})])
        await self.reset(session, customer, meter)
        await ingest_ok(client, headers, [event(customer, metadata={"user": "a"})])
        assert await totals(client, headers) == (1, 0, -1)


class TestSubscriptionPeriods:
    async def test_open_is_idempotent(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers)
        subscription = await metered_subscription(
            session, customer=customer, meter_id=meter["id"], unit_amount=1
        )
        other = await create_meter(client, headers, name="Other", filter=named("other"))
        await ingest_ok(client, headers, [event(customer)])
        meter_ids = [uuid.UUID(meter["id"]), uuid.UUID(other["id"])]
        for _ in range(2):
            await service.open_subscription_meters(
                session, subscription=subscription, meter_ids=meter_ids
            )
        rows = await session.execute(
            select(SubscriptionMeter.meter_id, SubscriptionMeter.consumed_units)
            .where(SubscriptionMeter.subscription_id == subscription.id)
            .order_by(SubscriptionMeter.consumed_units)
        )
        assert sorted(rows.all()) == sorted([(meter_ids[0], 1), (meter_ids[1], 0)])

    async def test_close_gives_usage_and_starts_over(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(
            client, headers, aggregation={"func": "unique", "property": "user"}
        )
        subscription = await metered_subscription(
            session, customer=customer, meter_id=meter["id"], unit_amount=25, cap_amount=60
        )
        users = ["a", "b", "c", "a"]
        await ingest_ok(client, headers, [event(customer, metadata={"user": u}) for u in users])
        usage = await service.close_subscription_period(session, subscription=subscription)
        assert usage == [MeterUsage(meter_id=uuid.UUID(meter["id"]), consumed_units=3, amount=60)]
        assert tuple(await subscription_meter(session, subscription)) == (0, 0, 0)
        await ingest_ok(client, headers, [event(customer, metadata={"user": "a"})])
        assert tuple(await subscription_meter(session, subscription)) == (1, 0, 25)
        # The customer meter goes on: a and b and c, seen before.
        assert (await totals(client, headers))[0] == 3
        counters = await session.scalar(select(func.count()).select_from(MeterUniqueValue))
        assert counters == 4  # three for the customer meter, one for the new period

    async def test_close_without_meters(
        self, session: AsyncSession, customer: Customer, organization: Organization
    ) -> None:
        subscription = await create_subscription(session, customer=customer)
        assert await service.close_subscription_period(session, subscription=subscription) == []
