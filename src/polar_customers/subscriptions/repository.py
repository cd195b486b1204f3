"""SQL for subscriptions, their prices and their meters. Every query starts from the
organization of the customer."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.models import (
    Subscription,
    SubscriptionMeter,
    SubscriptionPrice,
    SubscriptionStatus,
)

ACTIVE_STATUSES = (SubscriptionStatus.active, SubscriptionStatus.trialing)

_FIRST_PRICE_ID = (
    select(SubscriptionPrice.product_price_id)
    .where(
        SubscriptionPrice.organization_id == Subscription.organization_id,
        SubscriptionPrice.subscription_id == Subscription.id,
        SubscriptionPrice.deleted_at.is_(None),
    )
    .order_by(SubscriptionPrice.position)
    .limit(1)
    .correlate(Subscription)
    .scalar_subquery()
    .label("price_id")
)


def _active(organization_id: Any, customer_id: Any) -> tuple[ColumnElement[bool], ...]:
    """A customer's live active and trialing subscriptions (ids or bound parameters)."""
    return (
        Subscription.organization_id == organization_id,
        Subscription.customer_id == customer_id,
        Subscription.deleted_at.is_(None),
        or_(*(Subscription.status == status for status in ACTIVE_STATUSES)),
    )


_ACTIVE = _active(bindparam("organization"), bindparam("customer"))
_LIST_ACTIVE = RawQuery(select(*attribute_columns(Subscription), _FIRST_PRICE_ID).where(*_ACTIVE))
_LIST_ACTIVE_METERS = RawQuery(
    select(*attribute_columns(SubscriptionMeter))
    .where(
        SubscriptionMeter.organization_id == bindparam("organization"),
        SubscriptionMeter.subscription_id.in_(select(Subscription.id).where(*_ACTIVE)),
        SubscriptionMeter.deleted_at.is_(None),
    )
    .order_by(SubscriptionMeter.created_at, SubscriptionMeter.id)
)


async def list_active(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The customer's live active and trialing subscriptions, each with its first price id
    (null for a subscription without prices)."""
    return await connection.fetch_mappings(
        _LIST_ACTIVE, organization=organization_id, customer=customer_id
    )


async def list_active_meters(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The live meters of the customer's active and trialing subscriptions, oldest first."""
    return await connection.fetch_mappings(
        _LIST_ACTIVE_METERS, organization=organization_id, customer=customer_id
    )


async def lock_active(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> Sequence[Subscription]:
    """The customer's live active and trialing subscriptions, locked (for writes)."""
    statement = select(Subscription).where(*_active(organization_id, customer_id))
    return (await session.scalars(statement.with_for_update())).all()
