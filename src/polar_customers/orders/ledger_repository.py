"""SQL for the payments and refunds of orders. Every query is bound to the caller's
organizations (kit/tenancy.py) or to the organization of an order already found in them."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Select, bindparam, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.pagination import PaginationParams, paginate_rows
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.schemas import matchable
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds, live_rows, tenant_parameters
from polar_customers.models import Checkout, Order, Payment, PaymentStatus, Refund


class PaymentRow(TypedDict):
    """A payment as every read gives it: its columns, by attribute name."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    order_id: uuid.UUID | None
    checkout_id: uuid.UUID | None
    status: str
    amount: int
    currency: str
    processor: str
    method: str
    decline_reason: str | None
    decline_message: str | None


class RefundRow(TypedDict):
    """A refund as every read gives it: its columns by attribute name, and the subscription
    of its order."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID
    amount: int
    tax_amount: int
    currency: str
    reason: str
    comment: str | None
    revoke_benefits: bool
    user_metadata: dict[str, Any]
    subscription_id: uuid.UUID | None


PAYMENT_COLUMNS = attribute_columns(Payment)
_PAYMENT_KEYS = tuple(column.key for column in PAYMENT_COLUMNS)
_PAYMENTS_VISIBLE = live_rows(Payment)
_REFUND_KEYS = tuple(column.key for column in attribute_columns(Refund))
_REFUND_COLUMNS = (*attribute_columns(Refund), Order.subscription_id)
_REFUNDS_VISIBLE = live_rows(Refund)


def payment_row_of(payment: Payment) -> PaymentRow:
    return cast(PaymentRow, {key: getattr(payment, key) for key in _PAYMENT_KEYS})


def refund_row_of(refund: Refund, order: Order) -> RefundRow:
    row = {key: getattr(refund, key) for key in _REFUND_KEYS}
    return cast(RefundRow, {**row, "subscription_id": order.subscription_id})


_READ_PAYMENT = RawQuery(
    select(*PAYMENT_COLUMNS).where(_PAYMENTS_VISIBLE, Payment.id == bindparam("payment_id"))
)


async def read_payment(
    connection: RawConnection, organization_ids: OrganizationIds, payment_id: uuid.UUID
) -> PaymentRow | None:
    rows = await connection.fetch_mappings(
        _READ_PAYMENT, **tenant_parameters(organization_ids), payment_id=payment_id
    )
    return cast(PaymentRow, rows[0]) if rows else None


async def order_payments(session: AsyncSession, order: Order) -> tuple[int, bool]:
    """What the order's succeeded payments add up to, and whether one of its payments
    failed."""
    statement = select(
        func.coalesce(
            func.sum(Payment.amount).filter(Payment.status == PaymentStatus.succeeded), 0
        ),
        func.count().filter(Payment.status == PaymentStatus.failed),
    ).where(
        Payment.organization_id == order.organization_id,
        Payment.order_id == order.id,
        Payment.deleted_at.is_(None),
    )
    paid, failed = (await session.execute(statement)).one()
    return int(paid), bool(failed)


def _of_customers(customer_ids: Sequence[uuid.UUID]) -> Any:
    """Payments of these customers' orders or checkouts."""
    return or_(
        Payment.order_id.in_(
            select(Order.id).where(
                Order.organization_id == Payment.organization_id,
                Order.customer_id.in_(customer_ids),
            )
        ),
        Payment.checkout_id.in_(
            select(Checkout.id).where(
                Checkout.organization_id == Payment.organization_id,
                Checkout.customer_id.in_(customer_ids),
            )
        ),
    )


def payments_statement(
    *,
    order_ids: Sequence[uuid.UUID] | None = None,
    checkout_ids: Sequence[uuid.UUID] | None = None,
    customer_ids: Sequence[uuid.UUID] | None = None,
    statuses: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
) -> Select[Any]:
    """The visible payments that pass the list filters (unsorted)."""
    statement = select(*PAYMENT_COLUMNS).where(_PAYMENTS_VISIBLE)
    if order_ids is not None:
        statement = statement.where(Payment.order_id.in_(order_ids))
    if checkout_ids is not None:
        statement = statement.where(Payment.checkout_id.in_(checkout_ids))
    if customer_ids is not None:
        statement = statement.where(_of_customers(customer_ids))
    if statuses is not None:
        statement = statement.where(Payment.status.in_(statuses))
    if methods is not None:
        statement = statement.where(Payment.method.in_(matchable(methods)))
    return statement


def refunds_statement(
    *,
    ids: Sequence[uuid.UUID] | None = None,
    order_ids: Sequence[uuid.UUID] | None = None,
    subscription_ids: Sequence[uuid.UUID] | None = None,
    customer_ids: Sequence[uuid.UUID] | None = None,
    succeeded: bool | None = None,
) -> Select[Any]:
    """The visible refunds that pass the list filters (unsorted). Every refund of this
    server has succeeded."""
    statement = (
        select(*_REFUND_COLUMNS)
        .join(Order, Order.id == Refund.order_id)
        .where(_REFUNDS_VISIBLE, Order.organization_id == Refund.organization_id)
    )
    if ids is not None:
        statement = statement.where(Refund.id.in_(ids))
    if order_ids is not None:
        statement = statement.where(Refund.order_id.in_(order_ids))
    if subscription_ids is not None:
        statement = statement.where(Order.subscription_id.in_(subscription_ids))
    if customer_ids is not None:
        statement = statement.where(Refund.customer_id.in_(customer_ids))
    if succeeded is not None:
        statement = statement.where(true() if succeeded else false())
    return statement


_PAYMENT_SORT_KEYS: dict[str, Any] = {
    "created_at": Payment.created_at,
    "status": Payment.status,
    "amount": Payment.amount,
    "method": Payment.method,
}
_REFUND_SORT_KEYS: dict[str, Any] = {"created_at": Refund.created_at, "amount": Refund.amount}


def _order_by(keys: dict[str, Any], id: Any, sorting: Sequence[SortCriterion]) -> list[Any]:
    clauses = [
        keys[criterion.property].desc() if criterion.descending else keys[criterion.property]
        for criterion in sorting
    ]
    # A unique tie-breaker keeps pages stable when sort keys repeat (docs/decisions.md#d15).
    clauses.append(id.desc() if sorting and sorting[-1].descending else id.asc())
    return clauses


async def payments_page(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[PaymentRow], int]:
    rows, total = await paginate_rows(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=_order_by(_PAYMENT_SORT_KEYS, Payment.id, sorting),
    )
    return cast(list[PaymentRow], rows), total


async def refunds_page(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[RefundRow], int]:
    rows, total = await paginate_rows(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=_order_by(_REFUND_SORT_KEYS, Refund.id, sorting),
    )
    return cast(list[RefundRow], rows), total
