"""HTTP routes of products: `/v1/products`."""

from collections.abc import Sequence
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import UUID4

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import PRODUCTS_READ, PRODUCTS_WRITE
from polar_customers.db import RawConnectionDependency, SessionDependency
from polar_customers.errors import NotPermitted
from polar_customers.kit.filters import OrganizationIDFilter, as_list
from polar_customers.kit.metadata import METADATA_QUERY_OPENAPI, get_metadata_query
from polar_customers.kit.openapi import AUTH_RESPONSES, error_response, not_found
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.sorting import SortCriterion, sorting_dependency
from polar_customers.kit.tenancy import narrow
from polar_customers.kit.time import utc_now
from polar_customers.products import render, service
from polar_customers.products.schemas import (
    Product,
    ProductBenefitsUpdate,
    ProductCreate,
    ProductID,
    ProductSortProperty,
    ProductUpdate,
)

router = APIRouter(
    prefix="/v1/products",
    tags=["products"],
    responses=AUTH_RESPONSES,
    route_class=ApiRoute,
)

Reader = Annotated[Principal, Depends(Authorizer(*PRODUCTS_READ))]
Writer = Annotated[Principal, Depends(Authorizer(*PRODUCTS_WRITE))]
Sorting = Annotated[
    list[SortCriterion], Depends(sorting_dependency(ProductSortProperty, default=["-created_at"]))
]
ProductIDFilter = Annotated[
    UUID4 | Sequence[UUID4] | None,
    Query(title="ProductID Filter", description="Filter by product ID."),
]
BenefitIDFilter = Annotated[
    UUID4 | Sequence[UUID4] | None,
    Query(title="BenefitID Filter", description="Filter products granting specific benefit."),
]
IsRecurring = Annotated[
    bool | None,
    Query(
        description=(
            "Filter on recurring products. If `true`, only subscriptions tiers are returned. "
            "If `false`, only one-time purchase products are returned. "
        )
    ),
]

_NOT_FOUND = not_found("Product not found.")
_NOT_PERMITTED = error_response(
    403, NotPermitted, "You don't have the permission to update this product."
)


@router.get(
    "/",
    summary="List Products",
    description="List products.",
    operation_id="products:list",
    response_model=ListResource[Product],
    openapi_extra={"parameters": [METADATA_QUERY_OPENAPI]},
)
async def list_products(
    principal: Reader,
    session: SessionDependency,
    pagination: PaginationParamsQuery,
    sorting: Sorting,
    id: ProductIDFilter = None,
    organization_id: OrganizationIDFilter = None,
    query: Annotated[str | None, Query(description="Filter by product name.")] = None,
    is_archived: Annotated[bool | None, Query(description="Filter on archived products.")] = None,
    is_recurring: IsRecurring = None,
    benefit_id: BenefitIDFilter = None,
    metadata: dict[str, list[str]] = Depends(get_metadata_query),
) -> Rendered:
    """List the products visible to the caller, filtered, sorted and paginated."""
    rows, total = await service.list_products(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        ids=as_list(id),
        query=query,
        is_archived=is_archived,
        is_recurring=is_recurring,
        benefit_ids=as_list(benefit_id),
        metadata=metadata,
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.product_page, rows, total=total, pagination=pagination))


@router.post(
    "/",
    summary="Create Product",
    description="Create a product.",
    operation_id="products:create",
    status_code=201,
    response_model=Product,
    responses={201: {"description": "Product created."}},
)
async def create_product(
    product_create: ProductCreate, principal: Writer, session: SessionDependency
) -> Rendered:
    """Create a product and its prices in the caller's organization (or the one named)."""
    full = await service.create_product(session, principal, create=product_create.root)
    return Rendered(partial(render.product, full), status_code=201)


@router.get(
    "/{id}",
    summary="Get Product",
    description="Get a product by ID.",
    operation_id="products:get",
    response_model=Product,
    responses=_NOT_FOUND,
)
async def get_product(
    id: ProductID, principal: Reader, connection: RawConnectionDependency
) -> Rendered:
    """Get a product, archived or not, by ID."""
    full = await service.get(connection, principal, id)
    return Rendered(partial(render.product, full))


@router.patch(
    "/{id}",
    summary="Update Product",
    description="Update a product.",
    operation_id="products:update",
    response_model=Product,
    responses={200: {"description": "Product updated."}, **_NOT_PERMITTED, **_NOT_FOUND},
)
async def update_product(
    id: ProductID, product_update: ProductUpdate, principal: Writer, session: SessionDependency
) -> Rendered:
    """Update the fields present in the body of a product found by ID."""
    product = await service.lock(session, principal, id)
    full = await service.update_product(session, product, update=product_update, now=utc_now())
    return Rendered(partial(render.product, full))


@router.post(
    "/{id}/benefits",
    summary="Update Product Benefits",
    description="Update benefits granted by a product.",
    operation_id="products:update_benefits",
    response_model=Product,
    responses={
        200: {"description": "Product benefits updated."},
        **_NOT_PERMITTED,
        **_NOT_FOUND,
    },
)
async def update_product_benefits(
    id: ProductID,
    product_benefits_update: ProductBenefitsUpdate,
    principal: Writer,
    session: SessionDependency,
) -> Rendered:
    """Set the benefits a product grants, in order; its subscribers gain and lose them."""
    product = await service.lock(session, principal, id)
    full = await service.update_benefits(
        session, principal, product, benefit_ids=product_benefits_update.benefits, now=utc_now()
    )
    return Rendered(partial(render.product, full))
