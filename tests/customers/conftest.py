import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Organization
from tests.factories import (
    bearer,
    create_customer,
    create_organization,
    create_organization_token,
)


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    """Authorization of a read+write organization token of `organization`."""
    return bearer(await create_organization_token(session, organization=organization))


@pytest.fixture
async def other_organization(session: AsyncSession) -> Organization:
    return await create_organization(session, name="Other")


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    """A customer of `organization` with external ID `usr_1` (modules may override it)."""
    return await create_customer(session, organization=organization, external_id="usr_1")
