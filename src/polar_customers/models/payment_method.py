import uuid
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import RecordModel, TenantMixin, tenant_index


class PaymentMethod(TenantMixin, RecordModel):
    """A way a customer pays (a card, ...), as the payment processor described it."""

    __tablename__ = "payment_methods"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    processor: Mapped[str] = mapped_column(String, default="stripe")
    type: Mapped[str] = mapped_column(String)
    method_metadata: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)

    __table_args__ = (tenant_index("payment_methods", "customer_id"),)
