import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin, one_of, tenant_index


class LicenseKey(TenantMixin, RecordModel):
    """A key issued to a customer by a `license_keys` benefit; its grant shows only
    `display_key`, the key masked but for its last characters."""

    __tablename__ = "license_keys"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    benefit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("benefits.id", ondelete="cascade"))
    key: Mapped[str] = mapped_column(String)
    display_key: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String, default="granted")
    limit_activations: Mapped[int | None] = mapped_column(Integer, default=None)
    limit_usage: Mapped[int | None] = mapped_column(Integer, default=None)
    usage: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("organization_id", "key", name="license_keys_organization_key_key"),
        one_of("status", ("granted", "revoked", "disabled")),
        tenant_index("license_keys", "customer_id"),
    )
