import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import (
    RecordModel,
    TenantMixin,
    currency_code,
    one_of,
    tenant_index,
)


class RefundReason(StrEnum):
    duplicate = "duplicate"
    fraudulent = "fraudulent"
    customer_request = "customer_request"
    service_disruption = "service_disruption"
    satisfaction_guarantee = "satisfaction_guarantee"
    other = "other"


class Refund(TenantMixin, RecordModel):
    """Money given back for an order, in cents (its tax part separately)."""

    __tablename__ = "refunds"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="cascade"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    amount: Mapped[int] = mapped_column(Integer)
    tax_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String, default=RefundReason.other)
    comment: Mapped[str | None] = mapped_column(String, default=None)
    revoke_benefits: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    user_metadata: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=dict, server_default="{}"
    )

    __table_args__ = (
        one_of("reason", RefundReason),
        currency_code(),
        tenant_index("refunds", "order_id"),
    )
