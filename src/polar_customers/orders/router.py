"""HTTP routes of orders, and of the payments and refunds recorded for them: `/v1/orders`,
`/v1/payments` (whose create is an extension of this server) and `/v1/refunds`."""

from collections.abc import Sequence
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import UUID4

from polar_customers.auth.principal import Authorizer, Principal
from polar_customers.auth.scopes import ORDERS_READ, ORDERS_WRITE
from polar_customers.db import RawConnectionDependency, SessionDependency
from polar_customers.kit.filters import OrganizationIDFilter, as_list
from polar_customers.kit.metadata import METADATA_QUERY_OPENAPI, get_metadata_query
from polar_customers.kit.openapi import (
    AUTH_RESPONSES,
    UNSUPPORTED_VERSION_RESPONSE,
    error_response,
    not_found,
)
from polar_customers.kit.pagination import ListResource, PaginationParamsQuery
from polar_customers.kit.responses import Rendered
from polar_customers.kit.routing import ApiRoute
from polar_customers.kit.sorting import SortCriterion, sorting_dependency
from polar_customers.kit.tenancy import narrow
from polar_customers.kit.time import utc_now
from polar_customers.models import PaymentStatus
from polar_customers.orders import ledger, render, service
from polar_customers.orders.ledger_schemas import (
    Payment,
    PaymentCreate,
    PaymentID,
    PaymentSortProperty,
    Refund,
    RefundCreate,
    RefundSortProperty,
)
from polar_customers.orders.schemas import (
    Order,
    OrderID,
    OrderSortProperty,
    OrderUpdate,
    ProductBillingType,
)

router = APIRouter(prefix="/v1", responses=AUTH_RESPONSES, route_class=ApiRoute)

Session = SessionDependency
Connection = RawConnectionDependency
Reader = Annotated[Principal, Depends(Authorizer(*ORDERS_READ))]
Writer = Annotated[Principal, Depends(Authorizer(*ORDERS_WRITE))]
IDs = UUID4 | Sequence[UUID4] | None

_EXTENSION = "Extension of this server: "
_NOT_FOUND = not_found("Order not found.")


def _sorting(enum: type, default: str) -> object:
    return Depends(sorting_dependency(enum, default=[default]))


def _ids(name: str) -> object:
    return Query(title=f"{name}ID Filter", description=f"Filter by {name.lower()} ID.")


# Orders --------------------------------------------------------------------------------------


@router.get(
    "/orders/",
    tags=["orders"],
    summary="List Orders",
    description="List orders.",
    operation_id="orders:list",
    response_model=ListResource[Order],
    openapi_extra={"parameters": [METADATA_QUERY_OPENAPI]},
)
async def list_orders(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: Annotated[list[SortCriterion], _sorting(OrderSortProperty, "-created_at")],
    organization_id: OrganizationIDFilter = None,
    product_id: Annotated[IDs, _ids("Product")] = None,
    product_billing_type: Annotated[
        ProductBillingType | Sequence[ProductBillingType] | None,
        Query(
            title="ProductBillingType Filter",
            description=(
                "Filter by product billing type. `recurring` will filter data corresponding to "
                "subscriptions creations or renewals. `one_time` will filter data corresponding "
                "to one-time purchases."
            ),
        ),
    ] = None,
    discount_id: Annotated[IDs, _ids("Discount")] = None,
    customer_id: Annotated[IDs, _ids("Customer")] = None,
    checkout_id: Annotated[IDs, _ids("Checkout")] = None,
    metadata: dict[str, list[str]] = Depends(get_metadata_query),
) -> Rendered:
    """List the orders visible to the caller, filtered, sorted and paginated."""
    rows, related, total = await service.list_orders(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        product_ids=as_list(product_id),
        recurring=_recurring(as_list(product_billing_type)),
        discount_ids=as_list(discount_id),
        customer_ids=as_list(customer_id),
        checkout_ids=as_list(checkout_id),
        metadata=metadata,
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.order_page, rows, related, total=total, pagination=pagination))


def _recurring(types: Sequence[str] | None) -> bool | None:
    """Orders of recurring products (True), of one-time ones (False), or of any (None)."""
    if types is None or len(set(types)) != 1:
        return None
    return types[0] == ProductBillingType.recurring


@router.get(
    "/orders/{id}",
    tags=["orders"],
    summary="Get Order",
    description="Get an order by ID.",
    operation_id="orders:get",
    response_model=Order,
    responses=_NOT_FOUND,
)
async def get_order(id: OrderID, principal: Reader, connection: Connection) -> Rendered:
    """Get an order by ID."""
    row, related = await service.get(connection, principal, id)
    return Rendered(partial(render.order, row, related))


@router.patch(
    "/orders/{id}",
    tags=["orders"],
    summary="Update Order",
    description="Update an order.",
    operation_id="orders:update",
    response_model=Order,
    responses=_NOT_FOUND,
)
async def update_order(
    id: OrderID, order_update: OrderUpdate, principal: Writer, session: Session
) -> Rendered:
    """Set the billing name and address an order's invoice shows."""
    order = await service.lock(session, principal, id)
    row = await service.update_order(session, order, update=order_update, now=utc_now())
    return Rendered(partial(render.order, row, await service.related(session, [row])))


# Payments ------------------------------------------------------------------------------------

_PAYMENT_DESCRIPTION = (
    _EXTENSION + "record a payment of an order, collected elsewhere (this server charges "
    "nobody).\n\nA `succeeded` payment pays a `pending` order: the order becomes `paid` once "
    "its succeeded payments reach its total (`amount` defaults to what remains). A `failed` "
    "payment leaves the order `pending` and makes its subscription, if any, `past_due`; the "
    "payment that then pays the order makes the subscription `active` again. Paid and refunded "
    "orders take no payment, and only in the order's currency. The customer balance counts the "
    "succeeded payments of paid orders."
)


@router.post(
    "/payments/",
    tags=["payments"],
    summary="Create Payment",
    description=_PAYMENT_DESCRIPTION,
    operation_id="payments:create",
    status_code=201,
    response_model=Payment,
    responses={
        201: {"description": "Payment recorded."},
        **error_response(403, ledger.OrderAlreadyPaid, "The order is already paid or refunded."),
    },
)
async def create_payment(
    payment_create: Annotated[PaymentCreate, Body()], principal: Writer, session: Session
) -> Rendered:
    """Record a payment of an order."""
    row = await ledger.record_payment(session, principal, create=payment_create, now=utc_now())
    return Rendered(partial(render.payment, row), status_code=201)


@router.get(
    "/payments/",
    tags=["payments"],
    summary="List Payments",
    description=(
        "List payments.\n\nOn this server, payments are recorded with `POST /v1/payments/`; "
        "their `processor` and `method` are the labels given then."
    ),
    operation_id="payments:list",
    response_model=ListResource[Payment],
)
async def list_payments(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: Annotated[list[SortCriterion], _sorting(PaymentSortProperty, "-created_at")],
    organization_id: OrganizationIDFilter = None,
    checkout_id: Annotated[IDs, _ids("Checkout")] = None,
    order_id: Annotated[IDs, _ids("Order")] = None,
    customer_id: Annotated[IDs, _ids("Customer")] = None,
    status: Annotated[
        PaymentStatus | Sequence[PaymentStatus] | None,
        Query(title="Status Filter", description="Filter by payment status."),
    ] = None,
    method: Annotated[
        str | Sequence[str] | None,
        Query(title="Method Filter", description="Filter by payment method."),
    ] = None,
) -> Rendered:
    """List the payments visible to the caller, filtered, sorted and paginated."""
    rows, total = await ledger.list_payments(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        order_ids=as_list(order_id),
        checkout_ids=as_list(checkout_id),
        customer_ids=as_list(customer_id),
        statuses=as_list(status),
        methods=as_list(method),
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.payment_page, rows, total=total, pagination=pagination))


@router.get(
    "/payments/{id}",
    tags=["payments"],
    summary="Get Payment",
    description="Get a payment by ID.",
    operation_id="payments:get",
    response_model=Payment,
    responses=not_found("Payment not found."),
)
async def get_payment(id: PaymentID, principal: Reader, connection: Connection) -> Rendered:
    """Get a payment by ID."""
    row = await ledger.get_payment(connection, principal, id)
    return Rendered(partial(render.payment, row))


# Refunds -------------------------------------------------------------------------------------

_REFUND_DESCRIPTION = (
    "Create a refund.\n\nOn this server, a refund records money given back elsewhere (it "
    "moves no money): it is `succeeded` at once, and the order becomes `partially_refunded`, or "
    "`refunded` once its whole net amount is. Only paid orders are refunded, up to what remains "
    "refundable."
)


def _or_unsupported_version(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, Any]:
    """A documented 400 that may also be the `UnsupportedApiVersion` of every route."""
    [(status, response)] = responses.items()
    schemas = [
        response["content"]["application/json"]["schema"],
        UNSUPPORTED_VERSION_RESPONSE[400]["content"]["application/json"]["schema"],
    ]
    content = {"application/json": {"schema": {"anyOf": schemas}}}
    return {status: {**response, "content": content}}


_REVOKE_PROHIBITED = _or_unsupported_version(
    error_response(
        400,
        ledger.RevokeSubscriptionBenefitsProhibited,
        "Benefits of a subscription's order cannot be revoked by a refund.",
    )
)


@router.post(
    "/refunds/",
    tags=["refunds"],
    summary="Create Refund",
    description=_REFUND_DESCRIPTION,
    operation_id="refunds:create",
    status_code=201,
    response_model=Refund,
    responses={
        201: {"description": "Refund created."},
        **_REVOKE_PROHIBITED,
        **error_response(403, ledger.RefundedAlready, "Order is already fully refunded."),
    },
)
async def create_refund(
    refund_create: Annotated[RefundCreate, Body()], principal: Writer, session: Session
) -> Rendered:
    """Refund part or all of a paid order."""
    row = await ledger.create_refund(session, principal, create=refund_create, now=utc_now())
    return Rendered(partial(render.refund, row), status_code=201)


@router.get(
    "/refunds/",
    tags=["refunds"],
    summary="List Refunds",
    description="List refunds.",
    operation_id="refunds:list",
    response_model=ListResource[Refund],
)
async def list_refunds(
    principal: Reader,
    session: Session,
    pagination: PaginationParamsQuery,
    sorting: Annotated[list[SortCriterion], _sorting(RefundSortProperty, "-created_at")],
    id: Annotated[IDs, _ids("Refund")] = None,
    organization_id: OrganizationIDFilter = None,
    order_id: Annotated[IDs, _ids("Order")] = None,
    subscription_id: Annotated[IDs, _ids("Subscription")] = None,
    customer_id: Annotated[IDs, _ids("Customer")] = None,
    succeeded: Annotated[
        bool | None, Query(title="RefundStatus Filter", description="Filter by `succeeded`.")
    ] = None,
) -> Rendered:
    """List the refunds visible to the caller, filtered, sorted and paginated."""
    rows, total = await ledger.list_refunds(
        session,
        narrow(principal.organization_ids, as_list(organization_id)),
        ids=as_list(id),
        order_ids=as_list(order_id),
        subscription_ids=as_list(subscription_id),
        customer_ids=as_list(customer_id),
        succeeded=succeeded,
        pagination=pagination,
        sorting=sorting,
    )
    return Rendered(partial(render.refund_page, rows, total=total, pagination=pagination))
