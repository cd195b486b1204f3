"""HTTP routes of benefits and their grants: `/v1/benefits`, `/v1/benefit-grants`."""

from collections.abc import Sequence
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import UUID4, Field

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import BENEFITS_READ, BENEFITS_WRITE
from polar_customers.benefits import render, service
from polar_customers.benefits.grant_schemas import BenefitGrant
from polar_customers.benefits.schemas import (
    Benefit,
    BenefitCreate,
    BenefitGrantSortProperty,
    BenefitID,
    BenefitSortProperty,
    BenefitUpdate,
)
from polar_customers.db import RawConnectionDependency, SessionDependency
from polar_customers.kit.filters import OrganizationIDFilter, as_list
from polar_customers.kit.metadata import METADATA_QUERY_OPENAPI, get_metadata_query
from polar_customers.kit.openapi import AUTH_RESPONSES, not_found
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.sorting import SortCriterion, sorting_dependency
from polar_customers.kit.tenancy import narrow
from polar_customers.kit.time import utc_now
from polar_customers.models import BenefitType

router = APIRouter(prefix="/v1", responses=AUTH_RESPONSES, route_class=ApiRoute)

Session = SessionDependency
Connection = RawConnectionDependency
Reader = Annotated[Principal, Depends(Authorizer(*BENEFITS_READ))]
Writer = Annotated[Principal, Depends(Authorizer(*BENEFITS_WRITE))]
Sorting = Annotated[
    list[SortCriterion], Depends(sorting_dependency(BenefitSortProperty, default=["-created_at"]))
]
GrantSorting = Annotated[
    list[SortCriterion],
    Depends(sorting_dependency(BenefitGrantSortProperty, default=["-created_at"])),
]
CustomerID = Annotated[UUID4, Field(description="The customer ID.")]
IsGranted = Annotated[
    bool | None,
    Query(
        description=(
            "Filter by granted status. If `true`, only granted benefits will be returned. "
            "If `false`, only revoked benefits will be returned. "
        )
    ),
]


def _customer_filter(description: str) -> object:
    return Query(title="CustomerID Filter", description=description)


_NOT_FOUND = not_found("Benefit not found.")
_DELETE_DESCRIPTION = (
    "Delete a benefit.\n\n> [!WARNING]\n> Every grants associated with the benefit will be "
    "revoked.\n> Users will lose access to the benefit."
)


@router.get(
    "/benefits/",
    summary="List Benefits",
    description="List benefits.",
    operation_id="benefits:list",
    tags=["benefits"],
    response_model=ListResource[Benefit],
    openapi_extra={"parameters": [METADATA_QUERY_OPENAPI]},
)
async def list_benefits(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: Sorting,
    organization_id: OrganizationIDFilter = None,
    type: Annotated[
        BenefitType | Sequence[BenefitType] | None,
        Query(title="BenefitType Filter", description="Filter by benefit type."),
    ] = None,
    query: Annotated[str | None, Query(description="Filter by description.")] = None,
    metadata: dict[str, list[str]] = Depends(get_metadata_query),
) -> Rendered:
    """List the benefits visible to the caller, filtered, sorted and paginated."""
    rows, total = await service.list_benefits(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        types=as_list(type),
        query=query,
        metadata=metadata,
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.benefit_page, rows, total=total, pagination=pagination))


@router.post(
    "/benefits/",
    summary="Create Benefit",
    description="Create a benefit.",
    operation_id="benefits:create",
    tags=["benefits"],
    status_code=201,
    response_model=Benefit,
    responses={201: {"description": "Benefit created."}},
)
async def create_benefit(
    benefit_create: BenefitCreate, principal: Writer, session: Session
) -> Rendered:
    """Create a benefit of a supported type (custom, license_keys, meter_credit)."""
    row = await service.create_benefit(session, principal, create=benefit_create.root)
    return Rendered(partial(render.benefit, row), status_code=201)


@router.get(
    "/benefits/{id}",
    summary="Get Benefit",
    description="Get a benefit by ID.",
    operation_id="benefits:get",
    tags=["benefits"],
    response_model=Benefit,
    responses=_NOT_FOUND,
)
async def get_benefit(id: BenefitID, principal: Reader, connection: Connection) -> Rendered:
    """Get a benefit by ID."""
    row = await service.get(connection, principal, id)
    return Rendered(partial(render.benefit, row))


@router.patch(
    "/benefits/{id}",
    summary="Update Benefit",
    description="Update a benefit.",
    operation_id="benefits:update",
    tags=["benefits"],
    response_model=Benefit,
    responses={200: {"description": "Benefit updated."}, **_NOT_FOUND},
)
async def update_benefit(
    id: BenefitID, benefit_update: BenefitUpdate, principal: Writer, session: Session
) -> Rendered:
    """Update the fields present in the body of a benefit found by ID."""
    benefit = await service.lock(session, principal, id)
    row = await service.update_benefit(session, benefit, update=benefit_update.root, now=utc_now())
    return Rendered(partial(render.benefit, row))


@router.delete(
    "/benefits/{id}",
    summary="Delete Benefit",
    description=_DELETE_DESCRIPTION,
    operation_id="benefits:delete",
    tags=["benefits"],
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Benefit deleted."}, **_NOT_FOUND},
)
async def delete_benefit(id: BenefitID, principal: Writer, session: Session) -> Response:
    """Soft-delete a benefit found by ID, revoking its grants."""
    benefit = await service.lock(session, principal, id)
    await service.delete_benefit(session, benefit, now=utc_now())
    return Response(status_code=204)


@router.get(
    "/benefits/{id}/grants",
    summary="List Benefit Grants",
    description=(
        "List the individual grants for a benefit.\n\n"
        "It's especially useful to check if a user has been granted a benefit."
    ),
    operation_id="benefits:grants",
    tags=["benefits"],
    response_model=ListResource[BenefitGrant],
    responses=_NOT_FOUND,
)
async def list_benefit_grants(
    id: BenefitID,
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    is_granted: IsGranted = None,
    customer_id: Annotated[
        CustomerID | Sequence[CustomerID] | None, _customer_filter("Filter by customer.")
    ] = None,
) -> Rendered:
    """List the grants of a benefit found by ID, newest first."""
    await service.ensure_visible(session, principal, id)
    rows, total = await service.list_grants(
        session,
        principal.organization_ids,
        benefit_id=id,
        customer_ids=as_list(customer_id),
        is_granted=is_granted,
        pagination=pagination,
        sorting=[SortCriterion("created_at", descending=True)],
    )
    return Rendered(partial(render.benefit_grant_page, rows, total=total, pagination=pagination))


@router.get(
    "/benefit-grants/",
    summary="List Benefit Grants",
    description="List benefit grants across all benefits for the authenticated organization.",
    operation_id="benefit-grants:list",
    tags=["benefit-grants"],
    response_model=ListResource[BenefitGrant],
)
async def list_grants(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: GrantSorting,
    organization_id: OrganizationIDFilter = None,
    customer_id: Annotated[
        CustomerID | Sequence[CustomerID] | None, _customer_filter("Filter by customer ID.")
    ] = None,
    is_granted: IsGranted = None,
) -> Rendered:
    """List the grants of every visible benefit, filtered, sorted and paginated."""
    rows, total = await service.list_grants(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        customer_ids=as_list(customer_id),
        is_granted=is_granted,
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.benefit_grant_page, rows, total=total, pagination=pagination))
