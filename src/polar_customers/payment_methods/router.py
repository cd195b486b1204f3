"""HTTP routes of a customer's payment methods: `/v1/customers/{id}/payment-methods` and
`/v1/customers/external/{external_id}/payment-methods`."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import CUSTOMERS_READ
from polar_customers.customers import service as customers_service
from polar_customers.customers.repository import ByExternalId, ById
from polar_customers.customers.schemas import CustomerID, ExternalID
from polar_customers.db import RawConnectionDependency
from polar_customers.kit.openapi import AUTH_RESPONSES, not_found
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.payment_methods import render, repository
from polar_customers.payment_methods.schemas import PaymentMethod

router = APIRouter(
    prefix="/v1/customers", tags=["customers"], responses=AUTH_RESPONSES, route_class=ApiRoute
)
Reader = Annotated[Principal, Depends(Authorizer(*CUSTOMERS_READ))]
_NOT_FOUND = not_found("Customer not found.")


@router.get(
    "/external/{external_id}/payment-methods",
    summary="List Customer Payment Methods by External ID",
    operation_id="customers:list_payment_methods_external",
    response_model=ListResource[PaymentMethod],
    responses=_NOT_FOUND,
)
async def list_payment_methods_external(
    external_id: ExternalID,
    principal: Reader,
    connection: RawConnectionDependency,
    pagination: PaginationParamsQuery,
) -> Rendered:
    """List the payment methods of a customer identified by its external ID."""
    return await _list(connection, principal, ByExternalId(external_id), pagination)


@router.get(
    "/{id}/payment-methods",
    summary="List Customer Payment Methods",
    operation_id="customers:list_payment_methods",
    response_model=ListResource[PaymentMethod],
    responses=_NOT_FOUND,
)
async def list_payment_methods(
    id: CustomerID,
    principal: Reader,
    connection: RawConnectionDependency,
    pagination: PaginationParamsQuery,
) -> Rendered:
    """List the payment methods of a customer."""
    return await _list(connection, principal, ById(id), pagination)


async def _list(
    connection: RawConnectionDependency,
    principal: Principal,
    lookup: ById | ByExternalId,
    pagination: PaginationParamsQuery,
) -> Rendered:
    customer = await customers_service.get(connection, principal, lookup)
    rows, total = await repository.page(
        connection,
        OrganizationIds((customer["organization_id"],)),
        customer["id"],
        pagination=pagination,
    )
    return Rendered(
        partial(
            render.payment_method_page,
            rows,
            default_id=customer["default_payment_method_id"],
            total=total,
            pagination=pagination,
        )
    )
