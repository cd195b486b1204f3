"""From a fresh organization, through HTTP only (the official client `polar-sdk==0.27.1`
where it has the operation, raw HTTP for this server's extensions): a meter, benefits, a
product, a customer, a subscription, usage, payments; state and balance show all of it;
scheduler processes renew the subscription on their own (two at once, one order per
period); deleting the customer cancels and revokes."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from polar_sdk import Polar, models
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.kit.time import TEST_CLOCK_OFFSET
from tests.server.support import ALL_SCOPES, Tenant, new_tenant, server_env

pytestmark = pytest.mark.server

DAYS_32 = str(32 * 24 * 3600)


@pytest.fixture
async def billing_tenant(
    seed_sessions: async_sessionmaker[AsyncSession], live_server: str
) -> Tenant:
    return await new_tenant(seed_sessions, "Billing", ALL_SCOPES)


def _scheduler_pass(database_url: str, directory: Path) -> "subprocess.Popen[str]":
    """`polar-customers scheduler --once` in its own process, its clock 32 days ahead."""
    env = server_env(database_url, **{TEST_CLOCK_OFFSET: DAYS_32})
    return subprocess.Popen(
        [sys.executable, "-m", "polar_customers", "scheduler", "--once"],
        cwd=directory,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _items(page: Any) -> list[Any]:
    assert page is not None
    return list(page.result.items)


async def test_billing_through_the_api(
    billing_tenant: Tenant, live_server: str, database_url: str, tmp_path: Path
) -> None:
    polar = Polar(access_token=billing_tenant.token, server_url=live_server)
    raw = httpx.AsyncClient(
        base_url=live_server, headers={"Authorization": f"Bearer {billing_tenant.token}"}
    )

    async def post(path: str, body: dict[str, Any], status: int = 201) -> Any:
        response = await raw.post(path, json=body)
        assert response.status_code == status, response.text
        return response.json()

    meter = polar.meters.create(
        request=models.MeterCreate(
            name="API calls",
            filter_=models.Filter(
                conjunction=models.FilterConjunction.AND,
                clauses=[
                    models.FilterClause(
                        property="name", operator=models.FilterOperator.EQ, value="api_call"
                    )
                ],
            ),
            aggregation=models.CountAggregation(),
        )
    )
    credits = polar.benefits.create(
        request={
            "type": "meter_credit",
            "description": "1,000 API calls",
            "properties": {"units": 1000, "rollover": False, "meter_id": meter.id},
        }
    )
    license_keys = polar.benefits.create(
        request={"type": "license_keys", "description": "License", "properties": {}}
    )
    product = polar.products.create(
        request={
            "name": "Pro",
            "recurring_interval": "month",
            "prices": [{"amount_type": "fixed", "price_amount": 2900}],
        }
    )
    product = polar.products.update_benefits(
        id=product.id, product_benefits_update={"benefits": [credits.id, license_keys.id]}
    )
    assert [benefit.id for benefit in product.benefits] == [credits.id, license_keys.id]
    customer = polar.customers.create(
        request={"email": "grace@example.com", "name": "Grace", "external_id": "grace"}
    )

    # The extension: a paid subscription without a checkout.
    created = await post(
        "/v1/subscriptions/", {"product_id": product.id, "external_customer_id": "grace"}
    )
    subscription = polar.subscriptions.get(id=created["id"])
    assert (subscription.status, subscription.amount) == ("active", 2900)

    events: list[models.EventsModel] = [
        models.EventCreateExternalCustomer(name="api_call", external_customer_id="grace")
    ] * 250
    events += [models.EventCreateCustomer(name="page_view", customer_id=customer.id)] * 10
    ingested = polar.events.ingest(request=models.EventsIngest(events=events))
    assert ingested.inserted == 260

    state = polar.customers.get_state(id=customer.id)
    assert [s.id for s in state.active_subscriptions] == [subscription.id]
    assert {grant.benefit_id for grant in state.granted_benefits} == {credits.id, license_keys.id}
    [customer_meter] = state.active_meters
    assert (customer_meter.consumed_units, customer_meter.credited_units) == (250, 1000)
    assert customer_meter.balance == 750
    listed = _items(polar.customer_meters.list(customer_id=customer.id))
    assert [item.id for item in listed] == [customer_meter.id]

    # The first period's order is pending until its payment is recorded.
    orders = _items(polar.orders.list(customer_id=customer.id))
    assert [(order.status, order.total_amount) for order in orders] == [("pending", 2900)]
    assert polar.customers.get_balance(id=customer.id).balance == 0
    await post("/v1/payments/", {"order_id": orders[0].id, "amount": 2900, "status": "succeeded"})
    assert polar.orders.get(id=orders[0].id).status == "paid"
    assert polar.customers.get_balance(id=customer.id).balance == 0
    # The 0.27.1 client reads Polar's 201 of a refund as None; the list shows it.
    polar.refunds.create(
        request=models.RefundCreate(
            order_id=orders[0].id, reason=models.RefundReason.CUSTOMER_REQUEST, amount=900
        )
    )
    [refund] = _items(polar.refunds.list(order_id=orders[0].id))
    assert refund.amount == 900
    assert polar.orders.get(id=orders[0].id).status == "partially_refunded"
    # Paid 2,900 for an order of 2,900, 900 of it refunded: the contract's formula.
    balance = polar.customers.get_balance(id=customer.id)
    assert (balance.balance, balance.currency) == (0, "USD")

    # Two scheduler processes at once, 32 days on: one renewal, one new order.
    passes = [_scheduler_pass(database_url, tmp_path) for _ in range(2)]
    outputs = await asyncio.gather(*(asyncio.to_thread(p.communicate, timeout=120) for p in passes))
    assert [p.returncode for p in passes] == [0, 0], outputs
    renewed = polar.subscriptions.get(id=subscription.id)
    assert renewed.current_period_start == subscription.current_period_end
    orders = _items(
        polar.orders.list(customer_id=customer.id, sorting=[models.OrderSortProperty.CREATED_AT])
    )
    assert [order.billing_reason for order in orders] == [
        "subscription_create",
        "subscription_cycle",
    ]

    # Deleting the customer cancels the subscription and revokes its benefits.
    polar.customers.delete(id=customer.id)
    assert polar.subscriptions.get(id=subscription.id).status == "canceled"
    grants = _items(polar.benefit_grants.list(customer_id=customer.id))
    assert grants
    assert not any(grant.is_granted for grant in grants)
    await raw.aclose()
    assert os.environ.get(TEST_CLOCK_OFFSET) is None
