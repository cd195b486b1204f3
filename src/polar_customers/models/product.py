from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin


class Product(TenantMixin, RecordModel):
    """Something an organization sells; subscriptions point to it."""

    __tablename__ = "products"

    name: Mapped[str] = mapped_column(String)
