import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, Uuid, func, text
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import POSTGRESQL_ONLY, RecordModel

EMAIL_UNIQUE_INDEX = "customers_organization_id_lower_email_key"
EXTERNAL_ID_UNIQUE_CONSTRAINT = "customers_organization_id_external_id_key"
_LIVE = text("deleted_at IS NULL")


class CustomerType(StrEnum):
    individual = "individual"
    team = "team"


class Customer(RecordModel):
    """A customer of an organization. Deleting it sets `deleted_at` and frees its external id."""

    __tablename__ = "customers"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="cascade"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String, default=None)
    # Null only for a team customer created without one (its owner member has one).
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[str] = mapped_column(
        String, default=CustomerType.individual, server_default=CustomerType.individual
    )
    name: Mapped[str | None] = mapped_column(String, default=None)
    billing_name: Mapped[str | None] = mapped_column(String, default=None)
    locale: Mapped[str | None] = mapped_column(String, default=None)
    # A payment method of this customer (no foreign key: the two tables point at each other).
    default_payment_method_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # When its first usage event was ingested.
    first_user_event_at: Mapped[datetime | None] = mapped_column(default=None)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    tax_id: Mapped[list[str] | None] = mapped_column(JSONDocument, default=None)
    user_metadata: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)

    __table_args__ = (
        UniqueConstraint("organization_id", "external_id", name=EXTERNAL_ID_UNIQUE_CONSTRAINT),
        # Email is unique per organization among live customers, whatever its letter case.
        Index(
            EMAIL_UNIQUE_INDEX,
            "organization_id",
            func.lower(text("email")),
            unique=True,
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        # Sorted pages; creation time also orders by id (list ties, export batches).
        *(
            Index(
                f"ix_customers_organization_id_{columns[0]}",
                "organization_id",
                *columns,
                postgresql_where=_LIVE,
                sqlite_where=_LIVE,
            )
            for columns in (("created_at", "id"), ("email",), ("name",))
        ),
        # Substring search (`query`) and metadata filters; PostgreSQL only.
        *(
            Index(
                f"ix_customers_{column}_trgm",
                column,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                info=POSTGRESQL_ONLY,
            )
            for column in ("email", "name", "external_id")
        ),
        Index(
            "ix_customers_user_metadata",
            "user_metadata",
            postgresql_using="gin",
            postgresql_ops={"user_metadata": "jsonb_path_ops"},
            info=POSTGRESQL_ONLY,
        ),
    )
