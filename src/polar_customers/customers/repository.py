"""SQL for customers. Every query is bound to the caller's organizations (kit/tenancy.py), and
every read gives `CustomerRow`s, whatever path fetched them."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import (
    ColumnElement,
    Label,
    Select,
    String,
    bindparam,
    false,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from polar_customers.kit.metadata import metadata_matches
from polar_customers.kit.pagination import MAX_OFFSET, PaginationParams
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.schemas import is_storable
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.sql_text import isoformat_utc, uuid_text
from polar_customers.kit.tenancy import OrganizationIds, live_rows, tenant_parameters
from polar_customers.models import Customer, Subscription, SubscriptionStatus


class CustomerRow(TypedDict):
    """A customer as every read gives it: its columns, by attribute name."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    external_id: str | None
    email: str | None
    email_verified: bool
    type: str
    name: str | None
    billing_name: str | None
    billing_address: dict[str, Any] | None
    tax_id: list[str] | None
    locale: str | None
    default_payment_method_id: uuid.UUID | None
    first_user_event_at: datetime | None
    user_metadata: dict[str, Any]


CUSTOMER_COLUMNS = attribute_columns(Customer)
_KEYS = tuple(column.key for column in CUSTOMER_COLUMNS)
_VISIBLE = live_rows(Customer)
"""The one tenancy predicate of the table: live customers of the caller's organizations."""


def row_of(customer: Customer) -> CustomerRow:
    """The row of a customer loaded through the ORM (by the write paths)."""
    return cast(CustomerRow, {key: getattr(customer, key) for key in _KEYS})


@dataclass(frozen=True, slots=True)
class ById:
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ByExternalId:
    external_id: str


Lookup = ById | ByExternalId
"""How a route names one customer: by its id or by the id it has in the client's system."""

_CRITERIA: dict[type[Lookup], ColumnElement[bool]] = {
    ById: Customer.id == bindparam("id"),
    ByExternalId: Customer.external_id == bindparam("external_id"),
}
# At most two: one external id can be in several of a user's organizations, and two are
# enough to tell that it is ambiguous.
LookupReads = Mapping[type[Lookup], RawQuery]


def lookup_reads(*columns: Label[Any]) -> LookupReads:
    """The reads of `read`, one per kind of lookup, each row with these columns as well
    (expressions of the customer's row, such as correlated subqueries)."""
    return {
        kind: RawQuery(select(*CUSTOMER_COLUMNS, *columns).where(_VISIBLE, criterion).limit(2))
        for kind, criterion in _CRITERIA.items()
    }


READS = lookup_reads()
"""The customer's columns only."""
# Locked until the transaction ends, so that concurrent writes to one customer apply one
# after the other, each seeing the last (SQLite already serializes writers).
_LOCKS = {
    kind: select(Customer).where(_VISIBLE, criterion).limit(2).with_for_update()
    for kind, criterion in _CRITERIA.items()
}


def _lookup_parameters(organization_ids: OrganizationIds, lookup: Lookup) -> dict[str, Any] | None:
    """The statement parameters of `lookup`; None when no stored row can match it."""
    if isinstance(lookup, ById):
        return {**tenant_parameters(organization_ids), "id": lookup.id}
    if not is_storable(lookup.external_id):
        return None
    return {**tenant_parameters(organization_ids), "external_id": lookup.external_id}


async def read(
    connection: RawConnection,
    organization_ids: OrganizationIds,
    lookup: Lookup,
    reads: LookupReads = READS,
) -> list[CustomerRow]:
    """The live customers `lookup` names (at most two), without the ORM: for responses."""
    parameters = _lookup_parameters(organization_ids, lookup)
    if parameters is None:
        return []
    rows = await connection.fetch_mappings(reads[type(lookup)], **parameters)
    return cast(list[CustomerRow], rows)


_READ_MANY = RawQuery(
    select(*CUSTOMER_COLUMNS).where(
        Customer.organization_id.in_(bindparam("organization_ids", expanding=True)),
        Customer.id.in_(bindparam("ids", expanding=True)),
    )
)


async def read_many(
    connection: RawConnection, organization_ids: OrganizationIds, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CustomerRow]:
    """The customers with these ids, deleted ones too, by id: for the responses of other
    resources that embed their customer (a subscription outlives its customer's deletion)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await connection.fetch_mappings(
        _READ_MANY, organization_ids=list(organization_ids), ids=wanted
    )
    return {row["id"]: cast(CustomerRow, row) for row in rows}


async def lock(
    session: AsyncSession, organization_ids: OrganizationIds, lookup: Lookup
) -> Sequence[Customer]:
    """The live customers `lookup` names (at most two), locked until the transaction ends:
    for writes."""
    parameters = _lookup_parameters(organization_ids, lookup)
    if parameters is None:
        return []
    return (await session.scalars(_LOCKS[type(lookup)], parameters)).all()


async def email_taken(session: AsyncSession, organization_ids: OrganizationIds, email: str) -> bool:
    """Whether a live customer of these organizations has this email, whatever its case."""
    statement = select(Customer.id).where(_VISIBLE, func.lower(Customer.email) == email.lower())
    taken = await session.scalar(select(statement.exists()), tenant_parameters(organization_ids))
    return bool(taken)


async def external_id_taken(
    session: AsyncSession, organization_ids: OrganizationIds, external_id: str
) -> bool:
    # Deleted customers have no external id: they free it (see service.delete_customer).
    statement = select(Customer.id).where(_VISIBLE, Customer.external_id == external_id)
    taken = await session.scalar(select(statement.exists()), tenant_parameters(organization_ids))
    return bool(taken)


# Lists ---------------------------------------------------------------------------------------

_SORT_COLUMNS: dict[str, Any] = {
    "created_at": Customer.created_at,
    "email": Customer.email,
    "name": Customer.name,
}


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _case_insensitive_like(
    column: InstrumentedAttribute[Any], pattern: str, dialect: str
) -> ColumnElement[bool]:
    # SQLite's LIKE already ignores (ASCII) case; ILIKE would wrap every row in lower().
    if dialect == "sqlite":
        return column.like(pattern, escape="\\")
    return column.ilike(pattern, escape="\\")


# A customer is active with at least one subscription that is billed (trialing, active or
# past due).
_BILLED = (SubscriptionStatus.trialing, SubscriptionStatus.active, SubscriptionStatus.past_due)
_HAS_BILLED_SUBSCRIPTION = (
    select(Subscription.id)
    .where(
        Subscription.organization_id == Customer.organization_id,
        Subscription.customer_id == Customer.id,
        Subscription.deleted_at.is_(None),
        or_(*(Subscription.status == status for status in _BILLED)),
    )
    .exists()
)


def list_statement(
    *,
    dialect: str,
    email: str | None = None,
    query: str | None = None,
    metadata: dict[str, list[str]] | None = None,
    active: bool | None = None,
) -> Select[Any]:
    """The visible customers that match the list filters. `query` matches a substring of
    email or name, or an external id prefix, with LIKE wildcards taken literally
    (docs/decisions.md#d2)."""
    statement = select(*CUSTOMER_COLUMNS).where(_VISIBLE)
    searched = [email or "", query or ""]
    searched += [text for key, values in (metadata or {}).items() for text in (key, *values)]
    if not all(is_storable(text) for text in searched):
        return statement.where(false())  # nothing stored can contain what cannot be stored
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
    if active is not None:
        statement = statement.where(
            _HAS_BILLED_SUBSCRIPTION if active else ~_HAS_BILLED_SUBSCRIPTION
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
    # A unique tie-breaker keeps pages stable when sort keys repeat (docs/decisions.md#d15).
    clauses.append(Customer.id.desc() if sorting and sorting[-1].descending else Customer.id.asc())
    return clauses


async def paginate(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[CustomerRow], int]:
    """One page of `statement` and the total count of its rows.

    The page comes from the sorted index alone; the total is counted separately, and only
    when the page cannot tell it (a full page, or one past the end): a window count would
    read every matching row in full for each page. A page past the end still counts the
    total (docs/decisions.md#d4).
    """
    parameters = tenant_parameters(organization_ids)
    count = select(func.count()).select_from(statement.subquery())
    if pagination.offset > MAX_OFFSET:
        return [], int(await session.scalar(count, parameters) or 0)
    page = statement.order_by(*_order_by(sorting)).limit(pagination.limit)
    result = await session.execute(page.offset(pagination.offset), parameters)
    items = cast(list[CustomerRow], [dict(row) for row in result.mappings()])
    if 0 < len(items) < pagination.limit or (pagination.page == 1 and not items):
        return items, pagination.offset + len(items)
    return items, int(await session.scalar(count, parameters) or 0)


# Export --------------------------------------------------------------------------------------

# 5,000 rows (about 1 MB of CSV): fewer, larger batches cost less per row (1,000,000 customers
# on SQLite: 16.3 s in batches of 1,000, 12.5 s in batches of 5,000), and stay small in memory.
EXPORT_BATCH_SIZE = 5000
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
    sql_cast(Customer.user_metadata, String).label("metadata_json"),
)
"""The export's cells as text, formatted and extracted from the JSON documents by the
database (much faster than converting them in Python); metadata comes as the stored JSON."""

ExportKey = tuple[datetime, uuid.UUID]
"""Where an export batch ends: the creation time and id of its last customer."""
_EXPORT_ORDER = (Customer.created_at, Customer.id)
_AFTER = tuple_(*_EXPORT_ORDER) > tuple_(
    bindparam("after_created_at", type_=Customer.created_at.type),
    bindparam("after_id", type_=Customer.id.type),
)


def _export_queries(columns: Sequence[Any]) -> dict[bool, RawQuery]:
    """The first batch and the next ones, keyed by "after a key?"."""
    statement = (
        select(*columns).where(_VISIBLE).order_by(*_EXPORT_ORDER).limit(bindparam("batch_size"))
    )
    return {False: RawQuery(statement), True: RawQuery(statement.where(_AFTER))}


EXPORT_QUERIES = {True: _export_queries(CSV_COLUMNS), False: _export_queries(CUSTOMER_COLUMNS)}
"""The export's queries, by "CSV?" then "after a key?"."""


async def export_batch(
    connection: RawConnection,
    organization_ids: OrganizationIds,
    *,
    csv: bool,
    after: ExportKey | None,
    batch_size: int = EXPORT_BATCH_SIZE,
) -> tuple[list[Any], ExportKey | None]:
    """Up to `batch_size` visible customers created after `after` (all from the first),
    oldest first: rows of `CSV_COLUMNS` for the CSV, else `CustomerRow`s; and the key to read
    the next batch after (None when this one was the last).

    One short query per batch, so that a slow reader of the export never holds a connection
    (docs/decisions.md#d26)."""
    query = EXPORT_QUERIES[csv][after is not None]
    parameters = {**tenant_parameters(organization_ids), "batch_size": batch_size}
    if after is not None:
        parameters.update(after_created_at=after[0], after_id=after[1])
    async with connection.index_order():
        rows = await connection.fetch(query, **parameters)
    full = len(rows) == batch_size
    if csv:  # the key as the CSV cells write it (`CSV_COLUMNS`: id first, created_at third)
        key = (datetime.fromisoformat(rows[-1][2]), uuid.UUID(rows[-1][0])) if full else None
        return rows, key
    customers = [dict(zip(query.names, row, strict=True)) for row in rows]
    return customers, (customers[-1]["created_at"], customers[-1]["id"]) if full else None
