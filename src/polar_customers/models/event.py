import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.kit.time import utc_now
from polar_customers.models.base import Base, TenantMixin, one_of


class EventSource(StrEnum):
    system = "system"
    user = "user"


class Event(TenantMixin, Base):
    """Something that happened to a customer: ingested usage (`user`) or a lifecycle change
    (`system`). Events are append-only: no modification time, no soft delete."""

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    ingested_at: Mapped[datetime] = mapped_column(default=utc_now)
    timestamp: Mapped[datetime]
    name: Mapped[str] = mapped_column(String)
    source: Mapped[str] = mapped_column(String, default=EventSource.user)
    # Without foreign keys, unlike other tenant tables: the service checks a batch's
    # customers and organization (docs/decisions.md#d44).
    organization_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    # Null for an external customer id no customer has (yet).
    customer_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    external_customer_id: Mapped[str | None] = mapped_column(String, default=None)
    user_metadata: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)

    __table_args__ = (
        one_of("source", EventSource),
        Index("ix_events_organization_id_timestamp", "organization_id", "timestamp", "id"),
        Index("ix_events_organization_id_customer_id", "organization_id", "customer_id"),
    )
