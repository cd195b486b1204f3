"""Checkouts: a customer's one-time purchase of a product. Payments are collected elsewhere
(as for orders, docs/decisions.md#d37): completing a checkout records the checkout, its order
and the succeeded payment that paid it, linked to both, so that the payment counts towards
the customer's balance through its checkout (contract §8). No route creates checkouts;
`polar-customers demo` completes them (docs/decisions.md#d49). Services flush; the caller
commits."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.customers import repository as customers_repository
from polar_customers.customers import service as customers_service
from polar_customers.errors import PolarRequestValidationError
from polar_customers.models import Checkout, Order, OrderStatus, PaymentStatus, ProductPrice
from polar_customers.orders import ledger
from polar_customers.orders import service as orders_service
from polar_customers.orders.ledger_repository import PaymentRow
from polar_customers.orders.ledger_schemas import PaymentCreate
from polar_customers.orders.service import OrderLine
from polar_customers.products import service as products_service

PRODUCT_DOES_NOT_EXIST = "Product does not exist."
NOT_ONE_TIME = "Product is not a one-time product."
ARCHIVED = "Product is archived."


@dataclass(frozen=True)
class Purchase:
    """A completed checkout, its order, and the payment that paid it (None for a free
    product: its order is paid without one)."""

    checkout: Checkout
    order: Order
    payment: PaymentRow | None


def _invalid(message: str, product_id: uuid.UUID) -> PolarRequestValidationError:
    return PolarRequestValidationError(
        [
            {
                "type": "value_error",
                "loc": ("body", "product_id"),
                "msg": message,
                "input": str(product_id),
            }
        ]
    )


async def _one_time(
    session: AsyncSession, organization_id: uuid.UUID, product_id: uuid.UUID
) -> products_service.PurchasableProduct:
    """The unarchived one-time product a checkout may sell."""
    found = await products_service.get_purchasable(
        session, organization_id=organization_id, product_id=product_id
    )
    if found is None:
        raise _invalid(PRODUCT_DOES_NOT_EXIST, product_id)
    if found.product.recurring_interval is not None:
        raise _invalid(NOT_ONE_TIME, product_id)
    if found.product.is_archived:
        raise _invalid(ARCHIVED, product_id)
    return found


def _lines(product_name: str, prices: list[ProductPrice]) -> list[OrderLine]:
    # One-time products have a fixed or a free price (no metered one: products/service.py).
    return [
        OrderLine(label=product_name, amount=price.price_amount or 0, product_price_id=price.id)
        for price in prices
    ]


async def complete_purchase(
    session: AsyncSession,
    principal: Principal,
    *,
    customer_id: uuid.UUID,
    product_id: uuid.UUID,
    method: str = "card",
    now: datetime,
) -> Purchase:
    """The customer buys the one-time product: a checkout, its order, and the succeeded
    payment of the order's total collected by the checkout."""
    customer = await customers_service.lock(
        session, principal, customers_repository.ById(customer_id)
    )
    purchasable = await _one_time(session, customer.organization_id, product_id)
    checkout = Checkout(
        organization_id=customer.organization_id, customer_id=customer.id, created_at=now
    )
    session.add(checkout)
    await session.flush()
    order = await orders_service.create_purchase_order(
        session,
        customer=customer,
        product_id=product_id,
        checkout_id=checkout.id,
        lines=_lines(purchasable.product.name, purchasable.prices),
        currency=next((p.price_currency for p in purchasable.prices if p.price_currency), "usd"),
        now=now,
    )
    payment = None
    if order.status == OrderStatus.pending:
        create = PaymentCreate(order_id=order.id, status=PaymentStatus.succeeded, method=method)
        payment = await ledger.record_payment(
            session, principal, create=create, checkout_id=checkout.id, now=now
        )
    return Purchase(checkout=checkout, order=order, payment=payment)
