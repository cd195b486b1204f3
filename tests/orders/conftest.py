"""A tenant whose subscriptions are billed through `orders.service.create_subscription_order`,
and helpers to pay and refund its orders through the API."""

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import AuthSubject, Principal, SubjectKind
from polar_customers.auth.scopes import GRANTABLE_SCOPES, Scope
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.kit.time import utc_now
from polar_customers.models import (
    Customer,
    Order,
    OrderBillingReason,
    Organization,
    Product,
    Subscription,
)
from polar_customers.orders import service
from polar_customers.orders.service import OrderLine
from tests.factories import (
    bearer,
    create_customer,
    create_organization,
    create_organization_token,
    create_subscription,
)

Bill = Callable[..., Awaitable[Order]]
Pay = Callable[..., Awaitable[httpx.Response]]
NOT_FOUND = {"error": "ResourceNotFound", "detail": "Not found"}


def principal_of(organization: Organization) -> Principal:
    organization_ids = OrganizationIds((organization.id,))
    subject = AuthSubject(
        SubjectKind.organization, organization.id, frozenset(Scope), organization_ids
    )
    return Principal(subject, organization_ids)


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    """An organization token with every grantable scope."""
    return bearer(
        await create_organization_token(session, organization=organization, scopes=GRANTABLE_SCOPES)
    )


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(
        session, organization=organization, email="jane@example.com", name="Jane"
    )


async def recurring_product(
    session: AsyncSession, organization: Organization, *, name: str = "Pro"
) -> Product:
    product = Product(organization_id=organization.id, name=name, recurring_interval="month")
    session.add(product)
    await session.flush()
    return product


@pytest.fixture
async def subscription(
    session: AsyncSession, organization: Organization, customer: Customer
) -> Subscription:
    """An active monthly subscription of `customer` to "Pro", 1,000 cents a month."""
    product = await recurring_product(session, organization)
    return await create_subscription(session, customer=customer, product=product)


async def bill_subscription(
    session: AsyncSession,
    subscription: Subscription,
    amounts: Sequence[int] = (1000,),
    *,
    period: int = 0,
    reason: OrderBillingReason = OrderBillingReason.subscription_create,
    now: datetime | None = None,
) -> Order:
    """The order of the subscription's `period`-th month (one line per amount)."""
    start = subscription.current_period_start + timedelta(days=30 * period)
    lines = [
        OrderLine(label=f"Line {index}", amount=amount, product_price_id=None)
        for index, amount in enumerate(amounts)
    ]
    order, _ = await service.create_subscription_order(
        session,
        subscription=subscription,
        billing_reason=reason,
        period_start=start,
        lines=lines,
        now=now or utc_now(),
    )
    return order


@pytest.fixture
def bill(session: AsyncSession, subscription: Subscription) -> Bill:
    """`await bill(amounts=(1000,), period=0)`: an order of `subscription`."""

    async def make(amounts: Sequence[int] = (1000,), **kwargs: Any) -> Order:
        return await bill_subscription(session, subscription, amounts, **kwargs)

    return make


@pytest.fixture
def pay(client: httpx.AsyncClient, headers: dict[str, str]) -> Pay:
    """`await pay(order, status="succeeded", **body)`: the response of `POST /v1/payments/`."""

    async def send(order: Order, status: str = "succeeded", **body: Any) -> httpx.Response:
        document = {"order_id": str(order.id), "status": status, **body}
        return await client.post("/v1/payments/", json=document, headers=headers)

    return send


@pytest.fixture
def refund(client: httpx.AsyncClient, headers: dict[str, str]) -> Pay:
    """`await refund(order, amount, **body)`: the response of `POST /v1/refunds/`."""

    async def send(order: Order, amount: int, **body: Any) -> httpx.Response:
        document = {"order_id": str(order.id), "amount": amount, "reason": "other", **body}
        return await client.post("/v1/refunds/", json=document, headers=headers)

    return send


async def get_order(
    client: httpx.AsyncClient, headers: dict[str, str], order: Order
) -> dict[str, Any]:
    response = await client.get(f"/v1/orders/{order.id}", headers=headers)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document
