import uuid

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin


class SubscriptionPrice(TenantMixin, RecordModel):
    """The prices of a subscription, in order: the first one is its (deprecated) `price_id`."""

    __tablename__ = "subscription_prices"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="cascade")
    )
    product_price_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("product_prices.id", ondelete="cascade")
    )
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # Named by hand: the conventional name passes PostgreSQL's 63 characters.
        UniqueConstraint(
            "organization_id",
            "subscription_id",
            "position",
            name="subscription_prices_organization_subscription_position_key",
        ),
    )
