import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import (
    RecordModel,
    TenantMixin,
    currency_code,
    one_of,
    tenant_index,
)


class SubscriptionStatus(StrEnum):
    incomplete = "incomplete"
    incomplete_expired = "incomplete_expired"
    trialing = "trialing"
    active = "active"
    past_due = "past_due"
    canceled = "canceled"
    unpaid = "unpaid"


class SubscriptionRecurringInterval(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    year = "year"


_RENEWABLE = text("deleted_at IS NULL AND status IN ('active', 'trialing', 'past_due')")


class Subscription(TenantMixin, RecordModel):
    """A customer's recurring purchase of a product. Its prices are `SubscriptionPrice` rows,
    its usage `SubscriptionMeter` rows."""

    __tablename__ = "subscriptions"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="cascade"))
    # Discounts are not stored by this server; the id is kept as the caller gave it.
    discount_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    status: Mapped[str] = mapped_column(String)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    recurring_interval: Mapped[str] = mapped_column(String)
    current_period_start: Mapped[datetime]
    current_period_end: Mapped[datetime | None] = mapped_column(default=None)
    trial_start: Mapped[datetime | None] = mapped_column(default=None)
    trial_end: Mapped[datetime | None] = mapped_column(default=None)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    ends_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    checkout_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("checkouts.id", ondelete="set null"), default=None
    )
    customer_cancellation_reason: Mapped[str | None] = mapped_column(String, default=None)
    customer_cancellation_comment: Mapped[str | None] = mapped_column(String, default=None)
    seats: Mapped[int | None] = mapped_column(Integer, default=None)
    units: Mapped[int | None] = mapped_column(Integer, default=None)
    user_metadata: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    custom_field_data: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)

    __table_args__ = (
        one_of("status", SubscriptionStatus),
        one_of("recurring_interval", SubscriptionRecurringInterval),
        currency_code(),
        tenant_index("subscriptions", "customer_id"),
        # The scheduler's scan: live subscriptions whose period has ended.
        Index(
            "ix_subscriptions_current_period_end_due",
            "current_period_end",
            postgresql_where=_RENEWABLE,
            sqlite_where=_RENEWABLE,
        ),
    )
