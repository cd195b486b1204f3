"""SQL for benefit grants. Every query starts from the organization of the customer."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.models import Benefit, BenefitGrant


def _granted(organization_id: Any, customer_id: Any) -> tuple[ColumnElement[bool], ...]:
    """A customer's live, granted grants (ids or bound parameters)."""
    return (
        BenefitGrant.organization_id == organization_id,
        BenefitGrant.customer_id == customer_id,
        BenefitGrant.granted_at.is_not(None),
        BenefitGrant.deleted_at.is_(None),
    )


# The benefit is read even if it was deleted since.
_LIST_GRANTED = RawQuery(
    select(
        *attribute_columns(BenefitGrant),
        Benefit.type.label("benefit_type"),
        Benefit.user_metadata.label("benefit_metadata"),
    )
    .join(
        Benefit,
        (Benefit.organization_id == BenefitGrant.organization_id)
        & (Benefit.id == BenefitGrant.benefit_id),
    )
    .where(*_granted(bindparam("organization"), bindparam("customer")))
)


async def list_granted(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The customer's live, granted grants, each with its benefit's `benefit_type` and
    `benefit_metadata`."""
    return await connection.fetch_mappings(
        _LIST_GRANTED, organization=organization_id, customer=customer_id
    )


async def lock_granted(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> Sequence[BenefitGrant]:
    """The customer's live, granted grants, locked (for writes)."""
    statement = select(BenefitGrant).where(*_granted(organization_id, customer_id))
    return (await session.scalars(statement.with_for_update())).all()
