"""SQL for subscriptions, their prices and their meters. Every query starts from the
organization of the customer."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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


def _active(organization_id: uuid.UUID, customer_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [
        Subscription.organization_id == organization_id,
        Subscription.customer_id == customer_id,
        Subscription.deleted_at.is_(None),
        Subscription.status.in_(ACTIVE_STATUSES),
    ]


async def list_active(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> Sequence[Row[tuple[Subscription, uuid.UUID | None]]]:
    """The customer's live active and trialing subscriptions, each with its first price id
    (null for a subscription without prices)."""
    statement = select(Subscription, _FIRST_PRICE_ID).where(*_active(organization_id, customer_id))
    rows = (await session.execute(statement)).all()
    return cast(Sequence[Row[tuple[Subscription, uuid.UUID | None]]], rows)


async def list_meters(
    session: AsyncSession, organization_id: uuid.UUID, subscription_ids: Sequence[uuid.UUID]
) -> Sequence[SubscriptionMeter]:
    """The live meters of these subscriptions, oldest first."""
    if not subscription_ids:
        return []
    statement = (
        select(SubscriptionMeter)
        .where(
            SubscriptionMeter.organization_id == organization_id,
            SubscriptionMeter.subscription_id.in_(subscription_ids),
            SubscriptionMeter.deleted_at.is_(None),
        )
        .order_by(SubscriptionMeter.created_at, SubscriptionMeter.id)
    )
    return (await session.scalars(statement)).all()


async def cancel_active(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime
) -> None:
    """End the customer's active and trialing subscriptions at `now`."""
    statement = (
        update(Subscription)
        .where(*_active(organization_id, customer_id))
        .values(
            status=SubscriptionStatus.canceled,
            canceled_at=now,
            ends_at=now,
            ended_at=now,
            modified_at=now,
        )
    )
    await session.execute(statement)
