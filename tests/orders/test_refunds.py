"""POST /v1/refunds/, GET /v1/refunds/"""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Customer, Order, Organization
from tests.factories import (
    bearer,
    create_order,
    create_organization,
    create_organization_token,
    create_product,
)
from tests.orders.conftest import Bill, Pay, get_order

REFUND_KEYS = [
    "created_at",
    "modified_at",
    "id",
    "metadata",
    "status",
    "reason",
    "amount",
    "tax_amount",
    "currency",
    "organization_id",
    "order_id",
    "subscription_id",
    "customer_id",
    "revoke_benefits",
]


@pytest.fixture
async def paid(bill: Bill, pay: Pay) -> Order:
    """A paid order of 1,000 cents of the subscription."""
    order = await bill(amounts=(1000,))
    assert (await pay(order)).status_code == 201
    return order


class TestCreateRefund:
    async def test_partial(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        refund: Pay,
        paid: Order,
        organization: Organization,
    ) -> None:
        response = await refund(
            paid, 300, reason="customer_request", comment="Asked nicely", metadata={"ticket": 7}
        )
        assert response.status_code == 201, response.text
        created = response.json()
        assert list(created) == REFUND_KEYS
        assert (created["status"], created["reason"], created["amount"]) == (
            "succeeded",
            "customer_request",
            300,
        )
        assert (created["tax_amount"], created["currency"], created["metadata"]) == (
            0,
            "usd",
            {"ticket": 7},
        )
        assert (created["order_id"], created["subscription_id"], created["customer_id"]) == (
            str(paid.id),
            str(paid.subscription_id),
            str(paid.customer_id),
        )
        assert (created["organization_id"], created["revoke_benefits"]) == (
            str(organization.id),
            False,
        )
        order = await get_order(client, headers, paid)
        assert (order["status"], order["paid"], order["refunded_amount"]) == (
            "partially_refunded",
            True,
            300,
        )

    async def test_in_full_after_a_partial_one(
        self, client: httpx.AsyncClient, headers: dict[str, str], refund: Pay, paid: Order
    ) -> None:
        assert (await refund(paid, 300)).status_code == 201
        assert (await refund(paid, 700)).status_code == 201
        order = await get_order(client, headers, paid)
        assert (order["status"], order["refunded_amount"]) == ("refunded", 1000)

    async def test_more_than_refundable(self, refund: Pay, paid: Order) -> None:
        await refund(paid, 600)
        response = await refund(paid, 401)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {
                "type": "value_error",
                "loc": ["body", "amount"],
                "msg": "Refund amount exceeds refundable amount",
                "input": 401,
            }
        ]

    async def test_already_refunded(self, refund: Pay, paid: Order) -> None:
        await refund(paid, 1000)
        response = await refund(paid, 1)
        assert response.status_code == 403
        assert response.json() == {
            "error": "RefundedAlready",
            "detail": f"Order is already fully refunded: {paid.id}",
        }

    async def test_pending_order(self, refund: Pay, bill: Bill) -> None:
        response = await refund(await bill(), 100)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "order_id"]
        assert response.json()["detail"][0]["msg"] == "Order is not paid"

    async def test_tax_follows(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
        organization: Organization,
        refund: Pay,
    ) -> None:
        product = await create_product(session, organization=organization)
        order = await create_order(
            session, customer=customer, product_id=product.id, subtotal_amount=1000, tax_amount=250
        )
        first = (await refund(order, 400)).json()
        rest = (await refund(order, 600)).json()
        assert (first["tax_amount"], rest["tax_amount"]) == (100, 150)
        document = await get_order(client, headers, order)
        assert (document["refunded_amount"], document["refunded_tax_amount"]) == (1000, 250)
        assert document["status"] == "refunded"

    async def test_revoke_benefits_of_a_subscription(self, refund: Pay, paid: Order) -> None:
        response = await refund(paid, 100, revoke_benefits=True)
        assert response.status_code == 400
        assert response.json() == {
            "error": "RevokeSubscriptionBenefitsProhibited",
            "detail": "Subscription benefits can only be revoked upon cancellation",
        }

    async def test_revoke_benefits_of_a_one_time_purchase(
        self, session: AsyncSession, customer: Customer, refund: Pay
    ) -> None:
        order = await create_order(session, customer=customer)
        response = await refund(order, 100, revoke_benefits=True)
        assert response.status_code == 201, response.text
        assert (response.json()["revoke_benefits"], response.json()["subscription_id"]) == (
            True,
            None,
        )

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("amount", 0),
            ("amount", -1),
            ("amount", "all"),
            ("reason", "dispute_prevention"),
            ("reason", "because"),
            ("comment", "c" * 10_001),
            ("metadata", {"k" * 41: "v"}),
            ("order_id", "nope"),
        ],
    )
    async def test_invalid(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        paid: Order,
        field: str,
        value: Any,
    ) -> None:
        body = {"order_id": str(paid.id), "amount": 100, "reason": "other", field: value}
        response = await client.post("/v1/refunds/", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][:2] == ["body", field]

    async def test_order_not_found(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = {"order_id": str(uuid.uuid4()), "amount": 1, "reason": "other"}
        response = await client.post("/v1/refunds/", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == "Order not found"

    async def test_other_organization_order(
        self, client: httpx.AsyncClient, session: AsyncSession, paid: Order
    ) -> None:
        other = await create_organization(session, name="Other")
        token = await create_organization_token(
            session, organization=other, scopes=[Scope.orders_write]
        )
        body = {"order_id": str(paid.id), "amount": 1, "reason": "other"}
        response = await client.post("/v1/refunds/", json=body, headers=bearer(token))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "order_id"]


class TestListRefunds:
    async def test_filters_and_sorting(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        refund: Pay,
        paid: Order,
        customer: Customer,
    ) -> None:
        small = (await refund(paid, 100)).json()
        large = (await refund(paid, 500)).json()
        one_time = await create_order(session, customer=customer)
        other = (await refund(one_time, 50)).json()

        async def listed(**params: Any) -> list[str]:
            response = await client.get("/v1/refunds/", params=params, headers=headers)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await listed() == [other["id"], large["id"], small["id"]]
        assert await listed(order_id=str(paid.id), sorting="amount") == [small["id"], large["id"]]
        assert await listed(subscription_id=str(paid.subscription_id), sorting="-amount") == [
            large["id"],
            small["id"],
        ]
        assert len(await listed(customer_id=str(customer.id))) == 3
        assert await listed(id=[small["id"], other["id"]], sorting="created_at") == [
            small["id"],
            other["id"],
        ]
        assert len(await listed(succeeded="true")) == 3
        assert await listed(succeeded="false") == []
        response = await client.get("/v1/refunds/", params={"limit": 1}, headers=headers)
        assert response.json()["pagination"] == {"total_count": 3, "max_page": 3}
        assert list(response.json()["items"][0]) == REFUND_KEYS

    async def test_other_organization_not_listed(
        self, client: httpx.AsyncClient, session: AsyncSession, refund: Pay, paid: Order
    ) -> None:
        await refund(paid, 100)
        other = await create_organization(session, name="Other")
        token = await create_organization_token(
            session, organization=other, scopes=[Scope.orders_read]
        )
        response = await client.get("/v1/refunds/", headers=bearer(token))
        assert response.json()["items"] == []
