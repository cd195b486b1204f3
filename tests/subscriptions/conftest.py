"""A tenant with a catalogue made through the API: a meter, three benefits (custom, license
keys, meter credits) and products that carry them."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import GRANTABLE_SCOPES
from polar_customers.models import Organization
from tests.factories import bearer, create_organization, create_organization_token

Post = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    return bearer(
        await create_organization_token(session, organization=organization, scopes=GRANTABLE_SCOPES)
    )


@pytest.fixture
def post(client: httpx.AsyncClient, headers: dict[str, str]) -> Post:
    """`await post(path, body, status=201)`: the JSON of a successful POST."""

    async def send(path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == status, response.text
        document: dict[str, Any] = response.json()
        return document

    return send


@dataclass
class Catalogue:
    meter: dict[str, Any]
    custom: dict[str, Any]
    license_keys: dict[str, Any]
    credits: dict[str, Any]
    monthly: dict[str, Any]
    """1,000 cents a month, with the three benefits."""
    free: dict[str, Any]
    """A free monthly product with the custom benefit."""
    trial: dict[str, Any]
    """500 cents a month after a trial of 14 days."""
    one_time: dict[str, Any]
    customer: dict[str, Any]


@pytest.fixture
async def catalogue(post: Post) -> Catalogue:
    meter = await post(
        "/v1/meters/",
        {
            "name": "API calls",
            "filter": {
                "conjunction": "and",
                "clauses": [{"property": "name", "operator": "eq", "value": "api_call"}],
            },
            "aggregation": {"func": "count"},
        },
    )
    custom = await post(
        "/v1/benefits/",
        {"type": "custom", "description": "Priority support", "properties": {"note": "Hi"}},
    )
    license_keys = await post(
        "/v1/benefits/",
        {"type": "license_keys", "description": "License key", "properties": {"prefix": "ACME"}},
    )
    credits = await post(
        "/v1/benefits/",
        {
            "type": "meter_credit",
            "description": "100 API calls",
            "properties": {"units": 100, "rollover": False, "meter_id": meter["id"]},
        },
    )
    monthly = await post(
        "/v1/products/",
        {
            "name": "Pro monthly",
            "recurring_interval": "month",
            "prices": [{"amount_type": "fixed", "price_amount": 1000}],
        },
    )
    monthly = await post(
        f"/v1/products/{monthly['id']}/benefits",
        {"benefits": [custom["id"], license_keys["id"], credits["id"]]},
        status=200,
    )
    free = await post(
        "/v1/products/",
        {"name": "Free", "recurring_interval": "month", "prices": [{"amount_type": "free"}]},
    )
    free = await post(f"/v1/products/{free['id']}/benefits", {"benefits": [custom["id"]]}, 200)
    trial = await post(
        "/v1/products/",
        {
            "name": "Trial monthly",
            "recurring_interval": "month",
            "trial_interval": "day",
            "trial_interval_count": 14,
            "prices": [{"amount_type": "fixed", "price_amount": 500}],
        },
    )
    one_time = await post(
        "/v1/products/",
        {"name": "Lifetime", "prices": [{"amount_type": "fixed", "price_amount": 9900}]},
    )
    customer = await post(
        "/v1/customers/", {"email": "ada@example.com", "name": "Ada", "external_id": "ada"}
    )
    return Catalogue(meter, custom, license_keys, credits, monthly, free, trial, one_time, customer)


@pytest.fixture
async def other_headers(session: AsyncSession) -> dict[str, str]:
    """A token of another organization, with every scope."""
    other = await create_organization(session, name="Other")
    return bearer(
        await create_organization_token(session, organization=other, scopes=GRANTABLE_SCOPES)
    )
