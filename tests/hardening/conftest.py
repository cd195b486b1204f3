"""The organization of a hardening test, and a token of it with every grantable scope."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import GRANTABLE_SCOPES
from polar_customers.models import Organization
from tests.factories import bearer, create_organization, create_organization_token


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    token = await create_organization_token(
        session, organization=organization, scopes=GRANTABLE_SCOPES
    )
    return bearer(token)
