"""HTTP routes of events: `/v1/events`."""

from collections.abc import Sequence
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import UUID4, TypeAdapter, ValidationError

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import EVENTS_READ, EVENTS_WRITE
from polar_customers.db import RawConnectionDependency, SessionDependency
from polar_customers.errors import PolarRequestValidationError, ValidationErrorItem
from polar_customers.events import render, service
from polar_customers.events.repository import EventFilters
from polar_customers.events.schemas import (
    Event,
    EventID,
    EventName,
    EventNamesSortProperty,
    EventsIngest,
    EventsIngestResponse,
    EventSortProperty,
)
from polar_customers.events.slots import IngestSlot
from polar_customers.kit.filters import OrganizationIDFilter, as_list
from polar_customers.kit.metadata import METADATA_QUERY_OPENAPI, get_metadata_query
from polar_customers.kit.openapi import AUTH_RESPONSES, not_found
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.sorting import SortCriterion, sorting_dependency
from polar_customers.kit.tenancy import narrow
from polar_customers.kit.time import UtcDatetime, utc_now
from polar_customers.meters.router import (
    CustomerIDFilter,
    ExternalCustomerIDFilter,
)
from polar_customers.meters.schemas import Filter, FilterInput
from polar_customers.models import EventSource

router = APIRouter(
    prefix="/v1/events",
    tags=["events"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)

Session = SessionDependency
Connection = RawConnectionDependency
Reader = Annotated[Principal, Depends(Authorizer(*EVENTS_READ))]
Writer = Annotated[Principal, Depends(Authorizer(*EVENTS_WRITE))]
Sorting = Annotated[
    list[SortCriterion], Depends(sorting_dependency(EventSortProperty, default=["-timestamp"]))
]
NamesSorting = Annotated[
    list[SortCriterion],
    Depends(sorting_dependency(EventNamesSortProperty, default=["-last_seen"])),
]
SourceFilter = Annotated[
    EventSource | Sequence[EventSource] | None,
    Query(title="Source Filter", description="Filter by event source."),
]
_FILTER_ADAPTER: TypeAdapter[Filter] = TypeAdapter(FilterInput)


def _parsed_filter(text: str | None) -> Filter | None:
    """The `filter` query parameter: a meter filter as JSON."""
    if text is None:
        return None
    try:
        return _FILTER_ADAPTER.validate_json(text)
    except ValidationError as error:
        errors: list[ValidationErrorItem] = [
            {
                "type": item["type"],
                "loc": ("query", "filter", *item["loc"]),
                "msg": item["msg"],
                "input": item["input"]
                if isinstance(item["input"], str | int | float | bool)
                else None,
            }
            for item in error.errors(include_url=False)
        ]
        raise PolarRequestValidationError(errors) from None


@router.get(
    "/",
    summary="List Events",
    description="List events.",
    operation_id="events:list",
    response_model=ListResource[Event],
    openapi_extra={"parameters": [METADATA_QUERY_OPENAPI]},
)
async def list_events(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: Sorting,
    metadata: Annotated[dict[str, list[str]], Depends(get_metadata_query)],
    filter: Annotated[
        str | None,
        Query(
            description=(
                "Filter events following filter clauses. JSON string following the same schema "
                "a meter filter clause. "
            )
        ),
    ] = None,
    start_timestamp: Annotated[
        UtcDatetime | None, Query(description="Filter events after this timestamp.")
    ] = None,
    end_timestamp: Annotated[
        UtcDatetime | None, Query(description="Filter events before this timestamp.")
    ] = None,
    organization_id: OrganizationIDFilter = None,
    customer_id: CustomerIDFilter = None,
    external_customer_id: ExternalCustomerIDFilter = None,
    meter_id: Annotated[
        UUID4 | None, Query(title="MeterID Filter", description="Filter by a meter filter clause.")
    ] = None,
    name: Annotated[
        str | Sequence[str] | None, Query(title="Name Filter", description="Filter by event name.")
    ] = None,
    source: SourceFilter = None,
) -> Rendered:
    """List the events visible to the caller, filtered, sorted and paginated."""
    rows, total = await service.list_events(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        event_filter=_parsed_filter(filter),
        meter_id=meter_id,
        filters=EventFilters(
            start_timestamp=start_timestamp,
            end_timestamp=end_timestamp,
            customer_ids=as_list(customer_id),
            external_customer_ids=as_list(external_customer_id),
            names=as_list(name),
            sources=as_list(source),
            metadata=metadata,
        ),
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.event_page, rows, total=total, pagination=pagination))


@router.get(
    "/names",
    summary="List Event Names",
    description="List event names.",
    operation_id="events:list_names",
    response_model=ListResource[EventName],
)
async def list_event_names(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: NamesSorting,
    organization_id: OrganizationIDFilter = None,
    customer_id: CustomerIDFilter = None,
    external_customer_id: ExternalCustomerIDFilter = None,
    source: SourceFilter = None,
    query: Annotated[str | None, Query(description="Query to filter event names.")] = None,
) -> Rendered:
    """The names of the visible events, with how often and when they occurred."""
    rows, total = await service.list_names(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        customer_ids=as_list(customer_id),
        external_customer_ids=as_list(external_customer_id),
        sources=as_list(source),
        query=query,
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.name_page, rows, total=total, pagination=pagination))


@router.get(
    "/{id}",
    summary="Get Event",
    description="Get an event by ID.",
    operation_id="events:get",
    response_model=Event,
    responses=not_found("Event not found."),
)
async def get_event(id: EventID, principal: Reader, connection: Connection) -> Rendered:
    """Get an event by ID."""
    row = await service.get(connection, principal, id)
    return Rendered(partial(render.event, row))


@router.post(
    "/ingest",
    summary="Ingest Events",
    description="Ingest batch of events.",
    operation_id="events:ingest",
    response_model=EventsIngestResponse,
)
async def ingest_events(
    _slot: IngestSlot, events_ingest: EventsIngest, principal: Writer, session: Session
) -> Rendered:
    """Store a batch of events and count them in the meters they match, in one transaction."""
    inserted = await service.ingest(session, principal, events_ingest.events, now=utc_now())
    return Rendered(lambda _version: EventsIngestResponse(inserted=inserted))
