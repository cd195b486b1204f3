import uuid

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import Base, TenantMixin


class ProductBenefit(TenantMixin, Base):
    """A benefit attached to a product, in the product's order: its subscribers are granted
    it."""

    __tablename__ = "product_benefits"

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="cascade"), primary_key=True
    )
    benefit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("benefits.id", ondelete="cascade"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint(
            "organization_id",
            "product_id",
            "benefit_id",
            name="product_benefits_organization_product_benefit_key",
        ),
    )
