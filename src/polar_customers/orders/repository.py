"""SQL for orders, payments and checkouts. Every query starts from the organization of the
customer."""

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Checkout, Order, OrderStatus, Payment, PaymentStatus

COUNTED_ORDER_STATUSES = (OrderStatus.paid, OrderStatus.partially_refunded)
_TOTAL = Order.subtotal_amount - Order.discount_amount + Order.tax_amount
_REFUNDED = Order.refunded_amount + Order.refunded_tax_amount


@dataclass(frozen=True, slots=True)
class BalanceSums:
    """A customer's sums in one currency, in cents."""

    paid: int
    """Succeeded payments of its counted orders or of its checkouts, each counted once."""
    orders: int
    """Totals of its counted orders, less what was refunded of them."""
    refunded: int
    """What was refunded of its counted orders."""


def _counted_orders(
    organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[ColumnElement[bool]]:
    return [
        Order.organization_id == organization_id,
        Order.customer_id == customer_id,
        Order.deleted_at.is_(None),
        Order.status.in_(COUNTED_ORDER_STATUSES),
    ]


def _paid_payment_ids(organization_id: uuid.UUID, customer_id: uuid.UUID) -> ColumnElement[bool]:
    # A UNION of two index walks (orders or checkouts by customer, then their payments); it
    # also counts once a payment reached through both its order and its checkout.
    through_orders = (
        select(Payment.id)
        .join(
            Order,
            (Order.organization_id == Payment.organization_id) & (Order.id == Payment.order_id),
        )
        .where(*_counted_orders(organization_id, customer_id))
    )
    through_checkouts = (
        select(Payment.id)
        .join(
            Checkout,
            (Checkout.organization_id == Payment.organization_id)
            & (Checkout.id == Payment.checkout_id),
        )
        .where(
            Checkout.organization_id == organization_id,
            Checkout.customer_id == customer_id,
            Checkout.deleted_at.is_(None),
        )
    )
    return Payment.id.in_(union(through_orders, through_checkouts))


async def balance_sums(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, *, currency: str
) -> BalanceSums:
    """The customer's payments and counted orders (paid or partially refunded) in `currency`."""
    paid = (
        select(func.coalesce(func.sum(Payment.amount), 0))
        .where(
            Payment.organization_id == organization_id,
            _paid_payment_ids(organization_id, customer_id),
            Payment.status == PaymentStatus.succeeded,
            Payment.currency == currency,
            Payment.deleted_at.is_(None),
        )
        .scalar_subquery()
    )
    orders = (
        select(
            func.coalesce(func.sum(_TOTAL - _REFUNDED), 0).label("net_total"),
            func.coalesce(func.sum(_REFUNDED), 0).label("refunded"),
        )
        .where(*_counted_orders(organization_id, customer_id), Order.currency == currency)
        .subquery()
    )
    row = (await session.execute(select(paid, orders.c.net_total, orders.c.refunded))).one()
    return BalanceSums(paid=int(row[0]), orders=int(row[1]), refunded=int(row[2]))
