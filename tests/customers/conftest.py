import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Organization
from tests.factories import bearer, create_organization, create_organization_token


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
