"""GET /v1/customers/{id}/balance"""

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import Customer, Organization
from tests.factories import (
    create_checkout,
    create_customer,
    create_order,
    create_payment,
)

NOT_FOUND = {"error": "ResourceNotFound", "detail": "Not found"}


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(session, organization=organization)


async def get_balance(
    client: httpx.AsyncClient, customer: Customer, headers: dict[str, str]
) -> httpx.Response:
    response = await client.get(f"/v1/customers/{customer.id}/balance", headers=headers)
    assert response.status_code == 200, response.text
    return response


class TestGetCustomerBalance:
    async def test_valid_empty(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await get_balance(client, customer, headers)
        assert response.content == b'{"balance":0,"currency":"USD"}'

    async def test_orders_and_their_payments(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        # Total 1000 - 100 + 200 = 1100, of which 1000 paid: the customer owes 100.
        paid = await create_order(
            session, customer=customer, subtotal_amount=1000, discount_amount=100, tax_amount=200
        )
        await create_payment(session, organization=organization, order=paid, amount=1000)
        await create_payment(
            session, organization=organization, order=paid, amount=500, status="failed"
        )
        await create_payment(
            session, organization=organization, order=paid, amount=500, status="pending"
        )
        assert (await get_balance(client, customer, headers)).json()["balance"] == -100

    async def test_partially_refunded_order(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        # Refunds count in both sums, so they cancel out: paid - total = 2200 - 2200.
        order = await create_order(
            session,
            customer=customer,
            status="partially_refunded",
            subtotal_amount=2000,
            tax_amount=200,
            refunded_amount=500,
            refunded_tax_amount=50,
        )
        await create_payment(session, organization=organization, order=order, amount=2200)
        assert (await get_balance(client, customer, headers)).json()["balance"] == 0

    @pytest.mark.parametrize("status", ["pending", "refunded"])
    async def test_uncounted_order_status(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
        status: str,
    ) -> None:
        order = await create_order(session, customer=customer, status=status)
        await create_payment(session, organization=organization, order=order, amount=1000)
        assert (await get_balance(client, customer, headers)).json()["balance"] == 0

    async def test_deleted_order(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        order = await create_order(session, customer=customer, deleted_at=utc_now())
        await create_payment(session, organization=organization, order=order, amount=700)
        assert (await get_balance(client, customer, headers)).json()["balance"] == 0

    async def test_refunded_order_paid_through_checkout(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        """The refunded order leaves the sums, its payment does not (docs/decisions.md#d9)."""
        checkout = await create_checkout(session, organization=organization, customer=customer)
        order = await create_order(
            session,
            customer=customer,
            status="refunded",
            checkout=checkout,
            refunded_amount=1000,
        )
        await create_payment(
            session, organization=organization, order=order, checkout=checkout, amount=1000
        )
        assert (await get_balance(client, customer, headers)).json()["balance"] == 1000

    async def test_payment_counted_once_through_order_and_checkout(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        checkout = await create_checkout(session, organization=organization, customer=customer)
        order = await create_order(
            session, customer=customer, checkout=checkout, subtotal_amount=1000
        )
        await create_payment(
            session, organization=organization, order=order, checkout=checkout, amount=1000
        )
        assert (await get_balance(client, customer, headers)).json()["balance"] == 0

    async def test_checkout_payment_without_order(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        checkout = await create_checkout(session, organization=organization, customer=customer)
        await create_payment(session, organization=organization, checkout=checkout, amount=300)
        deleted = await create_checkout(session, organization=organization, customer=customer)
        deleted.deleted_at = utc_now()
        await create_payment(session, organization=organization, checkout=deleted, amount=50)
        anonymous = await create_checkout(session, organization=organization)
        await create_payment(session, organization=organization, checkout=anonymous, amount=70)
        assert (await get_balance(client, customer, headers)).json()["balance"] == 300

    async def test_other_customer_not_counted(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        other = await create_customer(session, organization=organization)
        order = await create_order(session, customer=other)
        await create_payment(session, organization=organization, order=order, amount=400)
        checkout = await create_checkout(session, organization=organization, customer=other)
        await create_payment(session, organization=organization, checkout=checkout, amount=400)
        assert (await get_balance(client, customer, headers)).json()["balance"] == 0

    async def test_other_currencies_ignored(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        await create_order(session, customer=customer, subtotal_amount=900, currency="eur")
        checkout = await create_checkout(session, organization=organization, customer=customer)
        await create_payment(
            session, organization=organization, checkout=checkout, amount=800, currency="eur"
        )
        await create_payment(session, organization=organization, checkout=checkout, amount=25)
        response = await get_balance(client, customer, headers)
        assert response.json() == {"balance": 25, "currency": "USD"}

    async def test_organization_default_currency(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        organization.default_currency = "eur"
        await session.flush()
        await create_order(session, customer=customer, subtotal_amount=900, currency="eur")
        await create_order(session, customer=customer, subtotal_amount=5000, currency="usd")
        response = await get_balance(client, customer, headers)
        assert response.json() == {"balance": -900, "currency": "EUR"}

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(f"/v1/customers/{uuid.uuid4()}/balance", headers=headers)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    async def test_deleted(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=organization, deleted_at=utc_now())
        response = await client.get(f"/v1/customers/{customer.id}/balance", headers=headers)
        assert response.status_code == 404

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=other_organization)
        response = await client.get(f"/v1/customers/{customer.id}/balance", headers=headers)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    async def test_invalid_id(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get("/v1/customers/abc/balance", headers=headers)
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert (error["type"], error["loc"]) == ("uuid_parsing", ["path", "id"])

    async def test_no_external_id_variant(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get("/v1/customers/external/usr_1/balance", headers=headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}
