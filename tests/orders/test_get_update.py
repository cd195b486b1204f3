"""GET /v1/orders/{id}, PATCH /v1/orders/{id}"""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import (
    Customer,
    OrderBillingReason,
    Organization,
    Subscription,
)
from tests.factories import (
    CUSTOMER_KEYS,
    bearer,
    create_order,
    create_organization,
    create_organization_token,
    create_product,
)
from tests.orders.conftest import (
    NOT_FOUND,
    Bill,
    get_order,
)
from tests.orders.shapes import ITEM_KEYS, ORDER_KEYS, PRODUCT_KEYS, SUBSCRIPTION_KEYS


class TestGetOrder:
    async def test_valid(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        bill: Bill,
        subscription: Subscription,
        customer: Customer,
    ) -> None:
        order = await bill(amounts=(1000, 250))
        document = await get_order(client, headers, order)
        assert list(document) == ORDER_KEYS
        assert document["id"] == str(order.id)
        assert (document["status"], document["paid"]) == ("pending", False)
        assert (document["subtotal_amount"], document["net_amount"]) == (1250, 1250)
        assert (document["total_amount"], document["due_amount"]) == (1250, 1250)
        assert (document["applied_balance_amount"], document["discount_amount"]) == (0, 0)
        assert (document["refunded_amount"], document["refunded_tax_amount"]) == (0, 0)
        assert (document["currency"], document["billing_reason"]) == ("usd", "subscription_create")
        assert document["invoice_number"] == order.invoice_number
        assert document["is_invoice_generated"] is False
        assert document["customer_id"] == document["user_id"] == str(customer.id)
        assert document["product_id"] == str(subscription.product_id)
        assert document["subscription_id"] == str(subscription.id)
        assert (document["discount_id"], document["discount"], document["checkout_id"]) == (
            None,
            None,
            None,
        )
        assert (document["metadata"], document["custom_field_data"]) == ({}, {})

    async def test_embedded_rows(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        bill: Bill,
        subscription: Subscription,
        customer: Customer,
    ) -> None:
        document = await get_order(client, headers, await bill(amounts=(1000, 250)))
        assert list(document["customer"]) == CUSTOMER_KEYS
        assert (document["customer"]["id"], document["customer"]["email"]) == (
            str(customer.id),
            "jane@example.com",
        )
        product = document["product"]
        assert list(product) == PRODUCT_KEYS
        assert (product["name"], product["is_recurring"], product["recurring_interval"]) == (
            "Pro",
            True,
            "month",
        )
        assert list(document["subscription"]) == SUBSCRIPTION_KEYS
        assert (document["subscription"]["id"], document["subscription"]["status"]) == (
            str(subscription.id),
            "active",
        )
        assert [list(item) for item in document["items"]] == [ITEM_KEYS, ITEM_KEYS]
        assert [(item["label"], item["amount"]) for item in document["items"]] == [
            ("Line 0", 1000),
            ("Line 1", 250),
        ]

    async def test_computed_amounts(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
        organization: Organization,
    ) -> None:
        product = await create_product(session, organization=organization, name="Book")
        order = await create_order(
            session,
            customer=customer,
            product_id=product.id,
            subtotal_amount=1000,
            discount_amount=100,
            tax_amount=180,
            status="partially_refunded",
            refunded_amount=300,
            refunded_tax_amount=60,
        )
        document = await get_order(client, headers, order)
        assert document["net_amount"] == 900
        assert (document["total_amount"], document["due_amount"]) == (1080, 1080)
        assert (document["paid"], document["subscription"]) == (True, None)
        assert document["product"]["is_recurring"] is False
        assert document["billing_reason"] == "purchase"
        # Made without an invoice number (not by this server's order service).
        assert document["invoice_number"] == str(order.id)

    async def test_deleted_customer_still_shown(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        bill: Bill,
        customer: Customer,
        session: AsyncSession,
    ) -> None:
        order = await bill()
        customer.deleted_at = order.created_at
        await session.flush()
        document = await get_order(client, headers, order)
        assert document["customer"]["deleted_at"] is not None

    async def test_order_without_product(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
    ) -> None:
        order = await create_order(session, customer=customer)
        document = await get_order(client, headers, order)
        assert (document["product_id"], document["product"], document["items"]) == (None, None, [])

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(f"/v1/orders/{uuid.uuid4()}", headers=headers)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    async def test_invalid_id(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get("/v1/orders/nope", headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["path", "id"]

    async def test_other_organization(
        self, client: httpx.AsyncClient, session: AsyncSession, bill: Bill
    ) -> None:
        order = await bill()
        other = await create_organization(session, name="Other")
        token = await create_organization_token(
            session, organization=other, scopes=[Scope.orders_read]
        )
        response = await client.get(f"/v1/orders/{order.id}", headers=bearer(token))
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    async def test_soft_deleted(
        self, client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str], bill: Bill
    ) -> None:
        order = await bill()
        order.deleted_at = order.created_at
        await session.flush()
        response = await client.get(f"/v1/orders/{order.id}", headers=headers)
        assert response.status_code == 404


class TestUpdateOrder:
    async def test_valid(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        order = await bill()
        body = {
            "billing_name": "Jane Inc.",
            "billing_address": {"country": "us", "state": "NY", "city": "New York"},
        }
        response = await client.patch(f"/v1/orders/{order.id}", json=body, headers=headers)
        assert response.status_code == 200, response.text
        document = response.json()
        assert list(document) == ORDER_KEYS
        assert document["billing_name"] == "Jane Inc."
        assert document["billing_address"] == {
            "line1": None,
            "line2": None,
            "postal_code": None,
            "city": "New York",
            "state": "US-NY",
            "country": "US",
        }
        assert document["modified_at"] is not None
        assert (await get_order(client, headers, order))["billing_name"] == "Jane Inc."

    async def test_clear(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        order = await bill()
        body = {"billing_name": None, "billing_address": None}
        response = await client.patch(f"/v1/orders/{order.id}", json=body, headers=headers)
        assert response.status_code == 200, response.text
        assert (response.json()["billing_name"], response.json()["billing_address"]) == (
            None,
            None,
        )

    async def test_fields_are_required(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        order = await bill()
        response = await client.patch(f"/v1/orders/{order.id}", json={}, headers=headers)
        assert response.status_code == 422
        assert [error["loc"] for error in response.json()["detail"]] == [
            ["body", "billing_name"],
            ["body", "billing_address"],
        ]

    @pytest.mark.parametrize(
        "body",
        [
            {"billing_name": "x" * 257, "billing_address": None},
            {"billing_name": "a\x00b", "billing_address": None},
            {"billing_name": None, "billing_address": {"country": "XX"}},
            {"billing_name": None, "billing_address": {"country": "US", "state": "ZZ"}},
            {"billing_name": None, "billing_address": "Paris"},
        ],
    )
    async def test_invalid(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill, body: Any
    ) -> None:
        order = await bill()
        response = await client.patch(f"/v1/orders/{order.id}", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"] == "RequestValidationError"

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        body = {"billing_name": None, "billing_address": None}
        response = await client.patch(f"/v1/orders/{uuid.uuid4()}", json=body, headers=headers)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    async def test_other_organization(
        self, client: httpx.AsyncClient, session: AsyncSession, bill: Bill
    ) -> None:
        order = await bill()
        other = await create_organization(session, name="Other")
        token = await create_organization_token(
            session, organization=other, scopes=[Scope.orders_write]
        )
        body = {"billing_name": "Mallory", "billing_address": None}
        response = await client.patch(f"/v1/orders/{order.id}", json=body, headers=bearer(token))
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


class TestVersions:
    async def test_today_clients_get_the_same_shape(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        order = await bill(reason=OrderBillingReason.subscription_cycle)
        response = await client.get(
            f"/v1/orders/{order.id}", headers={**headers, "Polar-Version": "2026-04"}
        )
        assert list(response.json()) == ORDER_KEYS
        assert response.json()["billing_reason"] == "subscription_cycle"
