"""HTTP routes of `/v1/customers`: parse, authorize, call the service, render, return."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import CUSTOMERS_READ, CUSTOMERS_WRITE
from polar_customers.customers import export, render, service, state
from polar_customers.customers.repository import ByExternalId, ById
from polar_customers.customers.schemas import (
    Customer,
    CustomerBalance,
    CustomerCreate,
    CustomerID,
    CustomerSortProperty,
    CustomerState,
    CustomerUpdate,
    CustomerUpdateExternalID,
    ExternalID,
)
from polar_customers.db import RawConnectionDependency, SessionDependency, get_database
from polar_customers.kit.filters import OrganizationIDFilter, as_list
from polar_customers.kit.metadata import METADATA_QUERY_OPENAPI, get_metadata_query
from polar_customers.kit.openapi import AUTH_RESPONSES, not_found
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.sorting import SortCriterion, sorting_dependency
from polar_customers.kit.tenancy import narrow
from polar_customers.kit.versions import request_version

router = APIRouter(
    prefix="/v1/customers",
    tags=["customers"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)

Session = SessionDependency
Connection = RawConnectionDependency
Reader = Annotated[Principal, Depends(Authorizer(*CUSTOMERS_READ))]
Writer = Annotated[Principal, Depends(Authorizer(*CUSTOMERS_WRITE))]
Sorting = Annotated[
    list[SortCriterion],
    Depends(sorting_dependency(CustomerSortProperty, default=["-created_at"])),
]

Anonymize = Annotated[
    bool,
    Query(
        description=(
            "If true, also erase the customer's personal data: email and names become "
            "irreversible digests and the billing address is cleared; the row stays for the "
            "history of its orders and subscriptions."
        )
    ),
]
_NOT_FOUND = not_found("Customer not found.")
_DELETE_DESCRIPTION = (
    "Delete a customer.\n\nThis action cannot be undone and will immediately:\n"
    "- Cancel any active subscriptions for the customer\n- Revoke all their benefits\n"
    "- Clear any `external_id`\n\nUse it only in the context of deleting a user within your "
    "own service. Otherwise, use more granular API endpoints to cancel a specific subscription "
    "or revoke certain benefits.\n\nNote: The customers information will nonetheless be "
    "retained for historic orders and subscriptions."
)
_DELETED = {204: {"description": "Customer deleted."}, **_NOT_FOUND}


@router.get(
    "/",
    summary="List Customers",
    description="List customers.",
    operation_id="customers:list",
    response_model=ListResource[Customer],
    openapi_extra={"parameters": [METADATA_QUERY_OPENAPI]},
)
async def list_customers(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: Sorting,
    organization_id: OrganizationIDFilter = None,
    email: Annotated[str | None, Query(description="Filter by exact email.")] = None,
    query: Annotated[
        str | None, Query(description="Filter by name, email, or external ID.")
    ] = None,
    active: Annotated[
        bool | None,
        Query(
            description=(
                "Filter by active customers, i.e. customers with at least one trialing, active "
                "or past_due subscription."
            )
        ),
    ] = None,
    metadata: dict[str, list[str]] = Depends(get_metadata_query),
) -> Rendered:
    """List the customers visible to the caller, filtered, sorted and paginated."""
    rows, total = await service.list_customers(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        email=email,
        query=query,
        metadata=metadata,
        active=active,
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.customer_page, rows, total=total, pagination=pagination))


@router.post(
    "/",
    summary="Create Customer",
    description="Create a customer.",
    operation_id="customers:create",
    status_code=201,
    response_model=Customer,
    responses={201: {"description": "Customer created."}},
)
async def create_customer(
    customer_create: CustomerCreate, principal: Writer, session: Session
) -> Rendered:
    """Create a customer in the caller's organization (or the one named, for user tokens)."""
    row = await service.create_customer(session, principal, create=customer_create.root)
    return Rendered(partial(render.customer, row), status_code=201)


@router.get(
    "/export",
    summary="Export Customers",
    description=(
        "Export customers as a CSV file, or, to a request without `Polar-Version` that "
        "accepts `application/json` (as the 2025 clients send), as a JSON array."
    ),
    operation_id="customers:export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every live customer visible to the caller.",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Customer"}}
                },
            },
        }
    },
)
async def export_customers(
    request: Request,
    principal: Reader,
    organization_id: OrganizationIDFilter = None,
) -> StreamingResponse:
    """Stream every visible customer; nothing is held in memory beyond one batch, and no
    connection beyond one batch's query."""
    organization_ids = narrow(principal.organization_ids, as_list(organization_id))
    pool = get_database(request).scans
    version = request_version(request.scope)
    if export.wants_json(request.headers.get("accept"), version):
        chunks = await export.stream_json(pool, organization_ids, version)
        return StreamingResponse(chunks, media_type="application/json")
    neutralize_formulas: bool = request.app.state.settings.export_neutralize_formulas
    return StreamingResponse(
        await export.stream_csv(pool, organization_ids, neutralize_formulas=neutralize_formulas),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=polar-customers.csv"},
    )


@router.get(
    "/{id}",
    summary="Get Customer",
    description="Get a customer by ID.",
    operation_id="customers:get",
    response_model=Customer,
    responses=_NOT_FOUND,
)
async def get_customer(id: CustomerID, principal: Reader, connection: Connection) -> Rendered:
    """Get a customer by ID."""
    row = await service.get(connection, principal, ById(id))
    return Rendered(partial(render.customer, row))


@router.patch(
    "/{id}",
    summary="Update Customer",
    description="Update a customer.",
    operation_id="customers:update",
    response_model=Customer,
    responses=_NOT_FOUND,
)
async def update_customer(
    id: CustomerID,
    customer_update: CustomerUpdate,
    principal: Writer,
    session: Session,
) -> Rendered:
    """Update the fields present in the body of a customer found by ID."""
    customer = await service.lock(session, principal, ById(id))
    row = await service.update_customer(session, customer, update=customer_update)
    return Rendered(partial(render.customer, row))


@router.delete(
    "/{id}",
    summary="Delete Customer",
    description=_DELETE_DESCRIPTION,
    operation_id="customers:delete",
    status_code=204,
    response_class=Response,
    responses=_DELETED,
)
async def delete_customer(
    id: CustomerID, principal: Writer, session: Session, anonymize: Anonymize = False
) -> Response:
    """Soft-delete a customer found by ID."""
    customer = await service.lock(session, principal, ById(id))
    await service.delete_customer(session, customer, anonymize=anonymize)
    return Response(status_code=204)


@router.get(
    "/external/{external_id}",
    summary="Get Customer by External ID",
    description="Get a customer by external ID.",
    operation_id="customers:get_external",
    response_model=Customer,
    responses=_NOT_FOUND,
)
async def get_customer_external(
    external_id: ExternalID, principal: Reader, connection: Connection
) -> Rendered:
    """Get a customer by the ID it has in your system."""
    row = await service.get(connection, principal, ByExternalId(external_id))
    return Rendered(partial(render.customer, row))


@router.patch(
    "/external/{external_id}",
    summary="Update Customer by External ID",
    description="Update a customer by external ID.",
    operation_id="customers:update_external",
    response_model=Customer,
    responses=_NOT_FOUND,
)
async def update_customer_external(
    external_id: ExternalID,
    customer_update_external_id: CustomerUpdateExternalID,
    principal: Writer,
    session: Session,
) -> Rendered:
    """Update the fields present in the body of a customer found by external ID."""
    customer = await service.lock(session, principal, ByExternalId(external_id))
    row = await service.update_customer(session, customer, update=customer_update_external_id)
    return Rendered(partial(render.customer, row))


@router.delete(
    "/external/{external_id}",
    summary="Delete Customer by External ID",
    description=_DELETE_DESCRIPTION.replace(
        "Delete a customer.", "Delete a customer by external ID."
    ),
    operation_id="customers:delete_external",
    status_code=204,
    response_class=Response,
    responses=_DELETED,
)
async def delete_customer_external(
    external_id: ExternalID, principal: Writer, session: Session, anonymize: Anonymize = False
) -> Response:
    """Soft-delete a customer found by external ID."""
    customer = await service.lock(session, principal, ByExternalId(external_id))
    await service.delete_customer(session, customer, anonymize=anonymize)
    return Response(status_code=204)


_STATE_DESCRIPTION = (
    "Get a customer state by ID.\n\nThe customer state includes information about\n"
    "the customer's active subscriptions and benefits.\n\nIt's the ideal endpoint to use when "
    "you need to get a full overview\nof a customer's status."
)


@router.get(
    "/{id}/state",
    summary="Get Customer State",
    description=_STATE_DESCRIPTION,
    operation_id="customers:get_state",
    response_model=CustomerState,
    responses=_NOT_FOUND,
)
async def get_customer_state(id: CustomerID, principal: Reader, connection: Connection) -> Rendered:
    """Get a customer with its active subscriptions, granted benefits and meters, by ID."""
    customer, lists = await state.get_customer_state(connection, principal, ById(id))
    return Rendered(partial(render.customer_state, customer, lists))


@router.get(
    "/external/{external_id}/state",
    summary="Get Customer State by External ID",
    description=_STATE_DESCRIPTION.replace("by ID.", "by external ID."),
    operation_id="customers:get_state_external",
    response_model=CustomerState,
    responses=_NOT_FOUND,
)
async def get_customer_state_external(
    external_id: ExternalID, principal: Reader, connection: Connection
) -> Rendered:
    """Get a customer with its active subscriptions, granted benefits and meters, by the ID it
    has in your system."""
    customer, lists = await state.get_customer_state(
        connection, principal, ByExternalId(external_id)
    )
    return Rendered(partial(render.customer_state, customer, lists))


@router.get(
    "/{id}/balance",
    summary="Get Customer Balance",
    description="Get customer balance information.",
    operation_id="customers:get_balance",
    response_model=CustomerBalance,
    responses=_NOT_FOUND,
)
async def get_customer_balance(
    id: CustomerID, principal: Reader, connection: Connection
) -> Rendered:
    """Get what a customer is owed or owes, by ID."""
    customer = await service.get(connection, principal, ById(id))
    balance = await state.get_customer_balance(connection, customer)
    return Rendered(partial(render.customer_balance, balance))
