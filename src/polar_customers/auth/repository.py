"""SQL for resolving tokens and memberships.

The token lookups run on every request, so their statements are built once, with bound
parameters, and read plain columns rather than ORM objects.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import (
    Organization,
    OrganizationAccessToken,
    PersonalAccessToken,
    User,
    UserOrganization,
)

_ORGANIZATION_TOKEN = (
    select(OrganizationAccessToken.organization_id, OrganizationAccessToken.scope)
    .join(Organization, Organization.id == OrganizationAccessToken.organization_id)
    .where(
        OrganizationAccessToken.token == bindparam("token_hash"),
        OrganizationAccessToken.deleted_at.is_(None),
        or_(
            OrganizationAccessToken.expires_at.is_(None),
            OrganizationAccessToken.expires_at > bindparam("now"),
        ),
        Organization.deleted_at.is_(None),
        Organization.blocked_at.is_(None),
    )
)
_PERSONAL_TOKEN = (
    select(PersonalAccessToken.user_id, PersonalAccessToken.scope)
    .join(User, User.id == PersonalAccessToken.user_id)
    .where(
        PersonalAccessToken.token == bindparam("token_hash"),
        PersonalAccessToken.deleted_at.is_(None),
        or_(
            PersonalAccessToken.expires_at.is_(None),
            PersonalAccessToken.expires_at > bindparam("now"),
        ),
        User.deleted_at.is_(None),
    )
)
_MEMBER_ORGANIZATIONS = select(UserOrganization.organization_id).where(
    UserOrganization.user_id == bindparam("user_id"), UserOrganization.deleted_at.is_(None)
)


async def get_live_organization_token(
    session: AsyncSession, *, token_hash: str, now: datetime
) -> Row[tuple[uuid.UUID, str]] | None:
    """`(organization_id, scope)` of the usable organization token with this hash: not
    expired, revoked, nor of a deleted or blocked organization."""
    result = await session.execute(_ORGANIZATION_TOKEN, {"token_hash": token_hash, "now": now})
    return result.first()


async def get_live_personal_token(
    session: AsyncSession, *, token_hash: str, now: datetime
) -> Row[tuple[uuid.UUID, str]] | None:
    """`(user_id, scope)` of the usable personal token with this hash: not expired, revoked,
    nor of a deleted user."""
    result = await session.execute(_PERSONAL_TOKEN, {"token_hash": token_hash, "now": now})
    return result.first()


async def list_member_organization_ids(
    session: AsyncSession, *, user_id: uuid.UUID
) -> Sequence[uuid.UUID]:
    """Organizations where the user has an active membership."""
    return (await session.scalars(_MEMBER_ORGANIZATIONS, {"user_id": user_id})).all()
