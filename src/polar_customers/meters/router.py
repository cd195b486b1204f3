"""HTTP routes of meters and customer meters: `/v1/meters`, `/v1/customer-meters`."""

from collections.abc import Sequence
from enum import Enum
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import UUID4

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import CUSTOMER_METERS_READ, METERS_READ, METERS_WRITE
from polar_customers.db import RawConnectionDependency, SessionDependency
from polar_customers.errors import ResourceNotFound
from polar_customers.kit.filters import OrganizationIDFilter, as_list
from polar_customers.kit.metadata import METADATA_QUERY_OPENAPI, get_metadata_query
from polar_customers.kit.openapi import AUTH_RESPONSES, not_found
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.sorting import SortCriterion, sorting_dependency
from polar_customers.kit.tenancy import narrow
from polar_customers.kit.time import UtcDatetime, utc_now
from polar_customers.meters import quantities, render, repository, service
from polar_customers.meters.customer_meter_schemas import CustomerMeter
from polar_customers.meters.schemas import (
    AggregationFunction,
    CustomerMeterID,
    CustomerMeterSortProperty,
    Meter,
    MeterCreate,
    MeterID,
    MeterQuantities,
    MeterSortProperty,
    MeterUpdate,
    TimeInterval,
)

# Tags per route: customer meters are their own group, as in Polar's document.
router = APIRouter(prefix="/v1", responses=AUTH_RESPONSES, route_class=ApiRoute)
METERS: list[str | Enum] = ["meters"]
CUSTOMER_METERS: list[str | Enum] = ["customer_meters"]

Session = SessionDependency
Connection = RawConnectionDependency
Reader = Annotated[Principal, Depends(Authorizer(*METERS_READ))]
Writer = Annotated[Principal, Depends(Authorizer(*METERS_WRITE))]
CustomerMeterReader = Annotated[Principal, Depends(Authorizer(*CUSTOMER_METERS_READ))]
MeterSorting = Annotated[
    list[SortCriterion], Depends(sorting_dependency(MeterSortProperty, default=["name"]))
]
CustomerMeterSorting = Annotated[
    list[SortCriterion],
    Depends(sorting_dependency(CustomerMeterSortProperty, default=["-modified_at"])),
]
CustomerIDFilter = Annotated[
    UUID4 | Sequence[UUID4] | None,
    Query(title="CustomerID Filter", description="Filter by customer ID."),
]
ExternalCustomerIDFilter = Annotated[
    str | Sequence[str] | None,
    Query(title="ExternalCustomerID Filter", description="Filter by external customer ID."),
]
MeterIDFilter = Annotated[
    UUID4 | Sequence[UUID4] | None,
    Query(title="MeterID Filter", description="Filter by meter ID."),
]
Metadata = Annotated[dict[str, list[str]], Depends(get_metadata_query)]
_NOT_FOUND = not_found("Meter not found.")
_CUSTOMER_METER_NOT_FOUND = not_found("Customer meter not found.")


@router.get(
    "/meters/",
    tags=METERS,
    summary="List Meters",
    description="List meters.",
    operation_id="meters:list",
    response_model=ListResource[Meter],
    openapi_extra={"parameters": [METADATA_QUERY_OPENAPI]},
)
async def list_meters(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: MeterSorting,
    metadata: Metadata,
    organization_id: OrganizationIDFilter = None,
    query: Annotated[str | None, Query(description="Filter by name.")] = None,
    is_archived: Annotated[bool | None, Query(description="Filter on archived meters.")] = None,
) -> Rendered:
    """List the meters visible to the caller, filtered, sorted and paginated."""
    rows, total = await service.list_meters(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        query=query,
        is_archived=is_archived,
        metadata=metadata,
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.meter_page, rows, total=total, pagination=pagination))


@router.post(
    "/meters/",
    tags=METERS,
    summary="Create Meter",
    description="Create a meter.",
    operation_id="meters:create",
    status_code=201,
    response_model=Meter,
    responses={201: {"description": "Meter created."}},
)
async def create_meter(meter_create: MeterCreate, principal: Writer, session: Session) -> Rendered:
    """Create a meter in the caller's organization (or the one named, for user tokens)."""
    row = await service.create_meter(session, principal, create=meter_create)
    return Rendered(partial(render.meter, row), status_code=201)


@router.get(
    "/meters/{id}",
    tags=METERS,
    summary="Get Meter",
    description="Get a meter by ID.",
    operation_id="meters:get",
    response_model=Meter,
    responses=_NOT_FOUND,
)
async def get_meter(id: MeterID, principal: Reader, connection: Connection) -> Rendered:
    """Get a meter by ID."""
    row = await service.get(connection, principal, id)
    return Rendered(partial(render.meter, row))


@router.patch(
    "/meters/{id}",
    tags=METERS,
    summary="Update Meter",
    description="Update a meter.",
    operation_id="meters:update",
    response_model=Meter,
    responses={200: {"description": "Meter updated."}, **_NOT_FOUND},
)
async def update_meter(
    id: MeterID, meter_update: MeterUpdate, principal: Writer, session: Session
) -> Rendered:
    """Update the fields given of a meter; `is_archived` archives or unarchives it."""
    meter = await service.lock(session, principal, id)
    row = await service.update_meter(session, meter, update=meter_update, now=utc_now())
    return Rendered(partial(render.meter, row))


@router.get(
    "/meters/{id}/quantities",
    tags=METERS,
    summary="Get Meter Quantities",
    description="Get quantities of a meter over a time period.",
    operation_id="meters:quantities",
    response_model=MeterQuantities,
    responses=_NOT_FOUND,
    openapi_extra={"parameters": [METADATA_QUERY_OPENAPI]},
)
async def get_meter_quantities(
    id: MeterID,
    principal: Reader,
    session: Session,
    metadata: Metadata,
    start_timestamp: Annotated[UtcDatetime, Query(description="Start timestamp.")],
    end_timestamp: Annotated[UtcDatetime, Query(description="End timestamp.")],
    interval: Annotated[TimeInterval, Query(description="Interval between two timestamps.")],
    customer_id: CustomerIDFilter = None,
    external_customer_id: ExternalCustomerIDFilter = None,
    customer_aggregation_function: Annotated[
        AggregationFunction | None,
        Query(
            description=(
                "If set, will first compute the quantities per customer before aggregating them "
                "using the given function. If not set, the quantities will be aggregated across "
                "all events."
            )
        ),
    ] = None,
) -> Rendered:
    """The meter's quantity for each period between two timestamps, and their total."""
    meter = await repository.get(session, principal.organization_ids, id)
    if meter is None:
        raise ResourceNotFound()
    quantities.check_range(start_timestamp, end_timestamp, interval)
    periods, total = await quantities.quantities(
        session,
        meter,
        start=start_timestamp,
        end=end_timestamp,
        interval=interval,
        selection=quantities.Selection(
            as_list(customer_id), as_list(external_customer_id), metadata
        ),
        customer_aggregation=customer_aggregation_function,
    )
    return Rendered(partial(render.quantities, periods, total=total))


@router.get(
    "/customer-meters/",
    summary="List Customer Meters",
    description="List customer meters.",
    operation_id="customer_meters:list",
    tags=CUSTOMER_METERS,
    response_model=ListResource[CustomerMeter],
)
async def list_customer_meters(
    principal: CustomerMeterReader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: CustomerMeterSorting,
    organization_id: OrganizationIDFilter = None,
    customer_id: CustomerIDFilter = None,
    external_customer_id: ExternalCustomerIDFilter = None,
    meter_id: MeterIDFilter = None,
) -> Rendered:
    """List the customer meters visible to the caller (of unarchived meters, unless meters
    are named)."""
    rows, total = await service.list_customer_meters(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        customer_ids=as_list(customer_id),
        external_customer_ids=as_list(external_customer_id),
        meter_ids=as_list(meter_id),
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.customer_meter_page, rows, total=total, pagination=pagination))


@router.get(
    "/customer-meters/{id}",
    summary="Get Customer Meter",
    description="Get a customer meter by ID.",
    operation_id="customer_meters:get",
    tags=CUSTOMER_METERS,
    response_model=CustomerMeter,
    responses=_CUSTOMER_METER_NOT_FOUND,
)
async def get_customer_meter(
    id: CustomerMeterID, principal: CustomerMeterReader, connection: Connection
) -> Rendered:
    """Get a customer meter by ID."""
    row = await service.get_customer_meter(connection, principal, id)
    return Rendered(partial(render.customer_meter, row))
