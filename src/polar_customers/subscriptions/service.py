"""Changes to subscriptions, and the active subscriptions a customer's state lists."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.raw_sql import RawConnection
from polar_customers.models import Subscription, SubscriptionStatus
from polar_customers.subscriptions import repository


async def revoke_customer_subscriptions(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime
) -> Sequence[Subscription]:
    """End the customer's active and trialing subscriptions at `now`, without waiting for
    the end of their period; returns the subscriptions it ended."""
    subscriptions = await repository.lock_active(session, organization_id, customer_id)
    for subscription in subscriptions:
        subscription.status = SubscriptionStatus.canceled
        subscription.canceled_at = subscription.ends_at = subscription.ended_at = now
        subscription.modified_at = now
    await session.flush()
    return subscriptions


async def list_customer_state(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The customer's active and trialing subscriptions, each with its `meters`, as the
    state's `CustomerStateSubscription` reads them."""
    subscriptions = await repository.list_active(connection, organization_id, customer_id)
    meters = await repository.list_active_meters(connection, organization_id, customer_id)
    meters_of: defaultdict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for meter in meters:
        meters_of[meter["subscription_id"]].append(meter)
    return [{**row, "meters": meters_of[row["id"]]} for row in subscriptions]
