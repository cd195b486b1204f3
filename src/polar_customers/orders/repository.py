"""SQL for orders, their items, payments and checkouts. Reads and locks of the API are bound
to the caller's organizations (kit/tenancy.py); the balance sums start from the organization of
the customer."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import (
    BindParameter,
    Select,
    bindparam,
    case,
    false,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.customers.repository import CUSTOMER_COLUMNS, CustomerRow
from polar_customers.kit.metadata import metadata_filters
from polar_customers.kit.pagination import PaginationParams, paginate_rows
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.records import TenantRecords
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import (
    TENANTS,
    OrganizationIds,
    tenant_parameters,
)
from polar_customers.models import (
    Checkout,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    Organization,
    Payment,
    PaymentStatus,
    Product,
    Subscription,
)

COUNTED_ORDER_STATUSES = (OrderStatus.paid, OrderStatus.partially_refunded)
NET_AMOUNT = Order.subtotal_amount - Order.discount_amount
TOTAL_AMOUNT = NET_AMOUNT + Order.tax_amount
_TOTAL = TOTAL_AMOUNT
_REFUNDED = Order.refunded_amount + Order.refunded_tax_amount


@dataclass(frozen=True, slots=True)
class BalanceSums:
    """A customer's sums in one currency, in cents."""

    currency: str
    """The organization's default currency, the only one summed (lower case)."""
    paid: int
    """Succeeded payments of its counted orders or of its checkouts, each counted once."""
    orders: int
    """Totals of its counted orders, less what was refunded of them."""
    refunded: int
    """What was refunded of its counted orders."""


_ORGANIZATION_ID: BindParameter[uuid.UUID] = bindparam("organization_id")
_CUSTOMER_ID: BindParameter[uuid.UUID] = bindparam("customer_id")
_COUNTED_ORDERS = (
    Order.organization_id == _ORGANIZATION_ID,
    Order.customer_id == _CUSTOMER_ID,
    Order.deleted_at.is_(None),
    or_(*(Order.status == status for status in COUNTED_ORDER_STATUSES)),
)
# The organization's default currency: only amounts in it are summed (docs/decisions.md#d9).
_CURRENCY = (
    select(Organization.default_currency)
    .where(Organization.id == _ORGANIZATION_ID)
    .scalar_subquery()
)
_COUNTED_PAYMENTS = (
    Payment.status == PaymentStatus.succeeded,
    Payment.currency == _CURRENCY,
    Payment.deleted_at.is_(None),
)
# Payments of the customer's counted orders or of its checkouts, each found through an index
# on (organization_id, order_id | checkout_id); the UNION counts a payment reached both ways
# once.
_PAID_PAYMENTS = union(
    select(Payment.id, Payment.amount).where(
        Payment.organization_id == _ORGANIZATION_ID,
        Payment.order_id.in_(select(Order.id).where(*_COUNTED_ORDERS)),
        *_COUNTED_PAYMENTS,
    ),
    select(Payment.id, Payment.amount).where(
        Payment.organization_id == _ORGANIZATION_ID,
        Payment.checkout_id.in_(
            select(Checkout.id).where(
                Checkout.organization_id == _ORGANIZATION_ID,
                Checkout.customer_id == _CUSTOMER_ID,
                Checkout.deleted_at.is_(None),
            )
        ),
        *_COUNTED_PAYMENTS,
    ),
).subquery()
_PAID = select(func.coalesce(func.sum(_PAID_PAYMENTS.c.amount), 0)).scalar_subquery()
_ORDERS = (
    select(
        func.coalesce(func.sum(_TOTAL - _REFUNDED), 0).label("net_total"),
        func.coalesce(func.sum(_REFUNDED), 0).label("refunded"),
    )
    .where(*_COUNTED_ORDERS, Order.currency == _CURRENCY)
    .subquery()
)
_BALANCE_SUMS = RawQuery(
    select(_CURRENCY.label("currency"), _PAID, _ORDERS.c.net_total, _ORDERS.c.refunded)
)


async def balance_sums(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> BalanceSums:
    """The customer's payments and counted orders (paid or partially refunded) in its
    organization's default currency."""
    row = await connection.fetch_one(
        _BALANCE_SUMS, organization_id=organization_id, customer_id=customer_id
    )
    assert row is not None  # an aggregate without GROUP BY has one row
    currency, paid, orders, refunded = row
    return BalanceSums(
        currency=currency, paid=int(paid), orders=int(orders), refunded=int(refunded)
    )


# The orders API ------------------------------------------------------------------------------


class OrderRow(TypedDict):
    """An order as every read gives it: its columns, by attribute name."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    customer_id: uuid.UUID
    checkout_id: uuid.UUID | None
    product_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    status: str
    billing_reason: str
    billing_period_start: datetime | None
    billing_name: str | None
    billing_address: dict[str, Any] | None
    invoice_number: str | None
    invoice_sequence: int | None
    subtotal_amount: int
    discount_amount: int
    tax_amount: int
    refunded_amount: int
    refunded_tax_amount: int
    currency: str
    user_metadata: dict[str, Any]
    custom_field_data: dict[str, Any]


_RECORDS: TenantRecords[Order, OrderRow] = TenantRecords(Order)
ORDER_COLUMNS = _RECORDS.columns
_VISIBLE = _RECORDS.visible
"""The one tenancy predicate of the table: live orders of the caller's organizations."""
row_of = _RECORDS.row_of
read = _RECORDS.read
"""The visible order with this id, without the ORM (for responses)."""
lock = _RECORDS.lock
"""Like `read`, as a model locked until the transaction ends (for writes): payments and
refunds of one order apply one after the other, each seeing the amounts the last left."""


# Lists ---------------------------------------------------------------------------------------


def list_statement(
    *,
    dialect: str,
    product_ids: Sequence[uuid.UUID] | None = None,
    recurring: bool | None = None,
    discount_ids: Sequence[uuid.UUID] | None = None,
    customer_ids: Sequence[uuid.UUID] | None = None,
    checkout_ids: Sequence[uuid.UUID] | None = None,
    metadata: Mapping[str, list[str]] | None = None,
) -> Select[Any]:
    """The visible orders that pass the list filters (unsorted). `recurring` keeps the orders
    of recurring (True) or one-time (False) products."""
    statement = select(*ORDER_COLUMNS).where(_VISIBLE)
    if product_ids is not None:
        statement = statement.where(Order.product_id.in_(product_ids))
    if recurring is not None:
        interval = Product.recurring_interval
        statement = statement.where(
            Order.product_id.in_(
                select(Product.id).where(
                    Product.organization_id == Order.organization_id,
                    interval.is_not(None) if recurring else interval.is_(None),
                )
            )
        )
    if discount_ids is not None:
        statement = statement.where(false())  # no order of this server has a discount
    if customer_ids is not None:
        statement = statement.where(Order.customer_id.in_(customer_ids))
    if checkout_ids is not None:
        statement = statement.where(Order.checkout_id.in_(checkout_ids))
    if metadata:
        statement = statement.where(
            metadata_filters(Order.user_metadata, metadata, dialect=dialect)
        )
    return statement


_STATUS_RANK = case(
    {
        OrderStatus.pending: 2,
        OrderStatus.paid: 3,
        OrderStatus.partially_refunded: 4,
        OrderStatus.refunded: 5,
    },
    value=Order.status,
)
_SORT_KEYS: dict[str, Any] = {
    "created_at": Order.created_at,
    "status": _STATUS_RANK,
    "invoice_number": Order.invoice_sequence,
    "amount": NET_AMOUNT,
    "net_amount": NET_AMOUNT,
    "customer": select(Customer.email)
    .where(Customer.id == Order.customer_id)
    .correlate(Order)
    .scalar_subquery(),
    "product": select(Product.name)
    .where(Product.id == Order.product_id)
    .correlate(Order)
    .scalar_subquery(),
    "subscription": Order.subscription_id,
}


def _order_by(sorting: Sequence[SortCriterion]) -> list[Any]:
    clauses = []
    for criterion in sorting:
        key = _SORT_KEYS.get(criterion.property)
        if key is None:  # `discount`: no order has one, every order ties
            continue
        # Same NULL placement on both engines: last ascending, first descending.
        clauses.append(key.desc().nulls_first() if criterion.descending else key.asc().nulls_last())
    # A unique tie-breaker keeps pages stable when sort keys repeat (docs/decisions.md#d15).
    descending = sorting[-1].descending if sorting else True
    clauses.append(Order.id.desc() if descending else Order.id.asc())
    return clauses


async def page(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[OrderRow], int]:
    """One sorted page of `statement` and the total count of its rows."""
    rows, total = await paginate_rows(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=_order_by(sorting),
    )
    return cast(list[OrderRow], rows), total


# What an order's response embeds: one query per table, whatever the number of orders. Rows
# are read even when soft-deleted (an order keeps showing its deleted customer), within the
# organizations of the orders.

_IDS: BindParameter[Any] = bindparam("ids", expanding=True)


def _related(columns: Sequence[Any], model: Any, key: Any) -> RawQuery:
    return RawQuery(
        select(*columns).where(
            model.organization_id.in_(bindparam(TENANTS, expanding=True)), key.in_(_IDS)
        )
    )


_PRODUCT_COLUMNS = (
    Product.id,
    Product.created_at,
    Product.modified_at,
    Product.organization_id,
    Product.name,
    Product.description,
    Product.recurring_interval,
    Product.trial_interval,
    Product.trial_interval_count,
    Product.is_archived,
    Product.user_metadata,
)
_CUSTOMERS = _related(CUSTOMER_COLUMNS, Customer, Customer.id)
_PRODUCTS = _related(_PRODUCT_COLUMNS, Product, Product.id)
_SUBSCRIPTIONS = _related(attribute_columns(Subscription), Subscription, Subscription.id)
_ITEMS = RawQuery(
    _related(attribute_columns(OrderItem), OrderItem, OrderItem.order_id)
    .statement.where(OrderItem.deleted_at.is_(None))
    .order_by(OrderItem.created_at, OrderItem.id)
)


@dataclass(frozen=True, slots=True)
class Related:
    """The rows that the responses of some orders embed, by id (items by order id)."""

    customers: dict[uuid.UUID, CustomerRow]
    products: dict[uuid.UUID, dict[str, Any]]
    subscriptions: dict[uuid.UUID, dict[str, Any]]
    items: dict[uuid.UUID, list[dict[str, Any]]]


async def _by_id(
    connection: RawConnection, query: RawQuery, tenants: list[uuid.UUID], ids: set[Any]
) -> dict[uuid.UUID, Any]:
    ids.discard(None)
    if not ids:
        return {}
    rows = await connection.fetch_mappings(query, **{TENANTS: tenants}, ids=list(ids))
    return {row["id"]: row for row in rows}


async def related(connection: RawConnection, orders: Sequence[OrderRow]) -> Related:
    """The customers, products, subscriptions and items of `orders`."""
    tenants = list({order["organization_id"] for order in orders})
    items: dict[uuid.UUID, list[dict[str, Any]]] = {order["id"]: [] for order in orders}
    if orders:
        rows = await connection.fetch_mappings(_ITEMS, **{TENANTS: tenants}, ids=list(items))
        for row in rows:
            items[row["order_id"]].append(row)
    return Related(
        customers=await _by_id(
            connection, _CUSTOMERS, tenants, {order["customer_id"] for order in orders}
        ),
        products=await _by_id(
            connection, _PRODUCTS, tenants, {order["product_id"] for order in orders}
        ),
        subscriptions=await _by_id(
            connection, _SUBSCRIPTIONS, tenants, {order["subscription_id"] for order in orders}
        ),
        items=items,
    )


# Subscription orders -------------------------------------------------------------------------


async def find_subscription_order(
    session: AsyncSession,
    organization_id: uuid.UUID,
    subscription_id: uuid.UUID,
    period_start: datetime,
) -> Order | None:
    """The order of a subscription's billing period, if there is one (live or not: the unique
    index counts every row)."""
    statement = select(Order).where(
        Order.organization_id == organization_id,
        Order.subscription_id == subscription_id,
        Order.billing_period_start == period_start,
    )
    found: Order | None = await session.scalar(statement)
    return found


async def next_invoice_sequence(session: AsyncSession, organization_id: uuid.UUID) -> int:
    """The organization's next invoice sequence number, kept for this transaction: the
    organization's row is locked until it ends, so that concurrent orders of one organization
    take numbers one after the other. `FOR NO KEY UPDATE` still lets other transactions insert
    rows that reference the organization."""
    await session.execute(
        select(Organization.id)
        .where(Organization.id == organization_id)
        .with_for_update(key_share=True)
    )
    last = await session.scalar(
        select(func.max(Order.invoice_sequence)).where(Order.organization_id == organization_id)
    )
    return int(last or 0) + 1
