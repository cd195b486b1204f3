import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import RecordModel, TenantMixin, tenant_index

_LIVE_SUBSCRIPTION_GRANT = text("subscription_id IS NOT NULL AND deleted_at IS NULL")


class BenefitGrant(TenantMixin, RecordModel):
    """A benefit given to a customer. Granted while `granted_at` is set; revoking it clears
    `granted_at` and sets `revoked_at`."""

    __tablename__ = "benefit_grants"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    benefit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("benefits.id", ondelete="cascade"))
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="cascade"), default=None
    )
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("orders.id", ondelete="cascade"), default=None
    )
    granted_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)

    __table_args__ = (
        tenant_index("benefit_grants", "customer_id"),
        tenant_index("benefit_grants", "benefit_id"),
        # One grant per subscription and benefit: granting twice finds the first one.
        Index(
            "benefit_grants_organization_subscription_benefit_key",
            "organization_id",
            "subscription_id",
            "benefit_id",
            unique=True,
            postgresql_where=_LIVE_SUBSCRIPTION_GRANT,
            sqlite_where=_LIVE_SUBSCRIPTION_GRANT,
        ),
    )
