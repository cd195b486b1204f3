"""GET /v1/customers/{id}/state: the subscriptions it lists, with their meters, and how.

Contract sections 4.7 and 7.
"""

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import Customer, Organization
from tests.customers.state_support import T0, get_state, iso
from tests.factories import (
    create_benefit,
    create_benefit_grant,
    create_customer,
    create_customer_meter,
    create_meter,
    create_product,
    create_product_price,
    create_subscription,
    create_subscription_meter,
)

SUBSCRIPTION_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "custom_field_data",
    "metadata",
    "status",
    "amount",
    "currency",
    "recurring_interval",
    "current_period_start",
    "current_period_end",
    "trial_start",
    "trial_end",
    "cancel_at_period_end",
    "canceled_at",
    "started_at",
    "ends_at",
    "product_id",
    "discount_id",
    "seats",
    "units",
    "price_id",
    "meters",
]
SUBSCRIPTION_METER_KEYS = [
    "created_at",
    "modified_at",
    "id",
    "consumed_units",
    "credited_units",
    "amount",
    "meter_id",
]


class TestGetCustomerStateContents:
    async def test_valid_subscription(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        product = await create_product(session, organization=organization)
        subscription = await create_subscription(
            session,
            customer=customer,
            product=product,
            amount=1500,
            currency="eur",
            recurring_interval="year",
            current_period_start=T0,
            current_period_end=T0 + timedelta(days=365),
            started_at=T0,
            user_metadata={"plan": "pro", "seats": 3},
            custom_field_data={"company": "Acme", "size": 10, "ok": True, "none": None},
        )
        body = await get_state(client, customer, headers)
        [item] = body["active_subscriptions"]
        assert list(item) == SUBSCRIPTION_KEYS
        assert item == {
            "id": str(subscription.id),
            "created_at": iso(subscription.created_at),
            "modified_at": None,
            "custom_field_data": {"company": "Acme", "size": 10, "ok": True, "none": None},
            "metadata": {"plan": "pro", "seats": 3},
            "status": "active",
            "amount": 1500,
            "currency": "eur",
            "recurring_interval": "year",
            "current_period_start": "2025-09-01T10:00:00.123456Z",
            "current_period_end": iso(T0 + timedelta(days=365)),
            "trial_start": None,
            "trial_end": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "started_at": "2025-09-01T10:00:00.123456Z",
            "ends_at": None,
            "product_id": str(product.id),
            "discount_id": None,
            "seats": None,
            "units": None,
            "price_id": item["price_id"],
            "meters": [],
        }

    async def test_active_and_trialing_only(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
    ) -> None:
        included = []
        for status in ("incomplete", "incomplete_expired", "trialing", "active", "past_due"):
            subscription = await create_subscription(session, customer=customer, status=status)
            if status in ("active", "trialing"):
                included.append(str(subscription.id))
        for status in ("canceled", "unpaid"):
            await create_subscription(session, customer=customer, status=status)
        scheduled = await create_subscription(
            session, customer=customer, cancel_at_period_end=True, canceled_at=utc_now()
        )
        included.append(str(scheduled.id))
        body = await get_state(client, customer, headers)
        listed = {item["id"]: item["status"] for item in body["active_subscriptions"]}
        assert sorted(listed) == sorted(included)
        assert set(listed.values()) == {"active", "trialing"}

    async def test_deleted_subscription_excluded(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
    ) -> None:
        await create_subscription(session, customer=customer, deleted_at=utc_now())
        body = await get_state(client, customer, headers)
        assert body["active_subscriptions"] == []

    async def test_other_customer_excluded(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        other = await create_customer(session, organization=organization)
        await create_subscription(session, customer=other)
        meter = await create_meter(session, organization=organization)
        await create_customer_meter(session, customer=other, meter=meter)
        benefit = await create_benefit(session, organization=organization)
        await create_benefit_grant(session, customer=other, benefit=benefit)
        body = await get_state(client, customer, headers)
        assert body["active_subscriptions"] == body["granted_benefits"] == []
        assert body["active_meters"] == []

    async def test_price_id_is_first_price(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        product = await create_product(session, organization=organization)
        later = await create_product_price(session, product=product)
        first = await create_product_price(session, product=product)
        await create_subscription(
            session, customer=customer, product=product, prices=[first, later]
        )
        body = await get_state(client, customer, headers)
        assert body["active_subscriptions"][0]["price_id"] == str(first.id)

    async def test_subscription_meters_ordered(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        subscription = await create_subscription(session, customer=customer)
        meters = [await create_meter(session, organization=organization) for _ in range(3)]
        newest = await create_subscription_meter(
            session, subscription=subscription, meter=meters[0], created_at=T0 + timedelta(days=2)
        )
        oldest = await create_subscription_meter(
            session,
            subscription=subscription,
            meter=meters[1],
            consumed_units=25,
            credited_units=100,
            amount=250,
            created_at=T0,
        )
        await create_subscription_meter(
            session, subscription=subscription, meter=meters[2], deleted_at=utc_now()
        )
        response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
        item_meters = response.json()["active_subscriptions"][0]["meters"]
        assert [meter["id"] for meter in item_meters] == [str(oldest.id), str(newest.id)]
        assert list(item_meters[0]) == SUBSCRIPTION_METER_KEYS
        assert item_meters[0] == {
            "created_at": "2025-09-01T10:00:00.123456Z",
            "modified_at": None,
            "id": str(oldest.id),
            "consumed_units": 25.0,
            "credited_units": 100,
            "amount": 250,
            "meter_id": str(meters[1].id),
        }
        assert '"consumed_units":25.0,' in response.text
