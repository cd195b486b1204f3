"""The customer balance (`GET /v1/customers/{id}/balance`) of orders made by subscriptions and
paid and refunded only through the API: succeeded payments of paid and partially refunded
orders, less those orders' totals (docs/decisions.md#d9)."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Organization
from tests.factories import create_checkout, create_payment
from tests.orders.conftest import Bill, Pay, get_order


async def balance(client: httpx.AsyncClient, headers: dict[str, str], customer: Customer) -> int:
    response = await client.get(f"/v1/customers/{customer.id}/balance", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["currency"] == "USD"
    amount: int = response.json()["balance"]
    return amount


class TestBalanceThroughTheApi:
    async def test_unpaid_order_is_not_counted(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer, bill: Bill
    ) -> None:
        await bill(amounts=(1000,))
        assert await balance(client, headers, customer) == 0

    async def test_paid_in_full(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        bill: Bill,
        pay: Pay,
    ) -> None:
        order = await bill(amounts=(1000, 250))
        assert (await pay(order)).status_code == 201
        assert await balance(client, headers, customer) == 0

    async def test_paid_in_parts(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        bill: Bill,
        pay: Pay,
    ) -> None:
        order = await bill(amounts=(1000,))
        await pay(order, amount=300)
        assert await balance(client, headers, customer) == 0  # still pending: not counted
        await pay(order)
        assert await balance(client, headers, customer) == 0  # 300 + 700 paid of 1000

    async def test_failed_payment(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        bill: Bill,
        pay: Pay,
    ) -> None:
        order = await bill(amounts=(1000,))
        assert (await pay(order, status="failed")).status_code == 201
        assert (await get_order(client, headers, order))["status"] == "pending"
        assert await balance(client, headers, customer) == 0

    async def test_failed_then_paid(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        bill: Bill,
        pay: Pay,
    ) -> None:
        order = await bill(amounts=(1000,))
        await pay(order, status="failed")
        await pay(order)
        # The failed attempt is not counted: 1000 paid of 1000.
        assert await balance(client, headers, customer) == 0

    async def test_partial_refund(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        bill: Bill,
        pay: Pay,
        refund: Pay,
    ) -> None:
        order = await bill(amounts=(1000,))
        await pay(order)
        assert (await refund(order, 300)).status_code == 201
        # paid 1000 - orders (1000 - 300) - refunded 300 = 0
        assert await balance(client, headers, customer) == 0

    async def test_full_refund_excludes_the_order(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        bill: Bill,
        pay: Pay,
        refund: Pay,
    ) -> None:
        refunded = await bill(amounts=(1000,), period=0)
        await pay(refunded)
        await refund(refunded, 1000)
        # The refunded order and its payment leave both sums (either way they cancel out);
        # the pending order is not in them.
        await bill(amounts=(500,), period=1)
        assert await balance(client, headers, customer) == 0

    async def test_checkout_payment_of_a_refunded_order_still_counts(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
        bill: Bill,
        pay: Pay,
        refund: Pay,
    ) -> None:
        """The contract's quirk: a checkout's payment counts whatever its order became."""
        order = await bill(amounts=(1000,))
        await pay(order)
        await refund(order, 1000)
        checkout = await create_checkout(session, organization=organization, customer=customer)
        await create_payment(session, organization=organization, checkout=checkout, amount=1000)
        assert await balance(client, headers, customer) == 1000

    async def test_several_orders(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
        organization: Organization,
        bill: Bill,
        pay: Pay,
        refund: Pay,
    ) -> None:
        first = await bill(amounts=(1000,), period=0)
        second = await bill(amounts=(2000,), period=1)
        await pay(first)
        await pay(second)
        await refund(second, 500)
        # An order paid without this API (a checkout's payment seeded directly) is counted too.
        checkout = await create_checkout(session, organization=organization, customer=customer)
        await create_payment(session, organization=organization, checkout=checkout, amount=250)
        assert await balance(client, headers, customer) == 250
