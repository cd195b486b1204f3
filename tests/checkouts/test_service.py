"""`checkouts.service.complete_purchase`: a one-time purchase, its order and the payment the
checkout collected, and what the customer balance makes of them."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.auth.scopes import GRANTABLE_SCOPES
from polar_customers.checkouts import service
from polar_customers.errors import PolarRequestValidationError, ResourceNotFound
from polar_customers.kit.time import utc_now
from polar_customers.models import Customer, Organization
from polar_customers.products import service as products_service
from polar_customers.products.schemas import ProductCreate
from tests.factories import (
    bearer,
    create_customer,
    create_organization,
    create_organization_token,
)
from tests.orders.conftest import principal_of


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
def principal(organization: Organization) -> Principal:
    return principal_of(organization)


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(session, organization=organization, name="Jane")


async def product(session: AsyncSession, principal: Principal, **body: Any) -> Any:
    document = {"name": "Workshop", "prices": [{"amount_type": "fixed", "price_amount": 4900}]}
    create = ProductCreate.model_validate({**document, **body}).root
    full = await products_service.create_product(session, principal, create=create)
    return full.product["id"]


class TestCompletePurchase:
    async def test_paid_by_the_checkout(
        self, session: AsyncSession, principal: Principal, customer: Customer
    ) -> None:
        product_id = await product(session, principal)
        purchase = await service.complete_purchase(
            session, principal, customer_id=customer.id, product_id=product_id, now=utc_now()
        )
        assert purchase.checkout.customer_id == customer.id
        order = purchase.order
        assert (order.status, order.billing_reason, order.subtotal_amount) == (
            "paid",
            "purchase",
            4900,
        )
        assert order.checkout_id == purchase.checkout.id
        assert order.invoice_number is not None
        assert purchase.payment is not None
        payment = purchase.payment
        assert (payment["amount"], payment["status"]) == (4900, "succeeded")
        assert (payment["order_id"], payment["checkout_id"]) == (order.id, purchase.checkout.id)

    async def test_free_product(
        self, session: AsyncSession, principal: Principal, customer: Customer
    ) -> None:
        product_id = await product(session, principal, prices=[{"amount_type": "free"}])
        purchase = await service.complete_purchase(
            session, principal, customer_id=customer.id, product_id=product_id, now=utc_now()
        )
        assert purchase.order.status == "paid"
        assert purchase.payment is None

    async def test_recurring_product(
        self, session: AsyncSession, principal: Principal, customer: Customer
    ) -> None:
        product_id = await product(session, principal, recurring_interval="month")
        with pytest.raises(PolarRequestValidationError) as raised:
            await service.complete_purchase(
                session, principal, customer_id=customer.id, product_id=product_id, now=utc_now()
            )
        assert raised.value.detail[0]["msg"] == service.NOT_ONE_TIME

    async def test_customer_of_another_organization(
        self, session: AsyncSession, principal: Principal
    ) -> None:
        other = await create_customer(session, organization=await create_organization(session))
        product_id = await product(session, principal)
        with pytest.raises(ResourceNotFound):
            await service.complete_purchase(
                session, principal, customer_id=other.id, product_id=product_id, now=utc_now()
            )


class TestBalance:
    async def test_refunded_purchase_leaves_a_credit(
        self,
        session: AsyncSession,
        client: httpx.AsyncClient,
        organization: Organization,
        principal: Principal,
        customer: Customer,
    ) -> None:
        """Contract §8: a checkout's payment counts whatever its order became."""
        headers = bearer(
            await create_organization_token(
                session, organization=organization, scopes=GRANTABLE_SCOPES
            )
        )
        product_id = await product(session, principal)
        purchase = await service.complete_purchase(
            session, principal, customer_id=customer.id, product_id=product_id, now=utc_now()
        )
        balance_path = f"/v1/customers/{customer.id}/balance"
        assert (await client.get(balance_path, headers=headers)).json()["balance"] == 0
        refund = {"order_id": str(purchase.order.id), "amount": 4900, "reason": "other"}
        response = await client.post("/v1/refunds/", json=refund, headers=headers)
        assert response.status_code == 201, response.text
        assert (await client.get(balance_path, headers=headers)).json()["balance"] == 4900
