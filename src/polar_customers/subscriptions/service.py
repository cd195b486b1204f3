"""Changes to subscriptions, and the active subscriptions a customer's state lists."""

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.benefits import service as benefits_service
from polar_customers.customers import repository as customers_repository
from polar_customers.customers import service as customers_service
from polar_customers.customers.repository import CustomerRow
from polar_customers.errors import AppError, PolarRequestValidationError, ResourceNotFound
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.meters import repository as meters_repository
from polar_customers.meters import service as meters_service
from polar_customers.models import (
    Customer,
    OrderBillingReason,
    ProductPrice,
    Subscription,
    SubscriptionStatus,
)
from polar_customers.orders import service as orders_service
from polar_customers.products import repository as products_repository
from polar_customers.products import service as products_service
from polar_customers.products.repository import PriceRow, ProductFull
from polar_customers.subscriptions import lifecycle, repository
from polar_customers.subscriptions.periods import period_end
from polar_customers.subscriptions.schemas import (
    SubscriptionCancel,
    SubscriptionCreate,
    SubscriptionCreateCustomer,
    SubscriptionRevoke,
    SubscriptionUpdate,
    SubscriptionUpdateProduct,
    SubscriptionUpdateTrial,
)


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


# The subscriptions API -----------------------------------------------------------------------

PRODUCT_DOES_NOT_EXIST = "Product does not exist."
CUSTOMER_DOES_NOT_EXIST = "Customer does not exist."


class AlreadyCanceledSubscription(AppError):
    status_code = 403
    message = "This subscription is already canceled or will be at the end of the period."


class SubscriptionNotTrialing(AppError):
    status_code = 403
    message = "This subscription is not on a trial."


def _invalid(loc: tuple[str | int, ...], message: str, value: Any) -> PolarRequestValidationError:
    return PolarRequestValidationError(
        [{"type": "value_error", "loc": loc, "msg": message, "input": value}]
    )


async def _purchasable(
    session: AsyncSession, organization_id: uuid.UUID, product_id: uuid.UUID
) -> products_service.PurchasableProduct:
    """The recurring, unarchived product a subscription may start on or move to."""
    found = await products_service.get_purchasable(
        session, organization_id=organization_id, product_id=product_id
    )
    loc = ("body", "product_id")
    if found is None:
        raise _invalid(loc, PRODUCT_DOES_NOT_EXIST, str(product_id))
    if found.product.recurring_interval is None:
        raise _invalid(loc, "Product is not a recurring product.", str(product_id))
    if found.product.is_archived:
        raise _invalid(loc, "Product is archived.", str(product_id))
    return found


async def _subscriber(
    session: AsyncSession, principal: Principal, body: SubscriptionCreate
) -> Customer:
    if isinstance(body, SubscriptionCreateCustomer):
        loc, value = ("body", "customer_id"), str(body.customer_id)
        lookup: customers_repository.Lookup = customers_repository.ById(body.customer_id)
    else:
        loc, value = ("body", "external_customer_id"), body.external_customer_id
        lookup = customers_repository.ByExternalId(body.external_customer_id)
    found = await customers_repository.lock(session, principal.organization_ids, lookup)
    if len(found) != 1:
        message = CUSTOMER_DOES_NOT_EXIST if not found else customers_service.EXTERNAL_ID_AMBIGUOUS
        raise _invalid(loc, message, value)
    return found[0]


def _fixed_amount(prices: Sequence[ProductPrice]) -> int:
    return sum(price.price_amount or 0 for price in prices if price.amount_type == "fixed")


async def _adopt(
    session: AsyncSession,
    subscription: Subscription,
    purchasable: products_service.PurchasableProduct,
    *,
    now: datetime,
) -> None:
    """The prices, meters and benefits of the product the subscription now has."""
    await repository.add_prices(session, subscription, [price.id for price in purchasable.prices])
    meter_ids = [price.meter_id for price in purchasable.prices if price.meter_id is not None]
    await meters_service.open_subscription_meters(
        session, subscription=subscription, meter_ids=meter_ids
    )
    await benefits_service.grant_subscription_benefits(
        session, subscription=subscription, benefit_ids=purchasable.benefit_ids, now=now
    )


async def create_subscription(
    session: AsyncSession, principal: Principal, body: SubscriptionCreate, *, now: datetime
) -> Subscription:
    """Start a subscription of a customer to a recurring product, paid or free, without a
    checkout (docs/decisions.md#d35): `trialing` when the product has a trial, else `active`;
    grants the product's benefits and opens its first order."""
    customer = await _subscriber(session, principal, body)
    purchasable = await _purchasable(session, customer.organization_id, body.product_id)
    product = purchasable.product
    assert product.recurring_interval is not None  # checked by _purchasable
    subscription = Subscription(
        organization_id=customer.organization_id,
        customer_id=customer.id,
        product_id=product.id,
        amount=_fixed_amount(purchasable.prices),
        currency=_currency(purchasable.prices),
        recurring_interval=product.recurring_interval,
        started_at=now,
        current_period_start=now,
        cancel_at_period_end=False,
        user_metadata=body.metadata,
    )
    if product.trial_interval is not None:
        trial_end = period_end(
            now, product.trial_interval, anchor_day=now.day, count=product.trial_interval_count or 1
        )
        subscription.status = SubscriptionStatus.trialing
        subscription.trial_start, subscription.trial_end = now, trial_end
        subscription.current_period_end = trial_end
    else:
        subscription.status = SubscriptionStatus.active
        subscription.current_period_end = period_end(
            now, product.recurring_interval, anchor_day=now.day
        )
    session.add(subscription)
    await session.flush()
    await _adopt(session, subscription, purchasable, now=now)
    if subscription.status != SubscriptionStatus.trialing:
        await orders_service.create_subscription_order(
            session,
            subscription=subscription,
            billing_reason=OrderBillingReason.subscription_create,
            period_start=now,
            lines=lifecycle.order_lines(product.name, purchasable.prices),
            now=now,
        )
    return subscription


def _currency(prices: Sequence[ProductPrice]) -> str:
    return next((price.price_currency for price in prices), "usd")


async def lock(
    session: AsyncSession, principal: Principal, subscription_id: uuid.UUID
) -> Subscription:
    """The visible subscription with this id, locked; 404 when there is none."""
    found = await repository.lock(session, principal.organization_ids, subscription_id)
    if found is None:
        raise ResourceNotFound()
    return found


async def get(
    connection: RawConnection, principal: Principal, subscription_id: uuid.UUID
) -> dict[str, Any]:
    found = await repository.read(connection, principal.organization_ids, subscription_id)
    if found is None:
        raise ResourceNotFound()
    return found


def _can_cancel(subscription: Subscription, *, immediately: bool) -> bool:
    if subscription.status not in repository.CURRENT_STATUSES or subscription.ended_at:
        return False
    return immediately or not subscription.cancel_at_period_end


def _note_reason(subscription: Subscription, body: SubscriptionCancel | SubscriptionRevoke) -> None:
    if body.customer_cancellation_reason is not None:
        subscription.customer_cancellation_reason = body.customer_cancellation_reason
    if body.customer_cancellation_comment is not None:
        subscription.customer_cancellation_comment = body.customer_cancellation_comment


async def revoke(
    session: AsyncSession,
    subscription: Subscription,
    body: SubscriptionRevoke | None = None,
    *,
    now: datetime,
) -> Subscription:
    """Cancel the subscription now: it ends, its benefits are revoked."""
    if not _can_cancel(subscription, immediately=True):
        raise AlreadyCanceledSubscription()
    if body is not None:
        _note_reason(subscription, body)
    subscription.canceled_at = now
    await lifecycle.end(session, subscription, at=now, now=now)
    return subscription


async def cancel(
    session: AsyncSession, subscription: Subscription, body: SubscriptionCancel, *, now: datetime
) -> Subscription:
    """Cancel at the end of the period (it stays active until then), or take that back."""
    if body.cancel_at_period_end:
        if not _can_cancel(subscription, immediately=False):
            raise AlreadyCanceledSubscription()
        _note_reason(subscription, body)
        subscription.cancel_at_period_end = True
        subscription.canceled_at = now
        subscription.ends_at = subscription.current_period_end
    else:
        if subscription.ended_at is not None or subscription.status not in (
            repository.CURRENT_STATUSES
        ):
            raise AlreadyCanceledSubscription()
        subscription.cancel_at_period_end = False
        subscription.canceled_at = subscription.ends_at = None
        subscription.customer_cancellation_reason = None
        subscription.customer_cancellation_comment = None
    subscription.modified_at = now
    await session.flush()
    return subscription


async def change_product(
    session: AsyncSession,
    subscription: Subscription,
    body: SubscriptionUpdateProduct,
    *,
    now: datetime,
) -> Subscription:
    """Move the subscription to another recurring product at once: its prices, amount,
    meters and benefits become the new product's; the new amount is billed from the next
    period (docs/decisions.md#d36)."""
    if not _can_cancel(subscription, immediately=True):
        raise AlreadyCanceledSubscription()
    purchasable = await _purchasable(session, subscription.organization_id, body.product_id)
    previous = await products_service.get_purchasable(
        session, organization_id=subscription.organization_id, product_id=subscription.product_id
    )
    kept = set(purchasable.benefit_ids)
    dropped = [id for id in (previous.benefit_ids if previous else []) if id not in kept]
    await benefits_service.revoke_subscription_benefits(
        session, subscription=subscription, benefit_ids=dropped, now=now
    )
    subscription.product_id = purchasable.product.id
    subscription.amount = _fixed_amount(purchasable.prices)
    assert purchasable.product.recurring_interval is not None
    subscription.recurring_interval = purchasable.product.recurring_interval
    subscription.modified_at = now
    await session.flush()
    await _adopt(session, subscription, purchasable, now=now)
    return subscription


async def change_trial(
    session: AsyncSession,
    subscription: Subscription,
    body: SubscriptionUpdateTrial,
    *,
    now: datetime,
) -> Subscription:
    """Move the end of a trial, or end it now (the paid period starts and is billed)."""
    if subscription.status != SubscriptionStatus.trialing:
        raise SubscriptionNotTrialing()
    if body.trial_end == "now":
        subscription.trial_end = subscription.current_period_end = now
        await session.flush()
        await lifecycle.renew(session, subscription, now=now)
        return subscription
    if body.trial_end <= now:
        raise _invalid(
            ("body", "trial_end"), "Trial end must be in the future.", str(body.trial_end)
        )
    subscription.trial_end = subscription.current_period_end = body.trial_end
    if subscription.cancel_at_period_end:
        subscription.ends_at = body.trial_end
    subscription.modified_at = now
    await session.flush()
    return subscription


async def update(
    session: AsyncSession, subscription: Subscription, body: SubscriptionUpdate, *, now: datetime
) -> Subscription:
    if isinstance(body, SubscriptionRevoke):
        return await revoke(session, subscription, body, now=now)
    if isinstance(body, SubscriptionCancel):
        return await cancel(session, subscription, body, now=now)
    if isinstance(body, SubscriptionUpdateProduct):
        return await change_product(session, subscription, body, now=now)
    if isinstance(body, SubscriptionUpdateTrial):
        return await change_trial(session, subscription, body, now=now)
    # Discounts are not stored by this server (docs/decisions.md#d36).
    raise _invalid(
        ("body", "discount_id"), "Discounts are not supported by this server.", body.discount_id
    )


async def product_benefits_changed(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    product_id: uuid.UUID,
    added: Sequence[uuid.UUID],
    removed: Sequence[uuid.UUID],
    now: datetime,
) -> None:
    """A product's benefits changed: its running subscriptions are granted the added ones
    and lose the removed ones, now."""
    if not added and not removed:
        return
    for subscription in await repository.lock_current_of_product(
        session, organization_id, product_id
    ):
        if removed:
            await benefits_service.revoke_subscription_benefits(
                session, subscription=subscription, benefit_ids=removed, now=now
            )
        if added:
            await benefits_service.grant_subscription_benefits(
                session, subscription=subscription, benefit_ids=added, now=now
            )


async def mark_past_due(
    session: AsyncSession, *, organization_id: uuid.UUID, subscription_id: uuid.UUID, now: datetime
) -> None:
    """A payment of the subscription failed: it is past due until one succeeds (it keeps
    its benefits meanwhile, and does not renew)."""
    subscription = await repository.lock_by_id(session, organization_id, subscription_id)
    if subscription is not None and subscription.status == SubscriptionStatus.active:
        subscription.status = SubscriptionStatus.past_due
        subscription.modified_at = now
        await session.flush()


async def mark_paid(
    session: AsyncSession, *, organization_id: uuid.UUID, subscription_id: uuid.UUID, now: datetime
) -> None:
    """A payment of a past due subscription succeeded: it is active again."""
    subscription = await repository.lock_by_id(session, organization_id, subscription_id)
    if subscription is not None and subscription.status == SubscriptionStatus.past_due:
        subscription.status = SubscriptionStatus.active
        subscription.modified_at = now
        await session.flush()


async def list_subscriptions(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    product_ids: Sequence[uuid.UUID] | None,
    customer_ids: Sequence[uuid.UUID] | None,
    external_customer_ids: Sequence[str] | None,
    discount_ids: Sequence[uuid.UUID] | None,
    active: bool | None,
    metadata: Mapping[str, list[str]],
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[dict[str, Any]], int]:
    statement = repository.list_statement(
        product_ids=product_ids,
        customer_ids=customer_ids,
        external_customer_ids=external_customer_ids,
        discount_ids=discount_ids,
        active=active,
        metadata=metadata,
        dialect=session.bind.dialect.name,
    )
    return await repository.page(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )


@dataclass(frozen=True, slots=True)
class SubscriptionDetails:
    """What subscription responses embed, read for a page of them at once."""

    customers: dict[uuid.UUID, CustomerRow]
    products: dict[uuid.UUID, ProductFull]
    prices: dict[uuid.UUID, list[PriceRow]]
    """Each subscription's prices, in order (archived ones included: it keeps them)."""
    meters: dict[uuid.UUID, list[dict[str, Any]]]
    """Each subscription's meter rows, each with its `meter` (a `MeterRow`)."""


async def load_details(
    connection: RawConnection, rows: Sequence[Mapping[str, Any]]
) -> SubscriptionDetails:
    """The customers, products, prices and meters of these subscriptions (one page, of one
    or more organizations), in a bounded number of queries per organization."""
    details = SubscriptionDetails({}, {}, {}, {})
    by_organization: defaultdict[uuid.UUID, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_organization[row["organization_id"]].append(row)
    for organization_id, subscriptions in by_organization.items():
        ids = [row["id"] for row in subscriptions]
        organization = OrganizationIds((organization_id,))
        details.customers.update(
            await customers_repository.read_many(
                connection, organization, [row["customer_id"] for row in subscriptions]
            )
        )
        details.products.update(
            await products_repository.load_products(
                connection, organization_id, [row["product_id"] for row in subscriptions]
            )
        )
        details.prices.update(await repository.prices_of(connection, organization_id, ids))
        meters = await repository.meters_of(connection, organization_id, ids)
        meter_rows = await meters_repository.load_meters(
            connection, organization_id, [m["meter_id"] for ms in meters.values() for m in ms]
        )
        for subscription_id, rows_of_meters in meters.items():
            details.meters[subscription_id] = [
                {**meter, "meter": meter_rows[meter["meter_id"]]}
                for meter in rows_of_meters
                if meter["meter_id"] in meter_rows
            ]
    return details
