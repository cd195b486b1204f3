"""POST /v1/payments/ (this server's extension), GET /v1/payments/, GET /v1/payments/{id}"""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Customer, Organization, Subscription
from tests.factories import (
    bearer,
    create_checkout,
    create_customer,
    create_order,
    create_organization,
    create_organization_token,
    create_payment,
)
from tests.orders.conftest import NOT_FOUND, Bill, Pay, get_order

PAYMENT_KEYS = [
    "created_at",
    "modified_at",
    "id",
    "processor",
    "status",
    "amount",
    "currency",
    "method",
    "decline_reason",
    "decline_message",
    "organization_id",
    "checkout_id",
    "order_id",
]


def error_locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


class TestCreatePayment:
    async def test_valid(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        bill: Bill,
        pay: Pay,
        organization: Organization,
    ) -> None:
        order = await bill(amounts=(1000, 250))
        response = await pay(order, processor="stripe", method="card")
        assert response.status_code == 201, response.text
        payment = response.json()
        assert list(payment) == PAYMENT_KEYS
        assert (payment["status"], payment["amount"], payment["currency"]) == (
            "succeeded",
            1250,
            "usd",
        )
        assert (payment["processor"], payment["method"]) == ("stripe", "card")
        assert (payment["order_id"], payment["organization_id"]) == (
            str(order.id),
            str(organization.id),
        )
        assert (payment["checkout_id"], payment["modified_at"]) == (None, None)
        document = await get_order(client, headers, order)
        assert (document["status"], document["paid"], document["due_amount"]) == (
            "paid",
            True,
            1250,
        )

    async def test_defaults(self, bill: Bill, pay: Pay) -> None:
        payment = (await pay(await bill())).json()
        assert (payment["processor"], payment["method"]) == ("manual", "other")
        assert (payment["decline_reason"], payment["decline_message"]) == (None, None)

    async def test_partial_payments(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill, pay: Pay
    ) -> None:
        order = await bill(amounts=(1000,))
        assert (await pay(order, amount=400)).status_code == 201
        assert (await get_order(client, headers, order))["status"] == "pending"
        rest = await pay(order)  # what remains: 600
        assert rest.json()["amount"] == 600
        assert (await get_order(client, headers, order))["status"] == "paid"

    async def test_currency_of_the_order(self, bill: Bill, pay: Pay) -> None:
        response = await pay(await bill(), currency="USD")
        assert response.status_code == 201, response.text
        assert response.json()["currency"] == "usd"

    async def test_other_currency(self, bill: Bill, pay: Pay) -> None:
        response = await pay(await bill(), currency="eur")
        assert error_locs(response) == [["body", "currency"]]
        assert response.json()["detail"][0]["msg"] == "Currency must be the order's currency, usd"

    async def test_more_than_remains(self, bill: Bill, pay: Pay) -> None:
        order = await bill(amounts=(1000,))
        await pay(order, amount=600)
        response = await pay(order, amount=401)
        assert error_locs(response) == [["body", "amount"]]
        assert response.json()["detail"][0]["input"] == 401

    @pytest.mark.parametrize("amount", [0, -5, 100_000_000, "ten", 1.5])
    async def test_invalid_amount(self, bill: Bill, pay: Pay, amount: Any) -> None:
        assert error_locs(await pay(await bill(), amount=amount)) == [["body", "amount"]]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("status", "pending"),
            ("status", "refunded"),
            ("currency", "dollars"),
            ("processor", ""),
            ("processor", "p" * 101),
            ("method", "a\x00b"),
            ("decline_message", "m" * 1001),
        ],
    )
    async def test_invalid_field(self, bill: Bill, pay: Pay, field: str, value: Any) -> None:
        order = await bill()
        body = {"status": "failed", field: value}
        assert error_locs(await pay(order, **body)) == [["body", field]]

    async def test_missing_fields(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.post("/v1/payments/", json={}, headers=headers)
        assert error_locs(response) == [["body", "order_id"], ["body", "status"]]

    async def test_decline_of_a_success(self, bill: Bill, pay: Pay) -> None:
        response = await pay(await bill(), decline_reason="insufficient_funds")
        assert error_locs(response) == [["body", "decline_reason"]]

    async def test_order_not_found(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = {"order_id": str(uuid.uuid4()), "status": "succeeded"}
        response = await client.post("/v1/payments/", json=body, headers=headers)
        assert error_locs(response) == [["body", "order_id"]]
        assert response.json()["detail"][0]["msg"] == "Order not found"

    async def test_other_organization_order(
        self, client: httpx.AsyncClient, session: AsyncSession, bill: Bill
    ) -> None:
        order = await bill()
        other = await create_organization(session, name="Other")
        token = await create_organization_token(
            session, organization=other, scopes=[Scope.orders_write]
        )
        body = {"order_id": str(order.id), "status": "succeeded"}
        response = await client.post("/v1/payments/", json=body, headers=bearer(token))
        assert error_locs(response) == [["body", "order_id"]]

    async def test_paid_order(self, bill: Bill, pay: Pay) -> None:
        order = await bill()
        await pay(order)
        response = await pay(order, amount=1)
        assert response.status_code == 403
        assert response.json() == {
            "error": "OrderAlreadyPaid",
            "detail": f"Order is already paid: {order.id}",
        }

    async def test_free_order_is_paid(self, bill: Bill, pay: Pay) -> None:
        assert (await pay(await bill(amounts=(0,)))).status_code == 403

    async def test_refunded_order(self, bill: Bill, pay: Pay, refund: Pay) -> None:
        order = await bill()
        await pay(order)
        assert (await refund(order, 1000)).status_code == 201
        response = await pay(order, status="failed", amount=10)
        assert response.status_code == 403
        assert response.json() == {
            "error": "OrderAlreadyPaid",
            "detail": f"Order is refunded: {order.id}",
        }


class TestFailedPayments:
    async def test_failed_leaves_the_order_pending(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill, pay: Pay
    ) -> None:
        order = await bill()
        response = await pay(
            order,
            status="failed",
            decline_reason="insufficient_funds",
            decline_message="Your card has insufficient funds.",
        )
        assert response.status_code == 201, response.text
        payment = response.json()
        assert (payment["status"], payment["amount"]) == ("failed", 1000)
        assert payment["decline_reason"] == "insufficient_funds"
        assert (await get_order(client, headers, order))["status"] == "pending"

    async def test_failed_makes_the_subscription_past_due(
        self,
        session: AsyncSession,
        bill: Bill,
        pay: Pay,
        subscription: Subscription,
    ) -> None:
        order = await bill()
        await pay(order, status="failed")
        await session.refresh(subscription)
        assert subscription.status == "past_due"

    async def test_later_success_makes_it_active_again(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        bill: Bill,
        pay: Pay,
        subscription: Subscription,
    ) -> None:
        order = await bill()
        await pay(order, status="failed")
        await pay(order, status="failed")
        assert (await pay(order, amount=500)).status_code == 201
        await session.refresh(subscription)
        assert subscription.status == "past_due"  # not paid yet
        assert (await pay(order)).status_code == 201
        await session.refresh(subscription)
        assert subscription.status == "active"
        assert (await get_order(client, headers, order))["status"] == "paid"

    async def test_success_without_failure_leaves_the_subscription(
        self,
        session: AsyncSession,
        bill: Bill,
        pay: Pay,
        subscription: Subscription,
    ) -> None:
        subscription.status = "past_due"  # past due for another reason
        await session.flush()
        await pay(await bill())
        await session.refresh(subscription)
        assert subscription.status == "past_due"

    async def test_failed_payment_of_an_order_without_subscription(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
        pay: Pay,
    ) -> None:
        order = await create_order(session, customer=customer, status="pending")
        assert (await pay(order, status="failed")).status_code == 201
        assert (await pay(order)).status_code == 201
        assert (await get_order(client, headers, order))["status"] == "paid"


class TestListPayments:
    async def test_filters(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        bill: Bill,
        pay: Pay,
        organization: Organization,
        customer: Customer,
    ) -> None:
        first, second = await bill(period=0), await bill(period=1)
        failed = (await pay(first, status="failed", method="card", amount=400)).json()
        paid = (await pay(first, method="card")).json()
        other = (await pay(second, amount=10)).json()
        someone = await create_customer(session, organization=organization)
        checkout = await create_checkout(session, organization=organization, customer=someone)
        by_checkout = await create_payment(
            session, organization=organization, checkout=checkout, amount=5
        )

        async def listed(**params: Any) -> list[str]:
            response = await client.get("/v1/payments/", params=params, headers=headers)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert await listed(order_id=str(first.id), sorting="created_at") == [
            failed["id"],
            paid["id"],
        ]
        assert set(await listed(customer_id=str(customer.id))) == {
            failed["id"],
            paid["id"],
            other["id"],
        }
        assert await listed(customer_id=str(someone.id)) == [str(by_checkout.id)]
        assert await listed(checkout_id=str(checkout.id)) == [str(by_checkout.id)]
        assert await listed(status="failed") == [failed["id"]]
        assert set(await listed(method="card")) == {failed["id"], paid["id"]}
        assert await listed(sorting="-amount", limit=1) == [paid["id"]]

    async def test_other_organization_not_listed(
        self, client: httpx.AsyncClient, session: AsyncSession, bill: Bill, pay: Pay
    ) -> None:
        await pay(await bill())
        other = await create_organization(session, name="Other")
        token = await create_organization_token(
            session, organization=other, scopes=[Scope.orders_read]
        )
        response = await client.get("/v1/payments/", headers=bearer(token))
        assert response.json() == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}


class TestGetPayment:
    async def test_valid(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill, pay: Pay
    ) -> None:
        created = (await pay(await bill())).json()
        response = await client.get(f"/v1/payments/{created['id']}", headers=headers)
        assert (response.status_code, response.json()) == (200, created)

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(f"/v1/payments/{uuid.uuid4()}", headers=headers)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    async def test_other_organization(
        self, client: httpx.AsyncClient, session: AsyncSession, bill: Bill, pay: Pay
    ) -> None:
        created = (await pay(await bill())).json()
        other = await create_organization(session, name="Other")
        token = await create_organization_token(
            session, organization=other, scopes=[Scope.orders_read]
        )
        response = await client.get(f"/v1/payments/{created['id']}", headers=bearer(token))
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
