"""GET /v1/orders/"""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.raw_sql import RawConnection, RawQuery
from polar_customers.models import (
    Customer,
    Order,
    Organization,
    Subscription,
)
from tests.factories import (
    create_checkout,
    create_customer,
    create_order,
    create_organization,
    create_product,
    create_subscription,
)
from tests.orders.conftest import (
    Bill,
    bill_subscription,
    recurring_product,
)
from tests.orders.shapes import ORDER_KEYS


async def list_orders(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get("/v1/orders/", params=params, headers=headers)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def ids(document: dict[str, Any]) -> list[str]:
    return [item["id"] for item in document["items"]]


class TestListOrders:
    async def test_empty(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        document = await list_orders(client, headers)
        assert document == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}

    async def test_newest_first(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        orders = [await bill(period=period) for period in range(3)]
        document = await list_orders(client, headers)
        assert ids(document) == [str(order.id) for order in reversed(orders)]
        assert list(document["items"][0]) == ORDER_KEYS
        assert document["pagination"] == {"total_count": 3, "max_page": 1}

    async def test_pagination(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        orders = [await bill(period=period) for period in range(5)]
        first = await list_orders(client, headers, limit=2, sorting="created_at")
        third = await list_orders(client, headers, limit=2, page=3, sorting="created_at")
        assert ids(first) == [str(order.id) for order in orders[:2]]
        assert ids(third) == [str(orders[4].id)]
        assert first["pagination"] == third["pagination"] == {"total_count": 5, "max_page": 3}

    async def test_page_past_the_end(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        await bill()
        document = await list_orders(client, headers, page=5)
        assert document == {"items": [], "pagination": {"total_count": 1, "max_page": 1}}

    async def test_other_organization_not_listed(
        self, client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str]
    ) -> None:
        other = await create_organization(session, name="Other")
        customer = await create_customer(session, organization=other)
        product = await recurring_product(session, other)
        subscription = await create_subscription(session, customer=customer, product=product)
        await bill_subscription(session, subscription)
        assert (await list_orders(client, headers))["items"] == []
        response = await client.get(
            "/v1/orders/", params={"organization_id": str(other.id)}, headers=headers
        )
        assert response.json()["items"] == []

    async def test_filter_customer_and_product(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        bill: Bill,
        organization: Organization,
        subscription: Subscription,
    ) -> None:
        mine = await bill()
        someone = await create_customer(session, organization=organization)
        product = await recurring_product(session, organization, name="Team")
        theirs = await bill_subscription(
            session, await create_subscription(session, customer=someone, product=product)
        )
        by_customer = await list_orders(client, headers, customer_id=str(someone.id))
        by_product = await list_orders(client, headers, product_id=str(subscription.product_id))
        both = await list_orders(
            client, headers, customer_id=[str(someone.id), str(mine.customer_id)]
        )
        assert ids(by_customer) == [str(theirs.id)]
        assert ids(by_product) == [str(mine.id)]
        assert set(ids(both)) == {str(mine.id), str(theirs.id)}

    async def test_filter_billing_type(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        bill: Bill,
        customer: Customer,
        organization: Organization,
    ) -> None:
        recurring = await bill()
        book = await create_product(session, organization=organization, name="Book")
        one_time = await create_order(session, customer=customer, product_id=book.id)
        await create_order(session, customer=customer)  # no product: neither
        assert ids(await list_orders(client, headers, product_billing_type="recurring")) == [
            str(recurring.id)
        ]
        assert ids(await list_orders(client, headers, product_billing_type="one_time")) == [
            str(one_time.id)
        ]
        both = await list_orders(client, headers, product_billing_type=["one_time", "recurring"])
        assert both["pagination"]["total_count"] == 3

    async def test_filter_invalid_billing_type(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get(
            "/v1/orders/", params={"product_billing_type": "weekly"}, headers=headers
        )
        assert response.status_code == 422

    async def test_filter_discount_matches_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        await bill()
        document = await list_orders(client, headers, discount_id=str(uuid.uuid4()))
        assert document["items"] == []

    async def test_filter_checkout(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
        organization: Organization,
    ) -> None:
        checkout = await create_checkout(session, organization=organization, customer=customer)
        order = await create_order(session, customer=customer, checkout=checkout)
        await create_order(session, customer=customer)
        document = await list_orders(client, headers, checkout_id=str(checkout.id))
        assert ids(document) == [str(order.id)]

    async def test_filter_metadata(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        bill: Bill,
        subscription: Subscription,
    ) -> None:
        subscription.user_metadata = {"plan": "gold", "seats": 3}
        gold = await bill(period=0)
        subscription.user_metadata = {"plan": "silver"}
        await bill(period=1)
        response = await client.get(
            "/v1/orders/?metadata[plan]=gold&metadata[seats]=3", headers=headers
        )
        assert ids(response.json()) == [str(gold.id)]

    @pytest.mark.parametrize(
        ("sorting", "expected"),
        [
            ("amount", [0, 2, 1]),
            ("-net_amount", [1, 2, 0]),
            ("invoice_number", [0, 1, 2]),
            ("-invoice_number", [2, 1, 0]),
            ("status", [1, 2, 0]),
            ("-status", [0, 2, 1]),
        ],
    )
    async def test_sorting(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        bill: Bill,
        sorting: str,
        expected: list[int],
    ) -> None:
        orders = [
            await bill(amounts=(amount,), period=period)
            for period, amount in enumerate((100, 900, 500))
        ]
        orders[0].status, orders[2].status = "refunded", "paid"
        await session.flush()
        document = await list_orders(client, headers, sorting=sorting)
        assert ids(document) == [str(orders[index].id) for index in expected]

    async def test_sorting_by_customer_and_product(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        made: list[Order] = []
        for email, name in (("b@x.dev", "Alpha"), ("a@x.dev", "Beta")):
            customer = await create_customer(session, organization=organization, email=email)
            product = await recurring_product(session, organization, name=name)
            subscription = await create_subscription(session, customer=customer, product=product)
            made.append(await bill_subscription(session, subscription))
        by_customer = await list_orders(client, headers, sorting="customer")
        by_product = await list_orders(client, headers, sorting="-product")
        assert ids(by_customer) == [str(made[1].id), str(made[0].id)]
        assert ids(by_product) == [str(made[1].id), str(made[0].id)]

    async def test_sorting_discount_and_subscription_accepted(
        self, client: httpx.AsyncClient, headers: dict[str, str], bill: Bill
    ) -> None:
        await bill()
        for sorting in ("discount", "-discount", "subscription", "-subscription"):
            assert len((await list_orders(client, headers, sorting=sorting))["items"]) == 1

    async def test_invalid_sorting(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get("/v1/orders/", params={"sorting": "email"}, headers=headers)
        assert response.status_code == 422

    async def test_embedded_rows_in_bounded_queries(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        """Each order of a page shows its own customer, product, subscription and items."""
        made = []
        for index in range(4):
            customer = await create_customer(session, organization=organization)
            product = await recurring_product(session, organization, name=f"P{index}")
            subscription = await create_subscription(session, customer=customer, product=product)
            made.append(await bill_subscription(session, subscription, (index + 1, 7)))
        document = await list_orders(client, headers, sorting="amount")
        for order, item in zip(made, document["items"], strict=True):
            assert item["id"] == str(order.id)
            assert item["customer"]["id"] == str(order.customer_id)
            assert item["product"]["id"] == str(order.product_id)
            assert item["subscription"]["id"] == str(order.subscription_id)
            assert [line["amount"] for line in item["items"]] == [order.subtotal_amount - 7, 7]

    async def test_embedded_rows_cost_the_same_for_any_page(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        for index in range(6):
            customer = await create_customer(session, organization=organization)
            product = await recurring_product(session, organization, name=f"P{index}")
            subscription = await create_subscription(session, customer=customer, product=product)
            await bill_subscription(session, subscription, (100, 200))
        queries = 0
        fetch = RawConnection.fetch

        async def counted(self: RawConnection, query: RawQuery, **parameters: Any) -> Any:
            nonlocal queries
            queries += 1
            return await fetch(self, query, **parameters)

        monkeypatch.setattr(RawConnection, "fetch", counted)
        counts = []
        for limit in (1, 6):
            queries = 0
            document = await list_orders(client, headers, limit=limit)
            assert len(document["items"]) == limit
            counts.append(queries)
        # The token's lookup, then items, customers, products and subscriptions: one each.
        assert counts == [5, 5]
