"""SQL for customer meters. Every query starts from the organization of the customer."""

import uuid
from typing import Any

from sqlalchemy import bindparam, select

from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.models import CustomerMeter

_CUSTOMER_METERS = RawQuery(
    select(*attribute_columns(CustomerMeter))
    .where(
        CustomerMeter.organization_id == bindparam("organization_id"),
        CustomerMeter.customer_id == bindparam("customer_id"),
        CustomerMeter.deleted_at.is_(None),
    )
    .order_by(CustomerMeter.created_at, CustomerMeter.id)
)


async def list_customer_meters(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The customer's live meter totals, oldest first."""
    return await connection.fetch_mappings(
        _CUSTOMER_METERS, organization_id=organization_id, customer_id=customer_id
    )
