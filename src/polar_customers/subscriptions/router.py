"""HTTP routes of `/v1/subscriptions`: parse, authorize, call the service, render, return."""

import uuid
from collections.abc import Sequence
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import SUBSCRIPTIONS_READ, SUBSCRIPTIONS_WRITE
from polar_customers.db import RawConnectionDependency, SessionDependency
from polar_customers.kit.filters import OrganizationIDFilter, as_list
from polar_customers.kit.metadata import METADATA_QUERY_OPENAPI, get_metadata_query
from polar_customers.kit.openapi import AUTH_RESPONSES, error_response, not_found
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.raw_sql import borrow
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.sorting import SortCriterion, sorting_dependency
from polar_customers.kit.tenancy import narrow
from polar_customers.kit.time import utc_now
from polar_customers.models import Subscription as SubscriptionModel
from polar_customers.subscriptions import render, repository, service
from polar_customers.subscriptions.schemas import (
    Subscription,
    SubscriptionCreate,
    SubscriptionSortProperty,
    SubscriptionUpdate,
)

router = APIRouter(
    prefix="/v1/subscriptions",
    tags=["subscriptions"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)

Session = SessionDependency
Connection = RawConnectionDependency
Reader = Annotated[Principal, Depends(Authorizer(*SUBSCRIPTIONS_READ))]
Writer = Annotated[Principal, Depends(Authorizer(*SUBSCRIPTIONS_WRITE))]
Sorting = Annotated[
    list[SortCriterion],
    Depends(sorting_dependency(SubscriptionSortProperty, default=["-started_at"])),
]
SubscriptionID = Annotated[uuid.UUID, Path(description="The subscription ID.")]

_NOT_FOUND = not_found("Subscription not found.")
_CANCELED = error_response(
    403, service.AlreadyCanceledSubscription, "This subscription is already canceled."
)


def _id_filter(name: str) -> object:
    return Query(title=f"{name} ID Filter", description=f"Filter by {name.lower()} ID.")


@router.get(
    "/",
    summary="List Subscriptions",
    description="List subscriptions.",
    operation_id="subscriptions:list",
    response_model=ListResource[Subscription],
    openapi_extra={"parameters": [METADATA_QUERY_OPENAPI]},
)
async def list_subscriptions(
    principal: Reader,
    session: Session,
    connection: Connection,
    pagination: PaginationParamsQuery,
    sorting: Sorting,
    organization_id: OrganizationIDFilter = None,
    product_id: Annotated[uuid.UUID | Sequence[uuid.UUID] | None, _id_filter("Product")] = None,
    customer_id: Annotated[uuid.UUID | Sequence[uuid.UUID] | None, _id_filter("Customer")] = None,
    external_customer_id: Annotated[
        str | Sequence[str] | None,
        Query(title="ExternalCustomerID Filter", description="Filter by customer external ID."),
    ] = None,
    discount_id: Annotated[uuid.UUID | Sequence[uuid.UUID] | None, _id_filter("Discount")] = None,
    active: Annotated[
        bool | None, Query(description="Filter by active or inactive subscription.")
    ] = None,
    metadata: dict[str, list[str]] = Depends(get_metadata_query),
) -> Rendered:
    rows, total = await service.list_subscriptions(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        product_ids=as_list(product_id),
        customer_ids=as_list(customer_id),
        external_customer_ids=as_list(external_customer_id),
        discount_ids=as_list(discount_id),
        active=active,
        metadata=metadata,
        pagination=pagination,
        sorting=sorting,
    )
    details = await service.load_details(connection, rows)
    return Rendered(
        partial(render.subscription_page, rows, details, total=total, pagination=pagination)
    )


@router.post(
    "/",
    summary="Create Subscription",
    description=(
        "Create a subscription for a customer to a recurring product.\n\n"
        "Extension of this server: paid products are accepted too (Polar's API takes free "
        "products only and sends paid ones through a checkout). The subscription starts "
        "`active`, or `trialing` when the product has a trial, grants the product's benefits, "
        "and bills its first period as an order, paid by recording a payment "
        "(`POST /v1/payments/`)."
    ),
    operation_id="subscriptions:create",
    status_code=201,
    response_model=Subscription,
    responses={201: {"description": "Subscription created."}},
)
async def create_subscription(
    body: Annotated[SubscriptionCreate, Body()],
    principal: Writer,
    session: Session,
) -> Rendered:
    subscription = await service.create_subscription(session, principal, body, now=utc_now())
    return await _rendered(session, subscription, status_code=201)


@router.get(
    "/{id}",
    summary="Get Subscription",
    description="Get a subscription by ID.",
    operation_id="subscriptions:get",
    response_model=Subscription,
    responses=_NOT_FOUND,
)
async def get_subscription(
    id: SubscriptionID, principal: Reader, connection: Connection
) -> Rendered:
    row = await service.get(connection, principal, id)
    details = await service.load_details(connection, [row])
    return Rendered(partial(render.subscription, row, details))


@router.patch(
    "/{id}",
    summary="Update Subscription",
    description="Update a subscription.",
    operation_id="subscriptions:update",
    response_model=Subscription,
    responses={**_CANCELED, **_NOT_FOUND},
)
async def update_subscription(
    id: SubscriptionID,
    body: Annotated[SubscriptionUpdate, Body()],
    principal: Writer,
    session: Session,
) -> Rendered:
    subscription = await service.lock(session, principal, id)
    subscription = await service.update(session, subscription, body, now=utc_now())
    return await _rendered(session, subscription)


@router.delete(
    "/{id}",
    summary="Revoke Subscription",
    description="Revoke a subscription, i.e cancel immediately.",
    operation_id="subscriptions:revoke",
    response_model=Subscription,
    responses={**_CANCELED, **_NOT_FOUND},
)
async def revoke_subscription(id: SubscriptionID, principal: Writer, session: Session) -> Rendered:
    subscription = await service.lock(session, principal, id)
    subscription = await service.revoke(session, subscription, now=utc_now())
    return await _rendered(session, subscription)


async def _rendered(
    session: AsyncSession, subscription: SubscriptionModel, *, status_code: int = 200
) -> Rendered:
    """The changed subscription as its response, its relations read in the write's own
    transaction (they may have changed with it)."""
    row = repository.row_of(subscription)
    connection = await borrow(await session.connection())
    details = await service.load_details(connection, [row])
    return Rendered(partial(render.subscription, row, details), status_code=status_code)
