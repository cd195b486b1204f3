"""SQL for customers. Every query starts from the caller's organization ids."""

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    cast,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from polar_customers.kit.metadata import metadata_matches
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection, RawQuery
from polar_customers.kit.schemas import is_storable
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.sql_text import isoformat_utc, uuid_text
from polar_customers.models import Customer

_SORT_COLUMNS: dict[str, Any] = {
    "created_at": Customer.created_at,
    "email": Customer.email,
    "name": Customer.name,
}
EXPORT_BATCH_SIZE = 1000
MAX_OFFSET = 2**62  # past any real table; larger offsets overflow the databases' integers


def visible(organization_ids: Sequence[uuid.UUID]) -> Select[tuple[Customer]]:
    """Live customers of the given organizations."""
    return select(Customer).where(
        Customer.organization_id.in_(organization_ids), Customer.deleted_at.is_(None)
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _case_insensitive_like(
    column: InstrumentedAttribute[Any], pattern: str, dialect: str
) -> ColumnElement[bool]:
    # SQLite's LIKE already ignores (ASCII) case; ILIKE would wrap every row in lower().
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


def filter_list(
    statement: Select[tuple[Customer]],
    *,
    dialect: str,
    organization_ids: Sequence[uuid.UUID] | None = None,
    email: str | None = None,
    query: str | None = None,
    metadata: dict[str, list[str]] | None = None,
) -> Select[tuple[Customer]]:
    """Apply the list filters. `query` matches a substring of email or name, or an external
    id prefix, with LIKE wildcards taken literally."""
    searched = [email or "", query or ""]
    searched += [text for key, values in (metadata or {}).items() for text in (key, *values)]
    if not all(is_storable(text) for text in searched):
        return statement.where(false())  # nothing stored can contain what cannot be stored
    if organization_ids is not None:
        statement = statement.where(Customer.organization_id.in_(organization_ids))
    if email is not None:
        statement = statement.where(func.lower(Customer.email) == email.lower())
    if query is not None:
        pattern = _escape_like(query)
        statement = statement.where(
            or_(
                _case_insensitive_like(Customer.email, f"%{pattern}%", dialect),
                _case_insensitive_like(Customer.name, f"%{pattern}%", dialect),
                _case_insensitive_like(Customer.external_id, f"{pattern}%", dialect),
            )
        )
    for key, values in (metadata or {}).items():
        statement = statement.where(
            metadata_matches(Customer.user_metadata, key, values, dialect=dialect)
        )
    return statement


def _order_by(sorting: Sequence[SortCriterion]) -> list[Any]:
    clauses = []
    for criterion in sorting:
        column = _SORT_COLUMNS[criterion.property]
        # Same NULL placement on both engines: last ascending, first descending (PostgreSQL's).
        clauses.append(
            column.desc().nulls_first() if criterion.descending else column.asc().nulls_last()
        )
    # A unique tie-breaker keeps pages stable when sort keys repeat.
    clauses.append(Customer.id.desc() if sorting and sorting[-1].descending else Customer.id.asc())
    return clauses


async def paginate(
    session: AsyncSession,
    statement: Select[tuple[Customer]],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[Sequence[Customer], int]:
    """One page of `statement` and the total count of its rows.

    The page comes from the sorted index alone; the total is counted separately, and only
    when the page cannot tell it (a full page, or one past the end): a window count would
    read every matching row in full for each page.
    """
    if pagination.offset > MAX_OFFSET:
        return [], await _count(session, statement)
    page = statement.order_by(*_order_by(sorting)).limit(pagination.limit)
    items = (await session.scalars(page.offset(pagination.offset))).all()
    if 0 < len(items) < pagination.limit or (pagination.page == 1 and not items):
        return items, pagination.offset + len(items)
    return items, await _count(session, statement)


async def _count(session: AsyncSession, statement: Select[tuple[Customer]]) -> int:
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    return int(total or 0)


def _locking_statements(*criteria: ColumnElement[bool]) -> dict[bool, Any]:
    """Prebuilt (once, at import) selects of live customers matching `criteria`, keyed by
    "several organizations?". They lock the row, so that concurrent writes to one customer
    apply one after the other, each seeing the last (SQLite already serializes writers)."""
    scopes = {
        False: Customer.organization_id == bindparam("organization_id"),
        True: Customer.organization_id.in_(bindparam("organization_ids", expanding=True)),
    }
    return {
        several: select(Customer)
        .where(scope, Customer.deleted_at.is_(None), *criteria)
        .with_for_update()
        for several, scope in scopes.items()
    }


def _tenant_parameters(organization_ids: Sequence[uuid.UUID]) -> dict[str, Any]:
    if len(organization_ids) == 1:
        return {"organization_id": organization_ids[0]}
    return {"organization_ids": list(organization_ids)}


_BY_ID = _locking_statements(Customer.id == bindparam("id"))
_BY_EXTERNAL_ID = {
    several: statement.limit(2)
    for several, statement in _locking_statements(
        Customer.external_id == bindparam("external_id")
    ).items()
}


async def lock_by_id(
    session: AsyncSession, organization_ids: Sequence[uuid.UUID], id: uuid.UUID
) -> Customer | None:
    """The live customer with this id, locked until the transaction ends (for writes)."""
    statement = _BY_ID[len(organization_ids) != 1]
    parameters = {**_tenant_parameters(organization_ids), "id": id}
    customer: Customer | None = await session.scalar(statement, parameters)
    return customer


async def lock_by_external_id(
    session: AsyncSession, organization_ids: Sequence[uuid.UUID], external_id: str
) -> Sequence[Customer]:
    """The live customers with this external id, locked (for writes): at most two, as more
    than one is possible across a user's organizations."""
    if not is_storable(external_id):
        return []
    statement = _BY_EXTERNAL_ID[len(organization_ids) != 1]
    parameters = {**_tenant_parameters(organization_ids), "external_id": external_id}
    return (await session.scalars(statement, parameters)).all()


_LIVE_IN_ORGANIZATION = (
    Customer.organization_id == bindparam("organization_id"),
    Customer.deleted_at.is_(None),
)
CUSTOMER_COLUMNS = (
    Customer.id,
    Customer.created_at,
    Customer.modified_at,
    Customer.user_metadata,
    Customer.external_id,
    Customer.email,
    Customer.email_verified,
    Customer.name,
    Customer.billing_address,
    Customer.tax_id,
    Customer.organization_id,
    Customer.deleted_at,
)
"""Every column a `Customer` response needs, as plain row values."""
_RAW_BY_ID = RawQuery(
    select(*CUSTOMER_COLUMNS).where(*_LIVE_IN_ORGANIZATION, Customer.id == bindparam("id"))
)
_RAW_BY_EXTERNAL_ID = RawQuery(
    select(*CUSTOMER_COLUMNS).where(
        *_LIVE_IN_ORGANIZATION, Customer.external_id == bindparam("external_id")
    )
)


async def read_by_id(
    connection: RawConnection, organization_ids: Sequence[uuid.UUID], id: uuid.UUID
) -> dict[str, Any] | None:
    """The live customer with this id, as column values, without the ORM (for responses
    only). One query per organization: each stays within one shard when sharded by it."""
    for organization_id in organization_ids:
        rows = await connection.fetch_mappings(_RAW_BY_ID, organization_id=organization_id, id=id)
        if rows:
            return rows[0]
    return None


async def read_by_external_id(
    connection: RawConnection, organization_ids: Sequence[uuid.UUID], external_id: str
) -> list[dict[str, Any]]:
    """Like `lock_by_external_id`, as column values, without the ORM or a lock (for
    responses only)."""
    found: list[dict[str, Any]] = []
    if not is_storable(external_id):
        return found
    for organization_id in organization_ids:
        found += await connection.fetch_mappings(
            _RAW_BY_EXTERNAL_ID, organization_id=organization_id, external_id=external_id
        )
        if len(found) > 1:
            break
    return found


async def email_taken(session: AsyncSession, organization_id: uuid.UUID, email: str) -> bool:
    statement = visible([organization_id]).where(func.lower(Customer.email) == email.lower())
    return await session.scalar(select(statement.exists())) or False


async def external_id_taken(
    session: AsyncSession, organization_id: uuid.UUID, external_id: str
) -> bool:
    statement = select(Customer.id).where(
        Customer.organization_id == organization_id, Customer.external_id == external_id
    )
    return await session.scalar(select(statement.exists())) or False


_ADDRESS = Customer.billing_address
_TAX_ID = Customer.tax_id
CSV_COLUMNS = (
    uuid_text(Customer.id).label("id"),
    Customer.external_id,
    isoformat_utc(Customer.created_at).label("created_at"),
    Customer.email,
    Customer.name,
    _TAX_ID[0].as_string().label("tax_id_value"),
    _TAX_ID[1].as_string().label("tax_id_format"),
    *(
        _ADDRESS[field].as_string().label(field)
        for field in ("line1", "line2", "city", "state", "postal_code", "country")
    ),
    cast(Customer.user_metadata, String).label("metadata_json"),
)
"""The export's cells as text, formatted and extracted from the JSON documents by the
database (much faster than converting them in Python); metadata comes as the stored JSON."""


_EXPORT_QUERIES = {
    csv: RawQuery(select(*columns).where(*_LIVE_IN_ORGANIZATION))
    for csv, columns in ((True, CSV_COLUMNS), (False, CUSTOMER_COLUMNS))
}


async def stream_export(
    connection: RawConnection,
    organization_ids: Sequence[uuid.UUID],
    *,
    filter_organization_ids: Sequence[uuid.UUID] | None,
    csv: bool,
) -> AsyncIterator[list[Any]]:
    """Every visible customer in batches, never all in memory: rows of `CSV_COLUMNS` for
    the CSV, else column-name mappings of `CUSTOMER_COLUMNS`. One scan per organization."""
    query = _EXPORT_QUERIES[csv]
    for organization_id in organization_ids:
        if filter_organization_ids is not None and organization_id not in filter_organization_ids:
            continue
        batches = connection.stream(
            query, batch_size=EXPORT_BATCH_SIZE, organization_id=organization_id
        )
        async for batch in batches:
            yield batch if csv else [dict(zip(query.names, row, strict=True)) for row in batch]
