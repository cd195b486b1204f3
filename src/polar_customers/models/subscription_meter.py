import uuid

from sqlalchemy import BigInteger, ForeignKey, Integer, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin


class SubscriptionMeter(TenantMixin, RecordModel):
    """Usage of one meter by one subscription in its current billing period (reset when the
    period renews); `amount` is what the metered price makes of it, in cents."""

    __tablename__ = "subscription_meters"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="cascade")
    )
    meter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meters.id", ondelete="cascade"))
    consumed_units: Mapped[float] = mapped_column(Numeric(asdecimal=False), default=0)
    credited_units: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    # As on customer meters: what the aggregation needs to go on incrementally.
    event_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    value_sum: Mapped[float] = mapped_column(
        Numeric(asdecimal=False), default=0, server_default="0"
    )

    __table_args__ = (
        # Named by hand: the conventional name passes PostgreSQL's 63 characters.
        UniqueConstraint(
            "organization_id",
            "subscription_id",
            "meter_id",
            name="subscription_meters_organization_subscription_meter_key",
        ),
    )
