"""Plain keyword-only factories that write rows through the real services."""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth import service as auth_service
from polar_customers.auth.scopes import Scope
from polar_customers.models import Customer, Organization, User
from polar_customers.organizations import service as organizations_service

TEST_SECRET = "test-secret-not-for-production"
TEST_KEY = TEST_SECRET.encode()
READ_WRITE = (Scope.customers_read, Scope.customers_write)
# The keys of a `Customer` on the wire, in order (contract section 4.1).
CUSTOMER_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "metadata",
    "external_id",
    "email",
    "email_verified",
    "name",
    "billing_address",
    "tax_id",
    "organization_id",
    "deleted_at",
    "avatar_url",
]


async def create_organization(session: AsyncSession, *, name: str = "Acme") -> Organization:
    return await organizations_service.create_organization(session, name=name)


async def create_organization_token(
    session: AsyncSession, *, organization: Organization, scopes: Iterable[Scope] = READ_WRITE
) -> str:
    _, token = await auth_service.create_organization_token(
        session, organization_id=organization.id, scopes=scopes, key=TEST_KEY
    )
    return token


async def create_user(session: AsyncSession, *, member_of: Iterable[Organization] = ()) -> User:
    user = await organizations_service.create_user(session, email=f"{uuid.uuid4().hex}@user.dev")
    for organization in member_of:
        await organizations_service.add_member(
            session, user_id=user.id, organization_id=organization.id
        )
    return user


async def create_personal_token(
    session: AsyncSession, *, user: User, scopes: Iterable[Scope] = READ_WRITE
) -> str:
    _, token = await auth_service.create_personal_token(
        session, user_id=user.id, scopes=scopes, key=TEST_KEY
    )
    return token


async def create_customer(
    session: AsyncSession,
    *,
    organization: Organization,
    email: str | None = None,
    external_id: str | None = None,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    email_verified: bool = False,
    **fields: Any,
) -> Customer:
    customer = Customer(
        organization_id=organization.id,
        email=email or f"{uuid.uuid4().hex[:12]}@example.com",
        external_id=external_id,
        name=name,
        user_metadata=metadata or {},
        email_verified=email_verified,
        **fields,
    )
    session.add(customer)
    await session.flush()
    return customer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
