import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin


class ProductPrice(TenantMixin, RecordModel):
    """A price of a product; a subscription lists the prices it bills."""

    __tablename__ = "product_prices"

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="cascade"))
