"""SQL for events: the batch insert of ingestion, the customers a batch names, and the reads.
Every read is bound to the caller's organizations and gives `EventRow`s."""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypedDict, cast

from sqlalchemy import ColumnElement, Select, bindparam, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.customers.repository import CUSTOMER_COLUMNS, CustomerRow
from polar_customers.kit.metadata import metadata_matches
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.schemas import is_storable
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import TENANTS, OrganizationIds, tenant_parameters
from polar_customers.meters.driver import Driver, new_hex_ids
from polar_customers.meters.repository import order_by, page
from polar_customers.models import Customer, Event, EventSource


class EventRow(TypedDict):
    id: uuid.UUID
    organization_id: uuid.UUID
    ingested_at: datetime
    timestamp: datetime
    name: str
    source: str
    customer_id: uuid.UUID | None
    external_customer_id: str | None
    user_metadata: dict[str, Any]


class EventFull(EventRow):
    """An event with its customer's row: by its id, or else the live customer that has its
    external id (as Polar relates them)."""

    customer: CustomerRow | None


EVENT_COLUMNS = attribute_columns(Event)
_VISIBLE = Event.organization_id.in_(bindparam(TENANTS, expanding=True))
"""The tenancy predicate of events (append-only: none is ever deleted)."""


# Ingestion ------------------------------------------------------------------------------------


class KnownCustomer(NamedTuple):
    id: uuid.UUID
    organization_id: uuid.UUID
    external_id: str | None
    first_user_event_at: datetime | None


_CUSTOMER_FIELDS = ", ".join(
    f"customers.{field}"
    for field in ("id", "organization_id", "external_id", "first_user_event_at")
)


async def find_customers(
    driver: Driver,
    organization_ids: OrganizationIds,
    *,
    ids: Sequence[uuid.UUID],
    external_ids: Sequence[str],
) -> list[KnownCustomer]:
    """The live customers of these organizations with these ids or external ids."""
    if not ids and not external_ids:
        return []
    # Two lookups, one index probe per value (the primary key; the unique (organization,
    # external id)), in one round trip; a customer may come from both.
    # On SQLite, which has no statistics, a unary `+` keeps it from reading every live
    # customer through the `deleted_at` index.
    deleted_at = "customers.deleted_at" if driver.postgresql else "+customers.deleted_at"
    live = f"{driver.member_of('customers.organization_id', '$1')} AND {deleted_at} IS NULL"
    if driver.postgresql:
        # A probe per value, external ids with their organization: joined or tested with
        # `= ANY`, PostgreSQL scans the table once the lists are long, or looks external ids up
        # in the trigram index (a hundred times slower). `LIMIT 1` keeps each probe a probe.
        pairs = [(org, external) for org in organization_ids for external in external_ids]
        probe = (
            "SELECT c.* FROM {} CROSS JOIN LATERAL "
            f"(SELECT {_CUSTOMER_FIELDS} FROM customers WHERE {{}} AND {live} LIMIT 1) AS c"
        )
        sql = (
            probe.format("unnest($2::uuid[]) AS i(id)", "customers.id = i.id")
            + " UNION ALL "
            + probe.format(
                "unnest($3::uuid[], $4::text[]) AS e(organization_id, external_id)",
                "customers.organization_id = e.organization_id "
                "AND customers.external_id = e.external_id",
            )
        )
        parameters: tuple[Any, ...] = (
            [org for org, _ in pairs],
            [external for _, external in pairs],
        )
    else:
        # SQLite looks each value of an `IN` list up in the index.
        sql = (
            f"SELECT {_CUSTOMER_FIELDS} FROM customers WHERE {live} AND "
            f"{driver.member_of('customers.id', '$2')} UNION ALL "
            f"SELECT {_CUSTOMER_FIELDS} FROM customers WHERE {live} AND "
            f"{driver.member_of('customers.external_id', '$3')}"
        )
        parameters = (driver.texts(external_ids),)
    rows = await driver.fetch(sql, driver.uids(organization_ids), driver.uids(ids), *parameters)
    if not driver.postgresql:  # asyncpg reads uuids and times as Python's
        rows = [
            (
                driver.read_uuid(id),
                driver.read_uuid(organization_id),
                external_id,
                None if first is None else driver.read_time(first),
            )
            for id, organization_id, external_id, first in rows
        ]
    found = {row[0]: KnownCustomer(*row) for row in rows}
    return list(found.values())


class NewEvent(NamedTuple):
    """An event to store; its id is made as it is inserted (a tuple: made per event)."""

    organization_id: uuid.UUID
    timestamp: datetime
    name: str
    customer_id: uuid.UUID | None
    external_customer_id: str | None
    metadata: dict[str, Any]


_INSERT = (
    "INSERT INTO events (id, organization_id, ingested_at, timestamp, name, source, "
    "customer_id, external_customer_id, user_metadata) "
)


async def insert_events(
    driver: Driver,
    organization_id: uuid.UUID,
    events: Sequence[NewEvent],
    *,
    source: str = EventSource.user,
    now: datetime,
) -> None:
    """Store events of one organization and source in one statement (on SQLite, one per
    event, in one call)."""
    if driver.postgresql:
        # The metadata as one JSON array, split by the server: one `dumps` instead of one per
        # event.
        await driver.execute(
            _INSERT + "SELECT gen_random_uuid(), $1::uuid, $2::timestamptz, u.timestamp, u.name, "
            "$3, u.customer_id, u.external_customer_id, m.value "
            "FROM unnest($4::timestamptz[], $5::text[], $6::uuid[], $7::text[]) WITH ORDINALITY "
            "AS u(timestamp, name, customer_id, external_customer_id, n) "
            "JOIN jsonb_array_elements($8::jsonb) WITH ORDINALITY AS m(value, n) USING (n)",
            organization_id,
            now,
            source,
            [event.timestamp for event in events],
            [event.name for event in events],
            [event.customer_id for event in events],
            [event.external_customer_id for event in events],
            json.dumps([event.metadata for event in events], separators=(",", ":")),
        )
        return
    documents = [json.dumps(event.metadata, separators=(",", ":")) for event in events]
    organization, ingested_at = organization_id.hex, driver.time(now)
    await driver.executemany(
        _INSERT + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        [
            (
                new_id,
                organization,
                ingested_at,
                driver.time(event.timestamp),
                event.name,
                source,
                None if event.customer_id is None else event.customer_id.hex,
                event.external_customer_id,
                document,
            )
            for new_id, event, document in zip(
                new_hex_ids(len(events)), events, documents, strict=True
            )
        ],
    )


# Reads ----------------------------------------------------------------------------------------

_READ = RawQuery(select(*EVENT_COLUMNS).where(_VISIBLE, Event.id == bindparam("id")))


async def read(
    connection: RawConnection, organization_ids: OrganizationIds, event_id: uuid.UUID
) -> EventFull | None:
    rows = await connection.fetch_mappings(
        _READ, **tenant_parameters(organization_ids), id=event_id
    )
    if not rows:
        return None
    [full] = await embed_customers(connection, cast(list[EventRow], rows))
    return full


_CUSTOMERS_BY_ID = RawQuery(
    select(*CUSTOMER_COLUMNS).where(
        Customer.organization_id == bindparam("organization_id"),
        Customer.id.in_(bindparam("ids", expanding=True)),
    )
)
_CUSTOMERS_BY_EXTERNAL_ID = RawQuery(
    select(*CUSTOMER_COLUMNS).where(
        Customer.organization_id == bindparam("organization_id"),
        Customer.external_id.in_(bindparam("external_ids", expanding=True)),
        Customer.deleted_at.is_(None),
    )
)


async def embed_customers(connection: RawConnection, rows: Sequence[EventRow]) -> list[EventFull]:
    """The events with their customers (at most two queries per organization)."""
    by_id: dict[uuid.UUID, CustomerRow] = {}
    by_external_id: dict[tuple[uuid.UUID, str], CustomerRow] = {}
    for organization_id in {row["organization_id"] for row in rows}:
        of_organization = [row for row in rows if row["organization_id"] == organization_id]
        ids = sorted({row["customer_id"] for row in of_organization if row["customer_id"]})
        external_ids = sorted(
            {
                row["external_customer_id"]
                for row in of_organization
                if row["customer_id"] is None and row["external_customer_id"] is not None
            }
        )
        if ids:
            for customer in await connection.fetch_mappings(
                _CUSTOMERS_BY_ID, organization_id=organization_id, ids=ids
            ):
                by_id[customer["id"]] = cast(CustomerRow, customer)
        if external_ids:
            for customer in await connection.fetch_mappings(
                _CUSTOMERS_BY_EXTERNAL_ID,
                organization_id=organization_id,
                external_ids=external_ids,
            ):
                key = (organization_id, customer["external_id"])
                by_external_id[key] = cast(CustomerRow, customer)
    return [
        cast(EventFull, {**row, "customer": _customer_of(row, by_id, by_external_id)})
        for row in rows
    ]


def _customer_of(
    row: EventRow,
    by_id: dict[uuid.UUID, CustomerRow],
    by_external_id: dict[tuple[uuid.UUID, str], CustomerRow],
) -> CustomerRow | None:
    if row["customer_id"] is not None:
        return by_id.get(row["customer_id"])
    if row["external_customer_id"] is None:
        return None
    return by_external_id.get((row["organization_id"], row["external_customer_id"]))


def customer_clause(
    customer_ids: Sequence[uuid.UUID] | None, external_customer_ids: Sequence[str] | None
) -> ColumnElement[bool] | None:
    """Events of these customers (by id or external id), whichever of the two the events
    were ingested with."""
    clauses: list[ColumnElement[bool]] = []
    same_organization = Customer.organization_id == Event.organization_id
    if customer_ids is not None:
        external = select(Customer.external_id).where(
            same_organization, Customer.id.in_(customer_ids), Customer.external_id.is_not(None)
        )
        clauses += [Event.customer_id.in_(customer_ids), Event.external_customer_id.in_(external)]
    if external_customer_ids is not None:
        values = [value for value in external_customer_ids if is_storable(value)]
        ids = select(Customer.id).where(same_organization, Customer.external_id.in_(values))
        clauses += [Event.external_customer_id.in_(values), Event.customer_id.in_(ids)]
    return or_(*clauses) if clauses else None


@dataclass(frozen=True, slots=True)
class EventFilters:
    start_timestamp: datetime | None = None
    end_timestamp: datetime | None = None
    customer_ids: Sequence[uuid.UUID] | None = None
    external_customer_ids: Sequence[str] | None = None
    names: Sequence[str] | None = None
    sources: Sequence[str] | None = None
    metadata: dict[str, list[str]] | None = None
    clauses: Sequence[ColumnElement[bool]] = ()
    """Meter filters and aggregations, as SQL (meters/filter_sql.py)."""


def events_statement(filters: EventFilters, *, dialect: str) -> Select[Any]:
    statement = select(*EVENT_COLUMNS).where(_VISIBLE, *filters.clauses)
    if filters.start_timestamp is not None:
        statement = statement.where(Event.timestamp > filters.start_timestamp)
    if filters.end_timestamp is not None:
        statement = statement.where(Event.timestamp < filters.end_timestamp)
    customers = customer_clause(filters.customer_ids, filters.external_customer_ids)
    if customers is not None:
        statement = statement.where(customers)
    if filters.names is not None:
        statement = statement.where(Event.name.in_([n for n in filters.names if is_storable(n)]))
    if filters.sources is not None:
        statement = statement.where(Event.source.in_(filters.sources))
    for key, values in (filters.metadata or {}).items():
        if not all(is_storable(text) for text in (key, *values)):
            return statement.where(false())
        statement = statement.where(
            metadata_matches(Event.user_metadata, key, values, dialect=dialect)
        )
    return statement


async def page_events(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[EventRow], int]:
    rows, total = await page(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=order_by(sorting, {"timestamp": Event.timestamp}, Event.id),
    )
    return cast(list[EventRow], rows), total


# Names ----------------------------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def names_statement(
    *,
    dialect: str,
    customer_clause: ColumnElement[bool] | None,
    sources: Sequence[str] | None,
    query: str | None,
) -> Select[Any]:
    """Each event name (and source) of the visible events, with how often and when it
    occurred first and last."""
    statement = select(
        Event.name.label("name"),
        Event.source.label("source"),
        func.count().label("occurrences"),
        func.min(Event.timestamp).label("first_seen"),
        func.max(Event.timestamp).label("last_seen"),
    ).where(_VISIBLE)
    if customer_clause is not None:
        statement = statement.where(customer_clause)
    if sources is not None:
        statement = statement.where(Event.source.in_(sources))
    if query is not None:
        if not is_storable(query):
            return statement.where(false()).group_by(Event.name, Event.source)
        pattern = f"%{_escape_like(query)}%"
        name = Event.name
        statement = statement.where(
            name.like(pattern, escape="\\")
            if dialect == "sqlite"
            else name.ilike(pattern, escape="\\")
        )
    return statement.group_by(Event.name, Event.source)


async def page_names(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[dict[str, Any]], int]:
    grouped = statement.subquery("names")
    columns = {key: grouped.c[key] for key in ("name", "occurrences", "first_seen", "last_seen")}
    ordered = select(grouped)
    return await page(
        session,
        ordered,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=[*order_by(sorting, columns, grouped.c.name)[:-1], grouped.c.name, grouped.c.source],
    )
