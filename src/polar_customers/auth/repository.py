"""SQL for resolving tokens and memberships."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import (
    Organization,
    OrganizationAccessToken,
    PersonalAccessToken,
    User,
    UserOrganization,
)


async def get_live_organization_token(
    session: AsyncSession, *, token_hash: str, now: datetime
) -> OrganizationAccessToken | None:
    """The usable organization token with this hash: not expired, revoked, nor of a
    deleted or blocked organization."""
    statement = (
        select(OrganizationAccessToken)
        .join(Organization, Organization.id == OrganizationAccessToken.organization_id)
        .where(
            OrganizationAccessToken.token == token_hash,
            OrganizationAccessToken.deleted_at.is_(None),
            or_(
                OrganizationAccessToken.expires_at.is_(None),
                OrganizationAccessToken.expires_at > now,
            ),
            Organization.deleted_at.is_(None),
            Organization.blocked_at.is_(None),
        )
    )
    token: OrganizationAccessToken | None = await session.scalar(statement)
    return token


async def get_live_personal_token(
    session: AsyncSession, *, token_hash: str, now: datetime
) -> PersonalAccessToken | None:
    """The usable personal token with this hash: not expired, revoked, nor of a deleted user."""
    statement = (
        select(PersonalAccessToken)
        .join(User, User.id == PersonalAccessToken.user_id)
        .where(
            PersonalAccessToken.token == token_hash,
            PersonalAccessToken.deleted_at.is_(None),
            or_(PersonalAccessToken.expires_at.is_(None), PersonalAccessToken.expires_at > now),
            User.deleted_at.is_(None),
        )
    )
    token: PersonalAccessToken | None = await session.scalar(statement)
    return token


async def list_member_organization_ids(
    session: AsyncSession, *, user_id: uuid.UUID
) -> Sequence[uuid.UUID]:
    """Organizations where the user has an active membership."""
    statement = select(UserOrganization.organization_id).where(
        UserOrganization.user_id == user_id, UserOrganization.deleted_at.is_(None)
    )
    return (await session.scalars(statement)).all()
