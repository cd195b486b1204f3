import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import (
    RecordModel,
    TenantMixin,
    currency_code,
    one_of,
    tenant_index,
)


class PaymentStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class Payment(TenantMixin, RecordModel):
    """Money received (or attempted) for an order or a checkout, in cents. Payments are
    collected elsewhere: `processor` and `method` are the labels of the recorder."""

    __tablename__ = "payments"

    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="set null"), default=None
    )
    checkout_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("checkouts.id", ondelete="set null"), default=None
    )
    status: Mapped[str] = mapped_column(String)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    processor: Mapped[str] = mapped_column(String, default="manual", server_default="manual")
    method: Mapped[str] = mapped_column(String, default="other", server_default="other")
    decline_reason: Mapped[str | None] = mapped_column(String, default=None)
    decline_message: Mapped[str | None] = mapped_column(String, default=None)

    __table_args__ = (
        one_of("status", PaymentStatus),
        currency_code(),
        tenant_index("payments", "order_id"),
        tenant_index("payments", "checkout_id"),
    )
