"""SQL for organizations, users and memberships."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Organization, User


async def list_organizations(session: AsyncSession) -> Sequence[Organization]:
    statement = select(Organization).where(Organization.deleted_at.is_(None))
    return (await session.scalars(statement.order_by(Organization.created_at))).all()


async def get_organization(session: AsyncSession, id: uuid.UUID) -> Organization | None:
    statement = select(Organization).where(Organization.id == id, Organization.deleted_at.is_(None))
    organization: Organization | None = await session.scalar(statement)
    return organization


async def get_user(session: AsyncSession, id: uuid.UUID) -> User | None:
    user: User | None = await session.scalar(
        select(User).where(User.id == id, User.deleted_at.is_(None))
    )
    return user


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    """The user with this email, deleted or not (emails stay unique)."""
    user: User | None = await session.scalar(select(User).where(User.email == email))
    return user
