"""Every order rule that needs the database. Services flush; the request commits.

Orders are created by subscriptions (`create_subscription_order`, one per billing period),
paid and refunded through the payments and refunds of `ledger.py`."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.errors import ResourceNotFound
from polar_customers.kit.integrity import violated_constraint
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection, borrow
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.models import (
    Customer,
    Order,
    OrderBillingReason,
    OrderItem,
    OrderStatus,
    Subscription,
)
from polar_customers.orders import repository
from polar_customers.orders.repository import OrderRow, Related, row_of
from polar_customers.orders.schemas import OrderUpdate

_ORDERS = Order.metadata.tables[Order.__tablename__]
_PERIOD_KEY = "orders_organization_subscription_period_key"


@dataclass(frozen=True)
class OrderLine:
    """A line of a new order: what one price (or one meter's usage) comes to, in cents."""

    label: str
    amount: int
    product_price_id: uuid.UUID | None


def invoice_number(organization_id: uuid.UUID, sequence: int) -> str:
    """`<the organization's prefix>-<sequence, at least 4 digits>`; the prefix is the start of
    the organization's id, which never changes (docs/decisions.md#d39)."""
    return f"{organization_id.hex[:8].upper()}-{sequence:04d}"


async def create_subscription_order(
    session: AsyncSession,
    *,
    subscription: Subscription,
    billing_reason: OrderBillingReason,
    period_start: datetime,
    lines: Sequence[OrderLine],
    now: datetime,
) -> tuple[Order, bool]:
    """The order of the subscription's period starting at `period_start`, and whether this
    call created it: one per period, even when calls race. `paid` when its total is 0 (or
    less), else `pending` until a payment is recorded."""
    organization_id = subscription.organization_id
    find = (session, organization_id, subscription.id, period_start)
    if (existing := await repository.find_subscription_order(*find)) is not None:
        return existing, False
    sequence = await repository.next_invoice_sequence(session, organization_id)
    # A concurrent call may have created it while this one waited for the numbering lock.
    if (existing := await repository.find_subscription_order(*find)) is not None:
        return existing, False
    order = await _new_order(session, subscription, billing_reason, period_start, lines, now)
    order.invoice_sequence = sequence
    order.invoice_number = invoice_number(organization_id, sequence)
    try:
        async with session.begin_nested():
            session.add(order)
            await session.flush()  # the items reference it: it goes first
            session.add_all(_items(order, lines, now))
            await session.flush()
    except IntegrityError as error:
        # The database's guard: another transaction created it after the check.
        if violated_constraint(error, _ORDERS) != _PERIOD_KEY:
            raise
        existing = await repository.find_subscription_order(*find)
        assert existing is not None
        return existing, False
    return order, True


async def _new_order(
    session: AsyncSession,
    subscription: Subscription,
    billing_reason: OrderBillingReason,
    period_start: datetime,
    lines: Sequence[OrderLine],
    now: datetime,
) -> Order:
    # The invoice shows the customer's billing details of the day the order is made.
    customer = await session.get(Customer, subscription.customer_id)
    assert customer is not None  # a subscription's customer row is never removed
    subtotal = sum(line.amount for line in lines)
    first = billing_reason == OrderBillingReason.subscription_create
    return Order(
        id=uuid.uuid4(),
        created_at=now,
        organization_id=subscription.organization_id,
        customer_id=subscription.customer_id,
        product_id=subscription.product_id,
        subscription_id=subscription.id,
        checkout_id=subscription.checkout_id if first else None,
        status=OrderStatus.paid if subtotal <= 0 else OrderStatus.pending,
        billing_reason=billing_reason,
        billing_period_start=period_start,
        billing_name=customer.billing_name or customer.name,
        billing_address=customer.billing_address,
        subtotal_amount=subtotal,
        discount_amount=0,
        tax_amount=0,
        refunded_amount=0,
        refunded_tax_amount=0,
        currency=subscription.currency,
        user_metadata=dict(subscription.user_metadata),
        custom_field_data=dict(subscription.custom_field_data),
    )


def _items(order: Order, lines: Sequence[OrderLine], now: datetime) -> list[OrderItem]:
    # Items are listed by creation time: a microsecond apart, they keep the lines' order.
    return [
        OrderItem(
            organization_id=order.organization_id,
            order_id=order.id,
            created_at=now + timedelta(microseconds=position),
            label=line.label,
            amount=line.amount,
            tax_amount=0,
            proration=False,
            product_price_id=line.product_price_id,
        )
        for position, line in enumerate(lines)
    ]


async def create_purchase_order(
    session: AsyncSession,
    *,
    customer: Customer,
    product_id: uuid.UUID,
    checkout_id: uuid.UUID | None,
    lines: Sequence[OrderLine],
    currency: str,
    now: datetime,
) -> Order:
    """The order of a one-time purchase (a checkout's, see checkouts/service.py): `paid` when
    its total is 0 (or less), else `pending` until a payment is recorded."""
    organization_id = customer.organization_id
    sequence = await repository.next_invoice_sequence(session, organization_id)
    subtotal = sum(line.amount for line in lines)
    order = Order(
        id=uuid.uuid4(),
        created_at=now,
        organization_id=organization_id,
        customer_id=customer.id,
        product_id=product_id,
        checkout_id=checkout_id,
        status=OrderStatus.paid if subtotal <= 0 else OrderStatus.pending,
        billing_reason=OrderBillingReason.purchase,
        billing_name=customer.billing_name or customer.name,
        billing_address=customer.billing_address,
        invoice_sequence=sequence,
        invoice_number=invoice_number(organization_id, sequence),
        subtotal_amount=subtotal,
        discount_amount=0,
        tax_amount=0,
        refunded_amount=0,
        refunded_tax_amount=0,
        currency=currency,
    )
    session.add(order)
    await session.flush()  # the items reference it: it goes first
    session.add_all(_items(order, lines, now))
    await session.flush()
    return order


# The orders API ------------------------------------------------------------------------------


async def get(
    connection: RawConnection, principal: Principal, order_id: uuid.UUID
) -> tuple[OrderRow, Related]:
    """The visible order with this id and the rows its response embeds."""
    row = await repository.read(connection, principal.organization_ids, order_id)
    if row is None:
        raise ResourceNotFound()
    return row, await repository.related(connection, [row])


async def list_orders(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    product_ids: Sequence[uuid.UUID] | None,
    recurring: bool | None,
    discount_ids: Sequence[uuid.UUID] | None,
    customer_ids: Sequence[uuid.UUID] | None,
    checkout_ids: Sequence[uuid.UUID] | None,
    metadata: Mapping[str, list[str]],
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[OrderRow], Related, int]:
    """A page of the visible orders that pass the filters, the rows they embed, and how many
    orders pass them."""
    statement = repository.list_statement(
        dialect=session.bind.dialect.name,
        product_ids=product_ids,
        recurring=recurring,
        discount_ids=discount_ids,
        customer_ids=customer_ids,
        checkout_ids=checkout_ids,
        metadata=metadata,
    )
    rows, total = await repository.page(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )
    return rows, await related(session, rows), total


async def related(session: AsyncSession, rows: Sequence[OrderRow]) -> Related:
    """What the responses of `rows` embed, read in the session's own transaction (a write
    may just have changed it)."""
    connection = await borrow(await session.connection())
    return await repository.related(connection, rows)


async def lock(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    """The visible order with this id, locked until the request ends (for writes)."""
    found = await repository.lock(session, principal.organization_ids, order_id)
    if found is None:
        raise ResourceNotFound()
    return found


async def update_order(
    session: AsyncSession, order: Order, *, update: OrderUpdate, now: datetime
) -> OrderRow:
    """Set the invoice's billing name and address. No invoice document is ever generated by
    this server, so they can always change."""
    order.billing_name = update.billing_name
    address = update.billing_address
    order.billing_address = None if address is None else address.model_dump(mode="json")
    order.modified_at = now
    await session.flush()
    return row_of(order)
