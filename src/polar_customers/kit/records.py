"""The reads every tenant table of the template has (docs/domain-template.md): its read shape
from a model, one visible row by id without the ORM (for responses), and the same row as a
model locked for a write. Built once per table."""

import uuid
from typing import Generic, TypeVar, cast

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.tenancy import OrganizationIds, live_rows, tenant_parameters
from polar_customers.models.base import RecordModel

M = TypeVar("M", bound=RecordModel)
R = TypeVar("R")


class TenantRecords(Generic[M, R]):
    """`model`'s live rows in the caller's organizations, `R` being its read shape (a
    `TypedDict` of its columns by attribute name)."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.id = model.id
        self.columns = attribute_columns(model)
        self.keys = tuple(column.key for column in self.columns)
        self.visible = live_rows(model)
        """The one tenancy predicate of the table."""
        self._read = RawQuery(select(*self.columns).where(self.visible, self.id == bindparam("id")))

    def row_of(self, record: M) -> R:
        """The read shape of a model loaded through the ORM (by the write paths)."""
        return cast(R, {key: getattr(record, key) for key in self.keys})

    async def read(
        self, connection: RawConnection, organization_ids: OrganizationIds, id: uuid.UUID
    ) -> R | None:
        rows = await connection.fetch_mappings(
            self._read, **tenant_parameters(organization_ids), id=id
        )
        return cast(R, rows[0]) if rows else None

    async def lock(
        self, session: AsyncSession, organization_ids: OrganizationIds, id: uuid.UUID
    ) -> M | None:
        statement = select(self.model).where(self.visible, self.id == id)
        found: M | None = await session.scalar(
            statement.with_for_update(), tenant_parameters(organization_ids)
        )
        return found
