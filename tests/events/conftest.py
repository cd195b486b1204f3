import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Organization
from tests.factories import bearer, create_customer, create_organization, create_organization_token
from tests.meters.support import SCOPES


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    """An organization token with the customer, meter and event scopes."""
    return bearer(
        await create_organization_token(session, organization=organization, scopes=SCOPES)
    )


@pytest.fixture
async def other_organization(session: AsyncSession) -> Organization:
    return await create_organization(session, name="Other")


@pytest.fixture
async def other_headers(session: AsyncSession, other_organization: Organization) -> dict[str, str]:
    return bearer(
        await create_organization_token(session, organization=other_organization, scopes=SCOPES)
    )


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(session, organization=organization, external_id="usr_1")


@pytest.fixture
async def customer2(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(session, organization=organization, external_id="usr_2")
