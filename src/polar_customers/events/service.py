"""Every event rule that needs the database. Ingestion stores a batch and moves the running
totals of the meters it matches in the same transaction (meters/totals.py,
docs/decisions.md#d42); services flush, the request commits."""

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.customers import service as customers_service
from polar_customers.errors import (
    PolarRequestValidationError,
    ResourceNotFound,
    ValidationErrorItem,
)
from polar_customers.events import repository
from polar_customers.events.repository import (
    EventFilters,
    EventFull,
    KnownCustomer,
    NewEvent,
)
from polar_customers.events.schemas import (
    EventCreate,
    EventCreateCustomer,
    EventCreateExternalCustomer,
)
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection, borrow
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.meters import filter_sql, tally, totals
from polar_customers.meters import repository as meters_repository
from polar_customers.meters.driver import Driver, driver_of
from polar_customers.meters.matching import EventFacts
from polar_customers.meters.schemas import AGGREGATION, Filter
from polar_customers.models import EventSource

ORGANIZATION_TOKEN = "Setting organization_id is disallowed when using an organization token."


def _error(index: int, field: str, kind: str, msg: str, value: Any) -> ValidationErrorItem:
    return {"type": kind, "loc": ("body", "events", index, field), "msg": msg, "input": value}


def _organization_of(
    principal: Principal, index: int, requested: uuid.UUID | None
) -> uuid.UUID | ValidationErrorItem:
    """The organization an event goes to: the token's, or the one a personal token names (or
    selects with `Polar-Organization`)."""
    if principal.is_organization:
        if requested is not None:
            return _error(
                index, "organization_id", "organization_token", ORGANIZATION_TOKEN, str(requested)
            )
        return principal.organization_ids[0]
    if requested is None:
        if principal.selected:
            return principal.organization_ids[0]
        return _error(index, "organization_id", "missing", "organization_id is required.", None)
    if requested not in principal.organization_ids:
        return _error(
            index, "organization_id", "organization_id", "Organization not found.", str(requested)
        )
    return requested


async def ingest(
    session: AsyncSession, principal: Principal, events: Sequence[EventCreate], *, now: datetime
) -> int:
    """Store the events (all of them, or none and the errors of each refused one) and count
    them in the meters they match."""
    driver = await driver_of(session)
    ids: set[uuid.UUID] = set()
    external_ids: set[str] = set()
    for event in events:
        if type(event) is EventCreateCustomer:
            ids.add(event.customer_id)
        elif isinstance(event, EventCreateExternalCustomer):
            external_ids.add(event.external_customer_id)
    known = await repository.find_customers(
        driver, principal.organization_ids, ids=list(ids), external_ids=list(external_ids)
    )
    rows, errors = _resolve(principal, events, Customers(known))
    if errors:
        raise PolarRequestValidationError(errors)
    for organization_id in sorted({row.organization_id for row in rows}):
        of_organization = [row for row in rows if row.organization_id == organization_id]
        await repository.insert_events(driver, organization_id, of_organization, now=now)
        await _note_first_events(session, organization_id, of_organization, known)
        # Last: from its first lock of a running total to its commit, a batch makes
        # concurrent batches of the same customers wait (meters/totals_postgresql.py).
        await _count(session, driver, organization_id, of_organization, now=now)
    return len(rows)


class Customers:
    """The live customers a batch names, by id and by (organization, external id)."""

    def __init__(self, known: Sequence[KnownCustomer]) -> None:
        self.by_id = {customer.id: customer for customer in known}
        self.by_external_id = {
            (customer.organization_id, customer.external_id): customer
            for customer in known
            if customer.external_id is not None
        }


def _resolve(
    principal: Principal, events: Sequence[EventCreate], customers: Customers
) -> tuple[list[NewEvent], list[ValidationErrorItem]]:
    """The events to store, with their organization and customer; or the errors of those
    that cannot be."""
    rows: list[NewEvent] = []
    errors: list[ValidationErrorItem] = []
    # The token's organization, when no event can name another (the common case).
    default = principal.organization_ids[0] if principal.acts_in_one else None
    for index, event in enumerate(events):
        if default is not None and event.organization_id is None:
            organization_id: uuid.UUID | ValidationErrorItem = default
        else:
            organization_id = _organization_of(principal, index, event.organization_id)
        if not isinstance(organization_id, uuid.UUID):
            errors.append(organization_id)
            continue
        if type(event) is EventCreateCustomer:
            customer = customers.by_id.get(event.customer_id)
            if customer is None or customer.organization_id != organization_id:
                errors.append(_customer_not_found(index, event.customer_id))
                continue
            customer_id: uuid.UUID | None = customer.id
            external_id: str | None = None
        else:
            assert isinstance(event, EventCreateExternalCustomer)
            external_id = event.external_customer_id
            customer = customers.by_external_id.get((organization_id, event.external_customer_id))
            customer_id = None if customer is None else customer.id
        rows.append(
            NewEvent(
                organization_id,
                event.timestamp,
                event.name,
                customer_id,
                external_id,
                event.metadata,
            )
        )
    return rows, errors


def _customer_not_found(index: int, customer_id: uuid.UUID) -> ValidationErrorItem:
    return _error(index, "customer_id", "customer_id", "Customer not found.", str(customer_id))


async def _count(
    session: AsyncSession,
    driver: Driver,
    organization_id: uuid.UUID,
    rows: Sequence[NewEvent],
    *,
    now: datetime,
) -> None:
    """Add the events of customers to the organization's active meters that match them."""
    connection = await borrow(await session.connection())
    meters = [
        tally.counting_meter(row)
        for row in await meters_repository.active_meters(connection, organization_id)
    ]
    if not meters:
        return
    usage = tally.tally(
        meters,
        (
            (row.customer_id, EventFacts(row.name, EventSource.user, row.timestamp, row.metadata))
            for row in rows
            if row.customer_id is not None
        ),
    )
    functions = {meter.id: meter.function for meter in meters}
    await totals.add_usage(driver, organization_id, usage, functions, now=now)


async def _note_first_events(
    session: AsyncSession,
    organization_id: uuid.UUID,
    rows: Sequence[NewEvent],
    known: Sequence[KnownCustomer],
) -> None:
    """Tell customers of their first event, when this batch has an earlier one than they
    know (customers resolved by external id are in `customers` too)."""
    first_known = {customer.id: customer.first_user_event_at for customer in known}
    first: dict[uuid.UUID, datetime] = {}
    for row in rows:
        if row.customer_id is not None:
            earliest = first.get(row.customer_id)
            if earliest is None or row.timestamp < earliest:
                first[row.customer_id] = row.timestamp
    earlier = {
        customer_id: timestamp
        for customer_id, timestamp in first.items()
        if (seen := first_known[customer_id]) is None or timestamp < seen
    }
    if earlier:
        await customers_service.note_first_events(
            session, organization_id=organization_id, first_event_at=earlier
        )


# Reads ----------------------------------------------------------------------------------------


async def get(connection: RawConnection, principal: Principal, event_id: uuid.UUID) -> EventFull:
    event = await repository.read(connection, principal.organization_ids, event_id)
    if event is None:
        raise ResourceNotFound()
    return event


async def meter_clauses(
    session: AsyncSession, organization_ids: OrganizationIds, meter_id: uuid.UUID, *, dialect: str
) -> list[Any]:
    """The events a meter counts, as SQL; 422 when the caller has no such meter."""
    meter = await meters_repository.get(session, organization_ids, meter_id)
    if meter is None:
        error: ValidationErrorItem = {
            "type": "meter_id",
            "loc": ("query", "meter_id"),
            "msg": "Meter not found.",
            "input": str(meter_id),
        }
        raise PolarRequestValidationError([error])
    return [
        filter_sql.filter_clause(Filter.model_validate(meter["filter"]), dialect),
        filter_sql.aggregation_clause(AGGREGATION.validate_python(meter["aggregation"]), dialect),
    ]


async def list_events(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    event_filter: Filter | None,
    meter_id: uuid.UUID | None,
    filters: EventFilters,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[EventFull], int]:
    """A page of the visible events matching the filters, with their customers."""
    dialect = session.get_bind().dialect.name
    clauses: list[Any] = []
    if event_filter is not None:
        clauses.append(filter_sql.filter_clause(event_filter, dialect))
    if meter_id is not None:
        clauses += await meter_clauses(session, organization_ids, meter_id, dialect=dialect)
    statement = repository.events_statement(
        replace(filters, clauses=clauses) if clauses else filters,
        dialect=dialect,
    )
    rows, total = await repository.page_events(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )
    connection = await borrow(await session.connection())
    return await repository.embed_customers(connection, rows), total


async def list_names(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    customer_ids: Sequence[uuid.UUID] | None,
    external_customer_ids: Sequence[str] | None,
    sources: Sequence[str] | None,
    query: str | None,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[dict[str, Any]], int]:
    statement = repository.names_statement(
        dialect=session.get_bind().dialect.name,
        customer_clause=repository.customer_clause(customer_ids, external_customer_ids),
        sources=sources,
        query=query,
    )
    return await repository.page_names(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )
