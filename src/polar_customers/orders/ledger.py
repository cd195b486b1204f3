"""Payments and refunds of orders: every rule that needs the database.

Payments are collected elsewhere and recorded here (an extension of this server): a pending
order is `paid` once its succeeded payments reach its total. A failed payment of a
subscription's order makes the subscription past due; the payment that then pays that order
makes it active again. Refunds follow Polar's rules: only of paid orders, at most what is still
refundable, the order's refunded amounts and status following. The customer balance
(customers/state.py) sums exactly these rows."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.errors import (
    AppError,
    PolarRequestValidationError,
    ResourceNotFound,
)
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.models import Order, OrderStatus, Payment, PaymentStatus, Refund
from polar_customers.orders import ledger_repository as repository
from polar_customers.orders import repository as orders_repository
from polar_customers.orders.ledger_repository import (
    PaymentRow,
    RefundRow,
    payment_row_of,
    refund_row_of,
)
from polar_customers.orders.ledger_schemas import PaymentCreate, RefundCreate
from polar_customers.subscriptions import service as subscriptions_service

ORDER_NOT_FOUND = "Order not found"
PAYMENT_TOO_HIGH = "Payment amount exceeds the amount that remains to be paid"
REFUND_TOO_HIGH = "Refund amount exceeds refundable amount"


class OrderAlreadyPaid(AppError):
    """A payment for an order that is no longer pending."""

    status_code = 403

    def __init__(self, order: Order) -> None:
        state = "refunded" if order.status == OrderStatus.refunded else "already paid"
        super().__init__(f"Order is {state}: {order.id}")


class RefundedAlready(AppError):
    status_code = 403

    def __init__(self, order: Order) -> None:
        super().__init__(f"Order is already fully refunded: {order.id}")


class RevokeSubscriptionBenefitsProhibited(AppError):
    status_code = 400
    message = "Subscription benefits can only be revoked upon cancellation"


def _invalid(field: str, message: str, value: Any) -> PolarRequestValidationError:
    return PolarRequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


async def _order(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """The visible order a body names, locked; a 422 on `order_id` when there is none."""
    order = await orders_repository.lock(session, principal.organization_ids, order_id)
    if order is None:
        raise _invalid("order_id", ORDER_NOT_FOUND, str(order_id))
    return order


def total_amount(order: Order) -> int:
    return order.subtotal_amount - order.discount_amount + order.tax_amount


# Payments ------------------------------------------------------------------------------------


async def record_payment(
    session: AsyncSession,
    principal: Principal,
    *,
    create: PaymentCreate,
    now: datetime,
    checkout_id: uuid.UUID | None = None,
) -> PaymentRow:
    """Record a payment of a pending order, and what follows from it for the order and its
    subscription (an extension of this server: docs/decisions.md#d37). `checkout_id` is the
    order's checkout when the checkout collected the payment (checkouts/service.py)."""
    order = await _order(session, principal, create.order_id)
    assert checkout_id is None or checkout_id == order.checkout_id
    _check_payment(order, create)
    paid, failed_before = await repository.order_payments(session, order)
    remaining = max(0, total_amount(order) - paid)
    amount = remaining if create.amount is None else create.amount
    if not 0 < amount <= remaining:
        raise _invalid("amount", PAYMENT_TOO_HIGH, amount)
    payment = Payment(
        organization_id=order.organization_id,
        order_id=order.id,
        checkout_id=checkout_id,
        status=create.status,
        amount=amount,
        currency=order.currency,
        processor=create.processor,
        method=create.method,
        decline_reason=create.decline_reason,
        decline_message=create.decline_message,
        created_at=now,
    )
    session.add(payment)
    if create.status == PaymentStatus.failed:
        await _payment_failed(session, order, now=now)
    elif amount == remaining:
        await _order_paid(session, order, failed_before=failed_before, now=now)
    await session.flush()
    return payment_row_of(payment)


def _check_payment(order: Order, create: PaymentCreate) -> None:
    if order.status != OrderStatus.pending:
        raise OrderAlreadyPaid(order)
    if create.currency is not None and create.currency != order.currency:
        message = f"Currency must be the order's currency, {order.currency}"
        raise _invalid("currency", message, create.currency)
    if create.status == PaymentStatus.succeeded:
        for field in ("decline_reason", "decline_message"):
            if getattr(create, field) is not None:
                raise _invalid(field, "Only a failed payment is declined", getattr(create, field))


async def _payment_failed(session: AsyncSession, order: Order, *, now: datetime) -> None:
    """The order stays pending; its subscription, if any, is past due."""
    if order.subscription_id is not None:
        await subscriptions_service.mark_past_due(
            session,
            organization_id=order.organization_id,
            subscription_id=order.subscription_id,
            now=now,
        )


async def _order_paid(
    session: AsyncSession, order: Order, *, failed_before: bool, now: datetime
) -> None:
    """The order's succeeded payments reach its total: it is paid, and its subscription,
    past due after a failed payment of this order, is active again."""
    order.status = OrderStatus.paid
    order.modified_at = now
    if failed_before and order.subscription_id is not None:
        await subscriptions_service.mark_paid(
            session,
            organization_id=order.organization_id,
            subscription_id=order.subscription_id,
            now=now,
        )


async def get_payment(
    connection: RawConnection, principal: Principal, payment_id: uuid.UUID
) -> PaymentRow:
    row = await repository.read_payment(connection, principal.organization_ids, payment_id)
    if row is None:
        raise ResourceNotFound()
    return row


async def list_payments(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    order_ids: Sequence[uuid.UUID] | None,
    checkout_ids: Sequence[uuid.UUID] | None,
    customer_ids: Sequence[uuid.UUID] | None,
    statuses: Sequence[str] | None,
    methods: Sequence[str] | None,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[PaymentRow], int]:
    statement = repository.payments_statement(
        order_ids=order_ids,
        checkout_ids=checkout_ids,
        customer_ids=customer_ids,
        statuses=statuses,
        methods=methods,
    )
    return await repository.payments_page(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )


# Refunds -------------------------------------------------------------------------------------


def refundable_amount(order: Order) -> int:
    """What can still be refunded of the order's net amount (its tax follows)."""
    return max(0, order.subtotal_amount - order.discount_amount - order.refunded_amount)


def _refund_tax(order: Order, amount: int) -> int:
    """The tax refunded with `amount`: the rest of the tax with the rest of the net amount,
    else the order's tax rate of it."""
    refundable_tax = max(0, order.tax_amount - order.refunded_tax_amount)
    if amount == refundable_amount(order):
        return refundable_tax
    net = order.subtotal_amount - order.discount_amount
    if order.tax_amount <= 0 or net <= 0:
        return 0
    return min(round(amount * order.tax_amount / net), refundable_tax)


async def create_refund(
    session: AsyncSession, principal: Principal, *, create: RefundCreate, now: datetime
) -> RefundRow:
    """Refund part or all of a paid order: the refund succeeds at once (the money goes back
    elsewhere: docs/decisions.md#d38); the order's refunded amounts and status follow."""
    order = await _order(session, principal, create.order_id)
    if order.status == OrderStatus.refunded:
        raise RefundedAlready(order)
    if order.status == OrderStatus.pending:
        raise _invalid("order_id", "Order is not paid", str(order.id))
    if create.revoke_benefits and order.subscription_id is not None:
        raise RevokeSubscriptionBenefitsProhibited()
    if create.amount > refundable_amount(order):
        raise _invalid("amount", REFUND_TOO_HIGH, create.amount)
    refund = Refund(
        organization_id=order.organization_id,
        order_id=order.id,
        customer_id=order.customer_id,
        amount=create.amount,
        tax_amount=_refund_tax(order, create.amount),
        currency=order.currency,
        reason=create.reason,
        comment=create.comment,
        revoke_benefits=create.revoke_benefits,
        user_metadata=create.metadata,
        created_at=now,
    )
    session.add(refund)
    order.refunded_amount += refund.amount
    order.refunded_tax_amount += refund.tax_amount
    net = order.subtotal_amount - order.discount_amount
    fully = order.refunded_amount >= net
    order.status = OrderStatus.refunded if fully else OrderStatus.partially_refunded
    order.modified_at = now
    await session.flush()
    return refund_row_of(refund, order)


async def list_refunds(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    ids: Sequence[uuid.UUID] | None,
    order_ids: Sequence[uuid.UUID] | None,
    subscription_ids: Sequence[uuid.UUID] | None,
    customer_ids: Sequence[uuid.UUID] | None,
    succeeded: bool | None,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[RefundRow], int]:
    statement = repository.refunds_statement(
        ids=ids,
        order_ids=order_ids,
        subscription_ids=subscription_ids,
        customer_ids=customer_ids,
        succeeded=succeeded,
    )
    return await repository.refunds_page(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )
