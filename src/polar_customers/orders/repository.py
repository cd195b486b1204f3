"""SQL for orders, payments and checkouts. Every query starts from the organization of the
customer."""

import uuid
from dataclasses import dataclass

from sqlalchemy import BindParameter, bindparam, func, or_, select, union

from polar_customers.kit.raw_sql import RawConnection, RawQuery
from polar_customers.models import (
    Checkout,
    Order,
    OrderStatus,
    Organization,
    Payment,
    PaymentStatus,
)

COUNTED_ORDER_STATUSES = (OrderStatus.paid, OrderStatus.partially_refunded)
_TOTAL = Order.subtotal_amount - Order.discount_amount + Order.tax_amount
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
