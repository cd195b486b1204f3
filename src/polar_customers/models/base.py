import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import MetaData, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
