from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin


class Meter(TenantMixin, RecordModel):
    """A usage counter of an organization, fed by events."""

    __tablename__ = "meters"

    name: Mapped[str] = mapped_column(String)
