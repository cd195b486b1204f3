import uuid

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import Base, TenantMixin


class MeterUniqueValue(TenantMixin, Base):
    """A value a `unique` meter has counted for one counter (a customer meter or a
    subscription meter): ingesting it again does not count it twice."""

    __tablename__ = "meter_unique_values"

    counter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String, primary_key=True)
