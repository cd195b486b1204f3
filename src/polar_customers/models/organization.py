from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, currency_code


class Organization(RecordModel):
    """A tenant: owns customers and organization access tokens."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(255))
    blocked_at: Mapped[datetime | None] = mapped_column(default=None)
    # The only currency a customer balance counts (lower case, as amounts are stored).
    default_currency: Mapped[str] = mapped_column(
        String(3), currency_code("default_currency"), default="usd", server_default="usd"
    )
