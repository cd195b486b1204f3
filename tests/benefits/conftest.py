from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import AuthSubject, Principal, SubjectKind
from polar_customers.auth.scopes import Scope
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.models import Meter, Organization
from tests.factories import bearer, create_meter, create_organization, create_organization_token

SCOPES = (Scope.benefits_read, Scope.benefits_write)
CreateBenefit = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    """An organization token with the benefit scopes."""
    return bearer(
        await create_organization_token(session, organization=organization, scopes=SCOPES)
    )


@pytest.fixture
async def meter(session: AsyncSession, organization: Organization) -> Meter:
    return await create_meter(session, organization=organization)


@pytest.fixture
def create_benefit(client: httpx.AsyncClient, headers: dict[str, str]) -> CreateBenefit:
    """`await create_benefit(**body)`: a benefit made through the API (custom by default)."""

    async def create(**body: Any) -> dict[str, Any]:
        body = {"type": "custom", "description": "Support", "properties": {}, **body}
        response = await client.post("/v1/benefits/", json=body, headers=headers)
        assert response.status_code == 201, response.text
        benefit: dict[str, Any] = response.json()
        return benefit

    return create


def principal_of(organization: Organization) -> Principal:
    organization_ids = OrganizationIds((organization.id,))
    subject = AuthSubject(
        SubjectKind.organization, organization.id, frozenset(Scope), organization_ids
    )
    return Principal(subject, organization_ids)
