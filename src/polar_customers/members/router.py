"""HTTP routes of a customer's members: `/v1/customers/{id}/members` and
`/v1/customers/external/{external_id}/members`."""

import uuid
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import MEMBERS_READ, MEMBERS_WRITE
from polar_customers.customers import service as customers_service
from polar_customers.customers.repository import ByExternalId, ById
from polar_customers.customers.schemas import CustomerID, ExternalID
from polar_customers.db import RawConnectionDependency, SessionDependency
from polar_customers.errors import AmbiguousExternalCustomerID, NotPermitted
from polar_customers.kit.openapi import AUTH_RESPONSES, error_response, not_found
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.sorting import SortCriterion, sorting_dependency
from polar_customers.kit.time import utc_now
from polar_customers.members import render, service
from polar_customers.members.schemas import (
    Member,
    MemberCreateFromCustomer,
    MemberSortProperty,
    MemberUpdate,
)
from polar_customers.models import MemberRole

router = APIRouter(
    prefix="/v1/customers",
    tags=["customers", "members"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)

Reader = Annotated[Principal, Depends(Authorizer(*MEMBERS_READ))]
Writer = Annotated[Principal, Depends(Authorizer(*MEMBERS_WRITE))]
Sorting = Annotated[
    list[SortCriterion], Depends(sorting_dependency(MemberSortProperty, default=["-created_at"]))
]
MemberID = Annotated[uuid.UUID, Path(description="The member ID.")]
MemberExternalID = Annotated[str, Path(description="The member external ID.")]
RoleFilter = Annotated[MemberRole | None, Query(description="Filter by member role.")]

_NOT_FOUND = not_found("Customer or member not found.")
_AMBIGUOUS = error_response(
    409,
    AmbiguousExternalCustomerID,
    "The external customer ID matches customers in several accessible organizations.",
)
_NOT_PERMITTED = error_response(403, NotPermitted, "Not permitted to add members.")
_DELETED = {204: {"description": "Member deleted."}, **_NOT_FOUND}


# The external-id routes come first: `/external/members/members` is the members of the
# customer whose external id is "members", not member "members" of customer "external".


@router.get(
    "/external/{external_id}/members",
    summary="List Members by Customer External ID",
    operation_id="customers:members:list_external",
    response_model=ListResource[Member],
    responses={**_NOT_FOUND, **_AMBIGUOUS},
)
async def list_members_external(
    external_id: ExternalID,
    principal: Reader,
    connection: RawConnectionDependency,
    pagination: PaginationParamsQuery,
    sorting: Sorting,
    role: RoleFilter = None,
) -> Rendered:
    """List the members of a customer identified by its external ID."""
    return await _list(connection, principal, ByExternalId(external_id), pagination, sorting, role)


@router.post(
    "/external/{external_id}/members",
    summary="Create Member by Customer External ID",
    operation_id="customers:members:create_external",
    status_code=201,
    response_model=Member,
    responses={
        201: {"description": "Member created."},
        **_NOT_PERMITTED,
        **_NOT_FOUND,
        **_AMBIGUOUS,
    },
)
async def create_member_external(
    external_id: ExternalID,
    member_create: MemberCreateFromCustomer,
    principal: Writer,
    session: SessionDependency,
) -> Rendered:
    """Create a new member for a customer identified by its external ID."""
    return await _create(session, principal, ByExternalId(external_id), member_create)


@router.get(
    "/external/{external_id}/members/{member_external_id}",
    summary="Get Member by External ID",
    operation_id="customers:members:get_external",
    response_model=Member,
    responses={**_NOT_FOUND, **_AMBIGUOUS},
)
async def get_member_external(
    external_id: ExternalID,
    member_external_id: MemberExternalID,
    principal: Reader,
    connection: RawConnectionDependency,
) -> Rendered:
    """Get a member by external ID, of a customer identified by its external ID."""
    lookup = ByExternalId(external_id)
    return await _get(connection, principal, lookup, member_external_id)


@router.patch(
    "/external/{external_id}/members/{member_external_id}",
    summary="Update Member by External ID",
    operation_id="customers:members:update_external",
    response_model=Member,
    responses={**_NOT_FOUND, **_AMBIGUOUS},
)
async def update_member_external(
    external_id: ExternalID,
    member_external_id: MemberExternalID,
    member_update: MemberUpdate,
    principal: Writer,
    session: SessionDependency,
) -> Rendered:
    """Update a member by external ID, of a customer identified by its external ID."""
    lookup = ByExternalId(external_id)
    return await _update(session, principal, lookup, member_external_id, member_update)


@router.delete(
    "/external/{external_id}/members/{member_external_id}",
    summary="Delete Member by External ID",
    operation_id="customers:members:delete_external",
    status_code=204,
    response_class=Response,
    responses={**_DELETED, **_AMBIGUOUS},
)
async def delete_member_external(
    external_id: ExternalID,
    member_external_id: MemberExternalID,
    principal: Writer,
    session: SessionDependency,
) -> Response:
    """Delete a member by external ID, of a customer identified by its external ID."""
    return await _delete(session, principal, ByExternalId(external_id), member_external_id)


@router.get(
    "/{id}/members",
    summary="List Members",
    operation_id="customers:members:list",
    response_model=ListResource[Member],
    responses=_NOT_FOUND,
)
async def list_members(
    id: CustomerID,
    principal: Reader,
    connection: RawConnectionDependency,
    pagination: PaginationParamsQuery,
    sorting: Sorting,
    role: RoleFilter = None,
) -> Rendered:
    """List the members of a customer."""
    return await _list(connection, principal, ById(id), pagination, sorting, role)


@router.post(
    "/{id}/members",
    summary="Create Member",
    operation_id="customers:members:create",
    status_code=201,
    response_model=Member,
    responses={201: {"description": "Member created."}, **_NOT_PERMITTED, **_NOT_FOUND},
)
async def create_member(
    id: CustomerID,
    member_create: MemberCreateFromCustomer,
    principal: Writer,
    session: SessionDependency,
) -> Rendered:
    """Create a new member for a customer. Only team customers can add members."""
    return await _create(session, principal, ById(id), member_create)


@router.get(
    "/{id}/members/{member_id}",
    summary="Get Member",
    operation_id="customers:members:get",
    response_model=Member,
    responses=_NOT_FOUND,
)
async def get_member(
    id: CustomerID, member_id: MemberID, principal: Reader, connection: RawConnectionDependency
) -> Rendered:
    """Get a member of a customer by its ID."""
    return await _get(connection, principal, ById(id), member_id)


@router.patch(
    "/{id}/members/{member_id}",
    summary="Update Member",
    operation_id="customers:members:update",
    response_model=Member,
    responses=_NOT_FOUND,
)
async def update_member(
    id: CustomerID,
    member_id: MemberID,
    member_update: MemberUpdate,
    principal: Writer,
    session: SessionDependency,
) -> Rendered:
    """Update a member of a customer. Making a member the owner makes the owner before it a
    billing manager."""
    return await _update(session, principal, ById(id), member_id, member_update)


@router.delete(
    "/{id}/members/{member_id}",
    summary="Delete Member",
    operation_id="customers:members:delete",
    status_code=204,
    response_class=Response,
    responses=_DELETED,
)
async def delete_member(
    id: CustomerID, member_id: MemberID, principal: Writer, session: SessionDependency
) -> Response:
    """Delete a member of a customer; the owner cannot be deleted."""
    return await _delete(session, principal, ById(id), member_id)


# Each operation once, for both ways of naming the customer. ---------------------------------


async def _list(
    connection: RawConnectionDependency,
    principal: Principal,
    lookup: ById | ByExternalId,
    pagination: PaginationParamsQuery,
    sorting: list[SortCriterion],
    role: MemberRole | None,
) -> Rendered:
    customer = await customers_service.get(connection, principal, lookup, conflict=True)
    descending = sorting[0].descending if sorting else True
    rows, total = await service.list_members(
        connection, customer, role=role, pagination=pagination, descending=descending
    )
    return Rendered(partial(render.member_page, rows, total=total, pagination=pagination))


async def _create(
    session: SessionDependency,
    principal: Principal,
    lookup: ById | ByExternalId,
    create: MemberCreateFromCustomer,
) -> Rendered:
    customer = await customers_service.lock(session, principal, lookup, conflict=True)
    row = await service.create_member(session, customer, create=create)
    return Rendered(partial(render.member, row), status_code=201)


async def _get(
    connection: RawConnectionDependency,
    principal: Principal,
    lookup: ById | ByExternalId,
    member: uuid.UUID | str,
) -> Rendered:
    customer = await customers_service.get(connection, principal, lookup, conflict=True)
    row = await service.get(connection, customer, member)
    return Rendered(partial(render.member, row))


async def _update(
    session: SessionDependency,
    principal: Principal,
    lookup: ById | ByExternalId,
    member_key: uuid.UUID | str,
    update: MemberUpdate,
) -> Rendered:
    customer = await customers_service.lock(session, principal, lookup, conflict=True)
    member = await service.lock(session, customer, member_key)
    row = await service.update_member(session, customer, member, update=update)
    return Rendered(partial(render.member, row))


async def _delete(
    session: SessionDependency,
    principal: Principal,
    lookup: ById | ByExternalId,
    member_key: uuid.UUID | str,
) -> Response:
    customer = await customers_service.lock(session, principal, lookup, conflict=True)
    member = await service.lock(session, customer, member_key)
    await service.delete_member(session, member, now=utc_now())
    return Response(status_code=204)
