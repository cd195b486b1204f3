"""What happens to a subscription when its period ends, without a request for it: it renews
(a new period, its order, its benefits' new cycle) or, when canceled at period end, it ends
and its benefits are revoked. `run_due` is the scheduler's pass: inside `serve`, or its own
process (`polar-customers scheduler`); several may run at once, each subscription's period
is renewed once (row lock, re-checked period, one order per period)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.benefits import service as benefits_service
from polar_customers.meters import service as meters_service
from polar_customers.meters.service import MeterUsage
from polar_customers.models import (
    OrderBillingReason,
    ProductPrice,
    Subscription,
    SubscriptionStatus,
)
from polar_customers.orders import service as orders_service
from polar_customers.orders.service import OrderLine
from polar_customers.products import service as products_service
from polar_customers.subscriptions import repository
from polar_customers.subscriptions.periods import period_end

logger = logging.getLogger(__name__)

# A subscription left behind for many periods (a server stopped for months) catches up a
# bounded number of periods per pass; the next pass goes on.
MAX_PERIODS_PER_PASS = 24


def order_lines(
    product_name: str, prices: Sequence[ProductPrice], usage: Sequence[MeterUsage] = ()
) -> list[OrderLine]:
    """What a period of these prices comes to: each fixed price, then each meter's usage."""
    lines = [
        OrderLine(label=product_name, amount=price.price_amount or 0, product_price_id=price.id)
        for price in prices
        if price.amount_type == "fixed"
    ]
    metered = {price.meter_id: price.id for price in prices if price.meter_id is not None}
    lines += [
        OrderLine(
            label=f"{product_name}: {used.consumed_units:g} units",
            amount=used.amount,
            product_price_id=metered.get(used.meter_id),
        )
        for used in usage
        if used.amount
    ]
    return lines


async def end(
    session: AsyncSession, subscription: Subscription, *, at: datetime, now: datetime
) -> None:
    """The subscription ends at `at` (now, or the end of its period) and what it granted is
    revoked."""
    subscription.status = SubscriptionStatus.canceled
    subscription.canceled_at = subscription.canceled_at or at
    subscription.ends_at = subscription.ended_at = at
    subscription.modified_at = now
    await benefits_service.revoke_subscription_benefits(session, subscription=subscription, now=now)
    await session.flush()


async def renew(session: AsyncSession, subscription: Subscription, *, now: datetime) -> None:
    """Close the period that ended (locked subscription, `current_period_end <= now`): end
    the subscription if it was canceled at period end, else start the next period, bill it
    (its fixed prices and the closed period's metered usage) and cycle its benefits."""
    ended_at = subscription.current_period_end
    assert ended_at is not None
    assert ended_at <= now
    if subscription.cancel_at_period_end or (
        subscription.ends_at is not None and subscription.ends_at <= now
    ):
        await end(session, subscription, at=ended_at, now=now)
        return
    usage = await meters_service.close_subscription_period(session, subscription=subscription)
    anchor = subscription.started_at or subscription.current_period_start
    if subscription.status == SubscriptionStatus.trialing:
        # The paid period starts when the trial ends, anchored there.
        anchor = ended_at
        subscription.status = SubscriptionStatus.active
    subscription.current_period_start = ended_at
    subscription.current_period_end = period_end(
        ended_at, subscription.recurring_interval, anchor_day=anchor.day
    )
    subscription.modified_at = now
    await session.flush()
    purchasable = await products_service.get_purchasable(
        session, organization_id=subscription.organization_id, product_id=subscription.product_id
    )
    prices = purchasable.prices if purchasable else []
    name = purchasable.product.name if purchasable else "Subscription"
    await orders_service.create_subscription_order(
        session,
        subscription=subscription,
        billing_reason=OrderBillingReason.subscription_cycle,
        period_start=subscription.current_period_start,
        lines=order_lines(name, prices, usage),
        now=now,
    )
    await benefits_service.cycle_subscription_benefits(session, subscription=subscription, now=now)


@dataclass(frozen=True, slots=True)
class Pass:
    """What a scheduler pass did."""

    renewed: int
    """Periods started (a subscription behind by several periods counts each)."""
    ended: int
    """Subscriptions that ended at the end of their period."""
    failed: int
    """Subscriptions whose renewal raised (rolled back, logged, retried on the next pass)."""


async def _renew_due(session: AsyncSession, subscription: Subscription, *, now: datetime) -> Pass:
    renewed = ended = 0
    for _ in range(MAX_PERIODS_PER_PASS):
        due = subscription.current_period_end is not None and subscription.current_period_end <= now
        if not due or subscription.status not in repository.ACTIVE_STATUSES:
            break
        await renew(session, subscription, now=now)
        if subscription.status == SubscriptionStatus.canceled:
            ended += 1
        else:
            renewed += 1
    return Pass(renewed, ended, 0)


async def run_due(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, batch_size: int = 100
) -> Pass:
    """Renew or end every subscription whose period ended by `now`, a batch per
    transaction. A subscription is re-read under its row lock before it changes, so a
    period another process renewed meanwhile is not renewed again."""
    renewed = ended = failed = 0
    seen: set[object] = set()
    while True:
        async with sessions() as session:
            due = await repository.due_ids(session, now=now, limit=batch_size)
            fresh = [key for key in due if key not in seen]
            if not fresh:
                return Pass(renewed, ended, failed)
            for organization_id, subscription_id in fresh:
                seen.add((organization_id, subscription_id))
                try:
                    async with session.begin_nested():
                        subscription = await repository.lock_by_id(
                            session, organization_id, subscription_id
                        )
                        if subscription is None:
                            continue
                        done = await _renew_due(session, subscription, now=now)
                except Exception:
                    logger.exception("renewing subscription %s failed", subscription_id)
                    failed += 1
                    continue
                renewed, ended = renewed + done.renewed, ended + done.ended
            await session.commit()
