"""Issuing, listing and revoking access tokens. A token is shown once; only its hash is kept."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import RESERVED_SCOPES, Scope
from polar_customers.auth.tokens import TokenPrefix, generate_token, hash_token
from polar_customers.kit.time import utc_now
from polar_customers.models import OrganizationAccessToken, PersonalAccessToken

AccessToken = OrganizationAccessToken | PersonalAccessToken
TokenT = TypeVar("TokenT", OrganizationAccessToken, PersonalAccessToken)


def _scope_string(scopes: Iterable[Scope]) -> str:
    chosen = sorted(set(scopes))
    if reserved := RESERVED_SCOPES.intersection(chosen):
        raise ValueError(f"reserved scopes cannot be granted: {' '.join(sorted(reserved))}")
    if not chosen:
        raise ValueError("a token needs at least one scope")
    return " ".join(chosen)


async def _issue(
    session: AsyncSession,
    model: type[TokenT],
    prefix: TokenPrefix,
    owner: dict[str, uuid.UUID],
    *,
    scopes: Iterable[Scope],
    key: bytes,
    comment: str,
    expires_at: datetime | None,
) -> tuple[TokenT, str]:
    token = generate_token(prefix)
    row = model(
        **owner,
        token=hash_token(token, key=key),
        scope=_scope_string(scopes),
        comment=comment,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return row, token


async def create_organization_token(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    scopes: Iterable[Scope],
    key: bytes,
    comment: str = "",
    expires_at: datetime | None = None,
) -> tuple[OrganizationAccessToken, str]:
    """A new `polar_oat_` token of the organization, and its value (not stored)."""
    owner = {"organization_id": organization_id}
    return await _issue(
        session, OrganizationAccessToken, TokenPrefix.organization, owner,
        scopes=scopes, key=key, comment=comment, expires_at=expires_at,
    )  # fmt: skip


async def create_personal_token(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    scopes: Iterable[Scope],
    key: bytes,
    comment: str = "",
    expires_at: datetime | None = None,
) -> tuple[PersonalAccessToken, str]:
    """A new `polar_pat_` token of the user, and its value (not stored)."""
    return await _issue(
        session, PersonalAccessToken, TokenPrefix.personal, {"user_id": user_id},
        scopes=scopes, key=key, comment=comment, expires_at=expires_at,
    )  # fmt: skip


async def list_tokens(session: AsyncSession) -> Sequence[AccessToken]:
    """Every token not revoked, organization tokens first."""
    organization_tokens = await session.scalars(
        select(OrganizationAccessToken)
        .where(OrganizationAccessToken.deleted_at.is_(None))
        .order_by(OrganizationAccessToken.created_at)
    )
    personal_tokens = await session.scalars(
        select(PersonalAccessToken)
        .where(PersonalAccessToken.deleted_at.is_(None))
        .order_by(PersonalAccessToken.created_at)
    )
    return [*organization_tokens.all(), *personal_tokens.all()]


async def revoke_token(session: AsyncSession, *, id: uuid.UUID) -> bool:
    """Revoke the token with this id; False when there is no such live token."""
    for model in (OrganizationAccessToken, PersonalAccessToken):
        row = await session.scalar(select(model).where(model.id == id, model.deleted_at.is_(None)))
        if row is not None:
            row.deleted_at = utc_now()
            await session.flush()
            return True
    return False
