"""Creating organizations, users and memberships (used by the CLI and the tests)."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Organization, User, UserOrganization
from polar_customers.organizations import repository


class NotFoundError(LookupError):
    """An organization or user named on the command line does not exist."""


class AlreadyExistsError(ValueError):
    """A user with the email named on the command line exists already."""


async def create_organization(
    session: AsyncSession, *, name: str, default_currency: str = "usd"
) -> Organization:
    """A new organization; customer balances are computed in `default_currency` (lower case)."""
    organization = Organization(name=name, default_currency=default_currency)
    session.add(organization)
    await session.flush()
    return organization


async def create_user(session: AsyncSession, *, email: str) -> User:
    existing = await repository.get_user_by_email(session, email)
    if existing is not None:
        raise AlreadyExistsError(f"A user with the email {email} exists already: {existing.id}")
    user = User(email=email)
    session.add(user)
    await session.flush()
    return user


async def add_member(
    session: AsyncSession, *, user_id: uuid.UUID, organization_id: uuid.UUID
) -> UserOrganization:
    """Make the user a member of the organization, which lets its personal tokens see it."""
    if await repository.get_user(session, user_id) is None:
        raise NotFoundError(f"no user {user_id}")
    if await repository.get_organization(session, organization_id) is None:
        raise NotFoundError(f"no organization {organization_id}")
    membership = UserOrganization(user_id=user_id, organization_id=organization_id)
    session.add(membership)
    await session.flush()
    return membership
