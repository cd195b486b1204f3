from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import RecordModel, TenantMixin


class Meter(TenantMixin, RecordModel):
    """A usage counter of an organization: the events its `filter` matches, aggregated by
    its `aggregation` (both as in Polar's `Filter` and `*Aggregation` schemas)."""

    __tablename__ = "meters"

    name: Mapped[str] = mapped_column(String)
    # By default, every event, counted (as the server defaults).
    filter: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument,
        default=lambda: {"conjunction": "and", "clauses": []},
        server_default='{"conjunction": "and", "clauses": []}',
    )
    aggregation: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=lambda: {"func": "count"}, server_default='{"func": "count"}'
    )
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    user_metadata: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=dict, server_default="{}"
    )
