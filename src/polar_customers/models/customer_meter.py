import uuid

from sqlalchemy import BigInteger, ForeignKey, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin


class CustomerMeter(TenantMixin, RecordModel):
    """The running totals of one meter for one customer, updated in the transaction that
    ingests the events (never re-aggregated from them on a read)."""

    __tablename__ = "customer_meters"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    meter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meters.id", ondelete="cascade"))
    consumed_units: Mapped[float] = mapped_column(Numeric(asdecimal=False), default=0)
    credited_units: Mapped[int] = mapped_column(BigInteger, default=0)
    # credited_units - consumed_units, kept by whoever updates the totals.
    balance: Mapped[float] = mapped_column(Numeric(asdecimal=False), default=0)
    # What the aggregation needs to go on incrementally: matched events, and the sum of
    # their values (`avg` divides one by the other).
    event_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    value_sum: Mapped[float] = mapped_column(
        Numeric(asdecimal=False), default=0, server_default="0"
    )

    __table_args__ = (UniqueConstraint("organization_id", "customer_id", "meter_id"),)
