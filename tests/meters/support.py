"""Helpers of the meter and event tests: requests through the API, and rows written directly
for what no operation of these domains writes (prices, subscriptions)."""

import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Customer, Meter, Product, ProductPrice, Subscription
from tests.factories import create_subscription, create_subscription_meter

SCOPES = (
    Scope.customers_read,
    Scope.customers_write,
    Scope.meters_read,
    Scope.meters_write,
    Scope.events_read,
    Scope.events_write,
    Scope.customer_meters_read,
)
EVERYTHING = {"conjunction": "and", "clauses": []}
COUNT = {"func": "count"}


def clause(property: str, operator: str, value: Any) -> dict[str, Any]:
    return {"property": property, "operator": operator, "value": value}


def named(name: str) -> dict[str, Any]:
    """A filter of the events with this name."""
    return {"conjunction": "and", "clauses": [clause("name", "eq", name)]}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def create_meter(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    name: str = "API calls",
    filter: dict[str, Any] | None = None,
    aggregation: dict[str, Any] | None = None,
    **body: Any,
) -> dict[str, Any]:
    response = await client.post(
        "/v1/meters/",
        json={
            "name": name,
            "filter": EVERYTHING if filter is None else filter,
            "aggregation": COUNT if aggregation is None else aggregation,
            **body,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    meter: dict[str, Any] = response.json()
    return meter


async def ingest(
    client: httpx.AsyncClient, headers: dict[str, str], events: list[dict[str, Any]]
) -> httpx.Response:
    return await client.post("/v1/events/ingest", json={"events": events}, headers=headers)


async def ingest_ok(
    client: httpx.AsyncClient, headers: dict[str, str], events: list[dict[str, Any]]
) -> None:
    response = await ingest(client, headers, events)
    assert response.status_code == 200, response.text
    assert response.json() == {"inserted": len(events)}


def event(customer: Customer | str, name: str = "call", **fields: Any) -> dict[str, Any]:
    """An event of a customer (a model) or of an external customer id (a string)."""
    if isinstance(customer, str):
        return {"name": name, "external_customer_id": customer, **fields}
    return {"name": name, "customer_id": str(customer.id), **fields}


async def customer_meters(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/customer-meters/", params={"limit": 100, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def consumed(
    client: httpx.AsyncClient, headers: dict[str, str], customer: Customer, meter: dict[str, Any]
) -> float | None:
    """The customer's consumed units of the meter (None when it has no customer meter)."""
    items = await customer_meters(
        client, headers, customer_id=str(customer.id), meter_id=meter["id"]
    )
    assert len(items) <= 1
    return None if not items else float(items[0]["consumed_units"])


async def metered_subscription(
    session: AsyncSession,
    *,
    customer: Customer,
    meter_id: str,
    unit_amount: float,
    cap_amount: int | None = None,
    status: str = "active",
) -> Subscription:
    """A subscription billing the meter by its metered unit price, with its meter open."""
    organization_id = customer.organization_id
    product = Product(organization_id=organization_id, name="Usage")
    session.add(product)
    await session.flush()
    price = ProductPrice(
        organization_id=organization_id,
        product_id=product.id,
        amount_type="metered_unit",
        meter_id=uuid.UUID(meter_id),
        unit_amount=unit_amount,
        cap_amount=cap_amount,
    )
    session.add(price)
    await session.flush()
    subscription = await create_subscription(
        session, customer=customer, product=product, prices=[price], status=status
    )
    meter = await session.get(Meter, uuid.UUID(meter_id))
    assert meter is not None
    await create_subscription_meter(session, subscription=subscription, meter=meter)
    return subscription
