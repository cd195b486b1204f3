from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import RecordModel, TenantMixin, one_of
from polar_customers.models.subscription import SubscriptionRecurringInterval


class Product(TenantMixin, RecordModel):
    """Something an organization sells: recurring (`recurring_interval` set) or one-time.
    Subscriptions point to it; archiving hides it from new purchases only."""

    __tablename__ = "products"

    name: Mapped[str] = mapped_column(String)
    description: Mapped[str | None] = mapped_column(String, default=None)
    recurring_interval: Mapped[str | None] = mapped_column(String, default=None)
    trial_interval: Mapped[str | None] = mapped_column(String, default=None)
    trial_interval_count: Mapped[int | None] = mapped_column(Integer, default=None)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    user_metadata: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=dict, server_default="{}"
    )

    __table_args__ = (
        one_of("recurring_interval", SubscriptionRecurringInterval),
        one_of("trial_interval", SubscriptionRecurringInterval),
    )
