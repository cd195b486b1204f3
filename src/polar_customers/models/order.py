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


class OrderStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    refunded = "refunded"
    partially_refunded = "partially_refunded"


class Order(TenantMixin, RecordModel):
    """A purchase by a customer. Amounts are in cents; its total is
    `subtotal_amount - discount_amount + tax_amount`."""

    __tablename__ = "orders"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    checkout_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("checkouts.id", ondelete="set null"), default=None
    )
    status: Mapped[str] = mapped_column(String)
    subtotal_amount: Mapped[int] = mapped_column(Integer)
    discount_amount: Mapped[int] = mapped_column(Integer, default=0)
    tax_amount: Mapped[int] = mapped_column(Integer, default=0)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    refunded_tax_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))

    __table_args__ = (
        one_of("status", OrderStatus),
        currency_code(),
        tenant_index("orders", "customer_id"),
    )
