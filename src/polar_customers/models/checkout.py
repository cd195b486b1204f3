import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin, tenant_index


class Checkout(TenantMixin, RecordModel):
    """A checkout session; its payments count towards the balance of its customer."""

    __tablename__ = "checkouts"

    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("customers.id", ondelete="set null"), default=None
    )

    __table_args__ = (tenant_index("checkouts", "customer_id"),)
