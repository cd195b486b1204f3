"""SQL for payment methods, read on the driver connection."""

import uuid
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import bindparam, func, select

from polar_customers.kit.pagination import MAX_OFFSET, PaginationParams
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.tenancy import OrganizationIds, live_rows, tenant_parameters
from polar_customers.models import PaymentMethod


class PaymentMethodRow(TypedDict):
    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    customer_id: uuid.UUID
    processor: str
    type: str
    method_metadata: dict[str, Any]


_OF_CUSTOMER = (live_rows(PaymentMethod), PaymentMethod.customer_id == bindparam("customer_id"))
_PAGE = RawQuery(
    select(*attribute_columns(PaymentMethod))
    .where(*_OF_CUSTOMER)
    .order_by(PaymentMethod.created_at, PaymentMethod.id)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
_COUNT = RawQuery(select(func.count()).select_from(PaymentMethod).where(*_OF_CUSTOMER))


async def page(
    connection: RawConnection,
    organization_ids: OrganizationIds,
    customer_id: uuid.UUID,
    *,
    pagination: PaginationParams,
) -> tuple[list[PaymentMethodRow], int]:
    """One page of the customer's live payment methods, oldest first, and their count."""
    parameters = {**tenant_parameters(organization_ids), "customer_id": customer_id}
    [(total,)] = await connection.fetch(_COUNT, **parameters)
    if pagination.offset > MAX_OFFSET:
        return [], int(total)
    rows = await connection.fetch_mappings(
        _PAGE, **parameters, limit=pagination.limit, offset=pagination.offset
    )
    return cast(list[PaymentMethodRow], rows), int(total)
