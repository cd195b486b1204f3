"""SQL for customer meters. Every query starts from the organization of the customer."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import CustomerMeter


async def list_customer_meters(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> Sequence[CustomerMeter]:
    """The customer's live meter totals, oldest first."""
    statement = (
        select(CustomerMeter)
        .where(
            CustomerMeter.organization_id == organization_id,
            CustomerMeter.customer_id == customer_id,
            CustomerMeter.deleted_at.is_(None),
        )
        .order_by(CustomerMeter.created_at, CustomerMeter.id)
    )
    return (await session.scalars(statement)).all()
