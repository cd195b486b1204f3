import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin, tenant_index


class OrderItem(TenantMixin, RecordModel):
    """A line of an order: what one price (or one meter's usage) came to, in cents."""

    __tablename__ = "order_items"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="cascade"))
    label: Mapped[str] = mapped_column(String)
    amount: Mapped[int] = mapped_column(Integer)
    tax_amount: Mapped[int] = mapped_column(Integer, default=0)
    proration: Mapped[bool] = mapped_column(Boolean, default=False)
    product_price_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("product_prices.id", ondelete="set null"), default=None
    )

    __table_args__ = (tenant_index("order_items", "order_id"),)
