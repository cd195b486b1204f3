import uuid
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, false
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin, one_of, tenant_index


class ProductPriceAmountType(StrEnum):
    fixed = "fixed"
    custom = "custom"
    free = "free"
    metered_unit = "metered_unit"
    seat_based = "seat_based"


class ProductPriceType(StrEnum):
    one_time = "one_time"
    recurring = "recurring"


class ProductPrice(TenantMixin, RecordModel):
    """A price of a product; a subscription lists the prices it bills. Prices are never
    changed: updating a product's prices archives the old ones and adds new ones."""

    __tablename__ = "product_prices"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="cascade"))
    amount_type: Mapped[str] = mapped_column(
        String, default=ProductPriceAmountType.fixed, server_default="fixed"
    )
    type: Mapped[str] = mapped_column(
        String, default=ProductPriceType.recurring, server_default="recurring"
    )
    recurring_interval: Mapped[str | None] = mapped_column(String, default=None)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    price_currency: Mapped[str] = mapped_column(String(3), default="usd", server_default="usd")
    # Fixed prices: the amount per period (cents).
    price_amount: Mapped[int | None] = mapped_column(Integer, default=None)
    # Metered prices: cents per unit of the meter (a decimal), capped per period.
    meter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meters.id", ondelete="cascade"), default=None
    )
    unit_amount: Mapped[float | None] = mapped_column(Numeric(asdecimal=False), default=None)
    cap_amount: Mapped[int | None] = mapped_column(Integer, default=None)
    # Order of the prices within the product.
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        one_of("amount_type", ProductPriceAmountType),
        one_of("type", ProductPriceType),
        tenant_index("product_prices", "product_id"),
    )
