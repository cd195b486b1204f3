"""SQL for meters and customer meters. Every query is bound to the caller's organizations
(kit/tenancy.py); reads give `MeterRow`s and `CustomerMeterRow`s, whatever path fetched them."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, ScalarSelect, Select, and_, bindparam, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.customers.repository import CUSTOMER_COLUMNS, CustomerRow
from polar_customers.kit.metadata import metadata_matches
from polar_customers.kit.pagination import MAX_OFFSET, PaginationParams
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.schemas import is_storable, matchable
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.sql_json import column_values, json_array, schema_columns
from polar_customers.kit.tenancy import OrganizationIds, live_rows, tenant_parameters
from polar_customers.meters.schemas import CustomerStateMeter
from polar_customers.models import (
    Benefit,
    Customer,
    CustomerMeter,
    Meter,
    Product,
    ProductPrice,
)


class MeterRow(TypedDict):
    """A meter as every read gives it: its columns, by attribute name."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    name: str
    filter: dict[str, Any]
    aggregation: dict[str, Any]
    archived_at: datetime | None
    user_metadata: dict[str, Any]


class CustomerMeterRow(TypedDict):
    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    customer_id: uuid.UUID
    meter_id: uuid.UUID
    consumed_units: float
    credited_units: int
    balance: float
    event_count: int
    value_sum: float


class CustomerMeterFull(CustomerMeterRow):
    """A customer meter with the rows of its customer and meter, as its responses show it."""

    customer: CustomerRow
    meter: MeterRow


METER_COLUMNS = attribute_columns(Meter)
_METER_KEYS = tuple(column.key for column in METER_COLUMNS)
_VISIBLE = live_rows(Meter)
"""The one tenancy predicate of meters: live meters of the caller's organizations."""


def row_of(meter: Meter) -> MeterRow:
    return cast(MeterRow, {key: getattr(meter, key) for key in _METER_KEYS})


_READ = RawQuery(select(*METER_COLUMNS).where(_VISIBLE, Meter.id == bindparam("id")))


async def read(
    connection: RawConnection, organization_ids: OrganizationIds, meter_id: uuid.UUID
) -> MeterRow | None:
    rows = await connection.fetch_mappings(
        _READ, **tenant_parameters(organization_ids), id=meter_id
    )
    return cast(MeterRow, rows[0]) if rows else None


async def get(
    session: AsyncSession, organization_ids: OrganizationIds, meter_id: uuid.UUID
) -> MeterRow | None:
    """Like `read`, in a session (for reads within a write or a list)."""
    statement = select(*METER_COLUMNS).where(_VISIBLE, Meter.id == meter_id)
    row = (await session.execute(statement, tenant_parameters(organization_ids))).mappings().first()
    return cast(MeterRow, dict(row)) if row is not None else None


async def lock(
    session: AsyncSession, organization_ids: OrganizationIds, meter_id: uuid.UUID
) -> Meter | None:
    statement = select(Meter).where(_VISIBLE, Meter.id == meter_id).with_for_update()
    found: Meter | None = await session.scalar(statement, tenant_parameters(organization_ids))
    return found


_LIVE_OF_ORGANIZATION = RawQuery(
    select(*METER_COLUMNS)
    .where(
        Meter.organization_id == bindparam("organization_id"),
        Meter.deleted_at.is_(None),
        Meter.archived_at.is_(None),
    )
    .order_by(Meter.created_at, Meter.id)
)


async def active_meters(connection: RawConnection, organization_id: uuid.UUID) -> list[MeterRow]:
    """The organization's live, unarchived meters: those that count ingested events."""
    rows = await connection.fetch_mappings(_LIVE_OF_ORGANIZATION, organization_id=organization_id)
    return cast(list[MeterRow], rows)


_BY_IDS = RawQuery(
    select(*METER_COLUMNS).where(
        Meter.organization_id == bindparam("organization_id"),
        Meter.id.in_(bindparam("ids", expanding=True)),
    )
)


async def load_meters(
    connection: RawConnection, organization_id: uuid.UUID, meter_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MeterRow]:
    """The organization's meters with these ids (archived or deleted too), by id, in one query:
    for the responses that embed meters."""
    if not meter_ids:
        return {}
    rows = await connection.fetch_mappings(
        _BY_IDS, organization_id=organization_id, ids=sorted(set(meter_ids))
    )
    return {row["id"]: cast(MeterRow, row) for row in rows}


# Lists ----------------------------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def meters_statement(
    *,
    dialect: str,
    query: str | None,
    is_archived: bool | None,
    metadata: dict[str, list[str]],
) -> Select[Any]:
    """The visible meters matching the list filters; `query` is a case-insensitive substring
    of the name, wildcards taken literally (as customers' `query`)."""
    statement = select(*METER_COLUMNS).where(_VISIBLE)
    searched = [query or ""] + [text for key, values in metadata.items() for text in (key, *values)]
    if not all(is_storable(text) for text in searched):
        return statement.where(false())
    if query is not None:
        pattern = f"%{_escape_like(query)}%"
        name = Meter.name
        statement = statement.where(
            name.like(pattern, escape="\\")
            if dialect == "sqlite"
            else name.ilike(pattern, escape="\\")
        )
    if is_archived is not None:
        archived = Meter.archived_at.is_not(None) if is_archived else Meter.archived_at.is_(None)
        statement = statement.where(archived)
    for key, values in metadata.items():
        statement = statement.where(
            metadata_matches(Meter.user_metadata, key, values, dialect=dialect)
        )
    return statement


def order_by(
    sorting: Sequence[SortCriterion], columns: dict[str, Any], tie_breaker: Any
) -> list[Any]:
    """ORDER BY clauses: NULLs last ascending and first descending on both engines, then
    the id in the last criterion's direction (pages stay stable when sort keys repeat)."""
    clauses = []
    for criterion in sorting:
        column = columns[criterion.property]
        clauses.append(
            column.desc().nulls_first() if criterion.descending else column.asc().nulls_last()
        )
    descending = bool(sorting) and sorting[-1].descending
    clauses.append(tie_breaker.desc() if descending else tie_breaker.asc())
    return clauses


async def page(
    session: AsyncSession,
    statement: Select[Any],
    parameters: dict[str, Any],
    *,
    pagination: PaginationParams,
    order: Sequence[Any],
) -> tuple[list[dict[str, Any]], int]:
    """One page of `statement` in `order` and the count of all its rows (counted only when the
    page cannot tell it)."""
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    if pagination.offset > MAX_OFFSET:
        return [], int(await session.scalar(count, parameters) or 0)
    paged = statement.order_by(*order).limit(pagination.limit).offset(pagination.offset)
    items = [dict(row) for row in (await session.execute(paged, parameters)).mappings()]
    if 0 < len(items) < pagination.limit or (pagination.page == 1 and not items):
        return items, pagination.offset + len(items)
    return items, int(await session.scalar(count, parameters) or 0)


_METER_SORT = {"created_at": Meter.created_at, "name": Meter.name}


async def page_meters(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[MeterRow], int]:
    rows, total = await page(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=order_by(sorting, _METER_SORT, Meter.id),
    )
    return cast(list[MeterRow], rows), total


# Rules of updates -----------------------------------------------------------------------------


async def has_counted_events(session: AsyncSession, meter: Meter) -> bool:
    """Whether any event was counted by the meter (its definition is then fixed)."""
    statement = select(CustomerMeter.id).where(
        CustomerMeter.organization_id == meter.organization_id,
        CustomerMeter.meter_id == meter.id,
        CustomerMeter.event_count > 0,
    )
    return bool(await session.scalar(select(statement.exists())))


async def in_active_prices(session: AsyncSession, meter: Meter) -> bool:
    """Whether an unarchived price of an unarchived product bills by the meter."""
    statement = (
        select(ProductPrice.id)
        .join(Product, Product.id == ProductPrice.product_id)
        .where(
            ProductPrice.organization_id == meter.organization_id,
            ProductPrice.meter_id == meter.id,
            ProductPrice.is_archived.is_(False),
            ProductPrice.deleted_at.is_(None),
            Product.is_archived.is_(False),
            Product.deleted_at.is_(None),
        )
    )
    return bool(await session.scalar(select(statement.exists())))


async def in_active_benefits(session: AsyncSession, meter: Meter) -> bool:
    """Whether a live meter credit benefit credits the meter."""
    statement = select(Benefit.id).where(
        Benefit.organization_id == meter.organization_id,
        Benefit.type == "meter_credit",
        Benefit.deleted_at.is_(None),
        Benefit.properties["meter_id"].as_string() == str(meter.id),
    )
    return bool(await session.scalar(select(statement.exists())))


# Customer meters ------------------------------------------------------------------------------

CUSTOMER_METER_COLUMNS = attribute_columns(CustomerMeter)
_CUSTOMER_METER_VISIBLE = live_rows(CustomerMeter)


def active_state_json(organization_id: Any, customer_id: Any) -> ScalarSelect[str]:
    """The customer's live meter totals as the JSON array of its state's `active_meters`
    (kit/sql_json.py), oldest first."""
    return json_array(
        select(
            *schema_columns(CustomerStateMeter, column_values(CustomerMeter, CustomerStateMeter))
        )
        .where(
            CustomerMeter.organization_id == organization_id,
            CustomerMeter.customer_id == customer_id,
            CustomerMeter.deleted_at.is_(None),
        )
        .order_by(CustomerMeter.created_at, CustomerMeter.id)
    )


_CUSTOMER_METER_READ = RawQuery(
    select(*CUSTOMER_METER_COLUMNS).where(
        _CUSTOMER_METER_VISIBLE, CustomerMeter.id == bindparam("id")
    )
)
_CUSTOMERS_BY_IDS = RawQuery(
    select(*CUSTOMER_COLUMNS).where(
        Customer.organization_id == bindparam("organization_id"),
        Customer.id.in_(bindparam("ids", expanding=True)),
    )
)


async def load_customers(
    connection: RawConnection, organization_id: uuid.UUID, customer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CustomerRow]:
    """The organization's customers with these ids (deleted ones too), by id, in one query."""
    if not customer_ids:
        return {}
    rows = await connection.fetch_mappings(
        _CUSTOMERS_BY_IDS, organization_id=organization_id, ids=sorted(set(customer_ids))
    )
    return {row["id"]: cast(CustomerRow, row) for row in rows}


async def read_customer_meter(
    connection: RawConnection, organization_ids: OrganizationIds, customer_meter_id: uuid.UUID
) -> CustomerMeterFull | None:
    rows = await connection.fetch_mappings(
        _CUSTOMER_METER_READ, **tenant_parameters(organization_ids), id=customer_meter_id
    )
    if not rows:
        return None
    [full] = await embed(connection, cast(list[CustomerMeterRow], rows))
    return full


async def embed(
    connection: RawConnection, rows: Sequence[CustomerMeterRow]
) -> list[CustomerMeterFull]:
    """The rows with their customers and meters (two queries per organization)."""
    customers: dict[uuid.UUID, CustomerRow] = {}
    meters: dict[uuid.UUID, MeterRow] = {}
    for organization_id in {row["organization_id"] for row in rows}:
        of_organization = [row for row in rows if row["organization_id"] == organization_id]
        customers |= await load_customers(
            connection, organization_id, [row["customer_id"] for row in of_organization]
        )
        meters |= await load_meters(
            connection, organization_id, [row["meter_id"] for row in of_organization]
        )
    return [
        cast(
            CustomerMeterFull,
            {**row, "customer": customers[row["customer_id"]], "meter": meters[row["meter_id"]]},
        )
        for row in rows
    ]


def customer_meters_statement(
    *,
    customer_ids: Sequence[uuid.UUID] | None,
    external_customer_ids: Sequence[str] | None,
    meter_ids: Sequence[uuid.UUID] | None,
) -> Select[Any]:
    """The visible customer meters matching the list filters; those of archived meters only
    when meters are named (as Polar)."""
    statement = (
        select(*CUSTOMER_METER_COLUMNS)
        .join(
            Customer,
            and_(
                Customer.id == CustomerMeter.customer_id,
                Customer.organization_id == CustomerMeter.organization_id,
            ),
        )
        .join(
            Meter,
            and_(
                Meter.id == CustomerMeter.meter_id,
                Meter.organization_id == CustomerMeter.organization_id,
            ),
        )
        .where(_CUSTOMER_METER_VISIBLE)
    )
    if customer_ids is not None:
        statement = statement.where(CustomerMeter.customer_id.in_(customer_ids))
    if external_customer_ids is not None:
        statement = statement.where(Customer.external_id.in_(matchable(external_customer_ids)))
    if meter_ids is not None:
        statement = statement.where(CustomerMeter.meter_id.in_(meter_ids))
    else:
        statement = statement.where(Meter.archived_at.is_(None))
    return statement


_CUSTOMER_METER_SORT: dict[str, ColumnElement[Any] | Any] = {
    "created_at": CustomerMeter.created_at,
    "modified_at": CustomerMeter.modified_at,
    "customer_id": CustomerMeter.customer_id,
    "customer_name": Customer.name,
    "meter_id": CustomerMeter.meter_id,
    "meter_name": Meter.name,
    "consumed_units": CustomerMeter.consumed_units,
    "credited_units": CustomerMeter.credited_units,
    "balance": CustomerMeter.balance,
}


async def page_customer_meters(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[CustomerMeterRow], int]:
    rows, total = await page(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=order_by(sorting, _CUSTOMER_METER_SORT, CustomerMeter.id),
    )
    return cast(list[CustomerMeterRow], rows), total
