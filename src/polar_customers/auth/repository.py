"""SQL for resolving tokens and memberships.

The token lookups run on every request, so they are raw queries (kit/raw_sql.py): built
once, with bound parameters, run on the driver connection.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select

from polar_customers.kit.raw_sql import RawConnection, RawQuery
from polar_customers.models import (
    Organization,
    OrganizationAccessToken,
    PersonalAccessToken,
    User,
    UserOrganization,
)

_ORGANIZATION_TOKEN = RawQuery(
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
_PERSONAL_TOKEN = RawQuery(
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
_MEMBER_ORGANIZATIONS = RawQuery(
    select(UserOrganization.organization_id).where(
        UserOrganization.user_id == bindparam("user_id"), UserOrganization.deleted_at.is_(None)
    )
)


async def get_live_organization_token(
    connection: RawConnection, *, token_hash: str, now: datetime
) -> tuple[Any, ...] | None:
    """`(organization_id, scope)` of the usable organization token with this hash: not
    expired, revoked, nor of a deleted or blocked organization."""
    return await connection.fetch_one(_ORGANIZATION_TOKEN, token_hash=token_hash, now=now)


async def get_live_personal_token(
    connection: RawConnection, *, token_hash: str, now: datetime
) -> tuple[Any, ...] | None:
    """`(user_id, scope)` of the usable personal token with this hash: not expired, revoked,
    nor of a deleted user."""
    return await connection.fetch_one(_PERSONAL_TOKEN, token_hash=token_hash, now=now)


async def list_member_organization_ids(
    connection: RawConnection, *, user_id: uuid.UUID
) -> Sequence[uuid.UUID]:
    """Organizations where the user has an active membership."""
    return [row[0] for row in await connection.fetch(_MEMBER_ORGANIZATIONS, user_id=user_id)]
