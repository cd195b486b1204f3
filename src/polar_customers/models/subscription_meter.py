import uuid

from sqlalchemy import ForeignKey, Integer, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin


class SubscriptionMeter(TenantMixin, RecordModel):
    """Usage of one meter by one subscription in its current billing period."""

    __tablename__ = "subscription_meters"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="cascade")
    )
    meter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meters.id", ondelete="cascade"))
    consumed_units: Mapped[float] = mapped_column(Numeric(asdecimal=False), default=0)
    credited_units: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        # Named by hand: the conventional name passes PostgreSQL's 63 characters.
        UniqueConstraint(
            "organization_id",
            "subscription_id",
            "meter_id",
            name="subscription_meters_organization_subscription_meter_key",
        ),
    )
