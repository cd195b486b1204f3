import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from polar_customers.kit.db_types import UTCDateTime
from polar_customers.kit.time import utc_now

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


POSTGRESQL_ONLY = {"dialects": ("postgresql",)}
"""`info` of schema items that exist only on PostgreSQL (GIN indexes, extensions)."""


def exists_on(item: Any, dialect: str) -> bool:
    """Whether a schema item belongs in a database of this dialect."""
    info = getattr(item, "info", None) or {}
    return dialect in info.get("dialects", (dialect,))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class RecordModel(Base):
    """A row with a UUID4 id, creation time, modification time and soft-delete marker."""

    __abstract__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    modified_at: Mapped[datetime | None] = mapped_column(default=None, onupdate=utc_now)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class TenantMixin:
    """A row of one organization. `organization_id` is the column the tables are sharded by
    (Citus): NOT NULL, indexed, and part of every unique constraint of the table."""

    @declared_attr
    def organization_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
            ForeignKey("organizations.id", ondelete="cascade"), index=True, nullable=False
        )


def tenant_index(table: str, column: str) -> Index:
    """An index on (`organization_id`, `column`): lookups by a parent row stay within the
    tenant, and no planner prefers the bare `organization_id` index to it."""
    return Index(f"ix_{table}_organization_id_{column}", "organization_id", column)


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """A CHECK that `column` holds one of `values` (named `<table>_<column>_check`)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def currency_code(column: str = "currency") -> CheckConstraint:
    """A CHECK that `column` is a three-letter, lower-case currency code."""
    return CheckConstraint(f"length({column}) = 3 AND {column} = lower({column})", name=column)
