"""SQL for benefit grants. Every query starts from the organization of the customer."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Benefit, BenefitGrant


def _granted(organization_id: uuid.UUID, customer_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [
        BenefitGrant.organization_id == organization_id,
        BenefitGrant.customer_id == customer_id,
        BenefitGrant.granted_at.is_not(None),
        BenefitGrant.deleted_at.is_(None),
    ]


async def list_granted(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> Sequence[Row[tuple[BenefitGrant, str, dict[str, Any]]]]:
    """The customer's live, granted grants, each with its benefit's type and metadata (the
    benefit is read even if it was deleted since)."""
    statement = (
        select(BenefitGrant, Benefit.type, Benefit.user_metadata)
        .join(
            Benefit,
            (Benefit.organization_id == BenefitGrant.organization_id)
            & (Benefit.id == BenefitGrant.benefit_id),
        )
        .where(*_granted(organization_id, customer_id))
    )
    return (await session.execute(statement)).all()


async def revoke_granted(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime
) -> None:
    """Revoke every grant the customer holds at `now`."""
    statement = (
        update(BenefitGrant)
        .where(*_granted(organization_id, customer_id))
        .values(granted_at=None, revoked_at=now, modified_at=now)
    )
    await session.execute(statement)
