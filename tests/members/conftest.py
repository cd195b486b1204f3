from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Organization
from tests.factories import bearer, create_organization, create_organization_token

ALL_SCOPES = (
    Scope.customers_read,
    Scope.customers_write,
    Scope.members_read,
    Scope.members_write,
)
CreateCustomer = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    """An organization token with the customer and member scopes."""
    return bearer(
        await create_organization_token(session, organization=organization, scopes=ALL_SCOPES)
    )


@pytest.fixture
def create_customer(client: httpx.AsyncClient, headers: dict[str, str]) -> CreateCustomer:
    """`await create_customer(**body)`: a customer made through the API (with its owner)."""

    async def create(**body: Any) -> dict[str, Any]:
        response = await client.post("/v1/customers/", json=body, headers=headers)
        assert response.status_code == 201, response.text
        customer: dict[str, Any] = response.json()
        return customer

    return create


@pytest.fixture
async def team(create_customer: CreateCustomer) -> dict[str, Any]:
    """A team customer owned by owner@acme.dev, with external id `acme`."""
    return await create_customer(
        type="team",
        email="billing@acme.dev",
        name="Acme",
        external_id="acme",
        owner={"email": "owner@acme.dev", "name": "Olive Owner", "external_id": "olive"},
    )
