"""SQL for subscriptions, their prices and their meters. Every query is bound to the caller's
organizations (kit/tenancy.py) or starts from the organization of the customer."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.metadata import metadata_filters
from polar_customers.kit.pagination import PaginationParams, paginate_rows
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.records import TenantRecords
from polar_customers.kit.schemas import matchable
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.sql_json import (
    column_values,
    json_array,
    json_nested,
    json_value,
    schema_columns,
)
from polar_customers.kit.sql_text import uuid_text
from polar_customers.kit.tenancy import OrganizationIds, tenant_parameters
from polar_customers.models import (
    Customer,
    Meter,
    Product,
    ProductPrice,
    Subscription,
    SubscriptionMeter,
    SubscriptionPrice,
    SubscriptionStatus,
)
from polar_customers.products.repository import PriceRow
from polar_customers.subscriptions.state_schemas import (
    CustomerStateSubscription,
    CustomerStateSubscriptionMeter,
)

ACTIVE_STATUSES = (SubscriptionStatus.active, SubscriptionStatus.trialing)

_FIRST_PRICE_ID = (
    select(uuid_text(SubscriptionPrice.product_price_id))
    .where(
        SubscriptionPrice.organization_id == Subscription.organization_id,
        SubscriptionPrice.subscription_id == Subscription.id,
        SubscriptionPrice.deleted_at.is_(None),
    )
    .order_by(SubscriptionPrice.position)
    .limit(1)
    .correlate(Subscription)
    .scalar_subquery()
)


def _active(organization_id: Any, customer_id: Any) -> tuple[ColumnElement[bool], ...]:
    """A customer's live active and trialing subscriptions (ids or bound parameters)."""
    return (
        Subscription.organization_id == organization_id,
        Subscription.customer_id == customer_id,
        Subscription.deleted_at.is_(None),
        or_(*(Subscription.status == status for status in ACTIVE_STATUSES)),
    )


_STATE_METERS = json_array(
    select(
        *schema_columns(
            CustomerStateSubscriptionMeter,
            column_values(SubscriptionMeter, CustomerStateSubscriptionMeter),
        )
    )
    .where(
        SubscriptionMeter.organization_id == Subscription.organization_id,
        SubscriptionMeter.subscription_id == Subscription.id,
        SubscriptionMeter.deleted_at.is_(None),
    )
    .order_by(SubscriptionMeter.created_at, SubscriptionMeter.id)
)


def active_state_json(organization_id: Any, customer_id: Any) -> ScalarSelect[str]:
    """The customer's live active and trialing subscriptions as the JSON array of its state's
    `active_subscriptions` (kit/sql_json.py), each with its meters (oldest first) and first
    price id (null for a subscription without prices)."""
    return json_array(
        select(
            *schema_columns(
                CustomerStateSubscription,
                {
                    **column_values(Subscription, CustomerStateSubscription),
                    "metadata": json_value(Subscription.user_metadata),
                    "price_id": _FIRST_PRICE_ID,
                    "meters": json_nested(_STATE_METERS),
                },
            )
        )
        .where(*_active(organization_id, customer_id))
        .order_by(Subscription.created_at, Subscription.id)
    )


async def lock_active(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> Sequence[Subscription]:
    """The customer's live active and trialing subscriptions, locked (for writes)."""
    statement = select(Subscription).where(*_active(organization_id, customer_id))
    return (await session.scalars(statement.with_for_update())).all()


# The subscriptions API -----------------------------------------------------------------------

_RECORDS: TenantRecords[Subscription, dict[str, Any]] = TenantRecords(Subscription)
SUBSCRIPTION_COLUMNS = _RECORDS.columns
_VISIBLE = _RECORDS.visible
CURRENT_STATUSES = (*ACTIVE_STATUSES, SubscriptionStatus.past_due)
"""Subscriptions that still run: their product's benefits are theirs, their period renews."""
row_of = _RECORDS.row_of
read = _RECORDS.read
"""The visible subscription with this id, without the ORM (for responses)."""
lock = _RECORDS.lock
"""Like `read`, as a model locked until the transaction ends (for writes)."""


async def lock_by_id(
    session: AsyncSession, organization_id: uuid.UUID, subscription_id: uuid.UUID
) -> Subscription | None:
    """A live subscription of this organization, locked (for writes the server starts)."""
    statement = select(Subscription).where(
        Subscription.organization_id == organization_id,
        Subscription.id == subscription_id,
        Subscription.deleted_at.is_(None),
    )
    found: Subscription | None = await session.scalar(statement.with_for_update())
    return found


async def lock_current_of_product(
    session: AsyncSession, organization_id: uuid.UUID, product_id: uuid.UUID
) -> Sequence[Subscription]:
    """The product's running subscriptions (active, trialing, past due), locked."""
    statement = select(Subscription).where(
        Subscription.organization_id == organization_id,
        Subscription.product_id == product_id,
        Subscription.deleted_at.is_(None),
        Subscription.status.in_(CURRENT_STATUSES),
    )
    return (await session.scalars(statement.with_for_update())).all()


async def add_prices(
    session: AsyncSession, subscription: Subscription, price_ids: Sequence[uuid.UUID]
) -> None:
    """The subscription's prices from now on, in order (replacing any it had)."""
    await session.execute(
        delete(SubscriptionPrice).where(
            SubscriptionPrice.organization_id == subscription.organization_id,
            SubscriptionPrice.subscription_id == subscription.id,
        )
    )
    session.add_all(
        SubscriptionPrice(
            organization_id=subscription.organization_id,
            subscription_id=subscription.id,
            product_price_id=price_id,
            position=position,
        )
        for position, price_id in enumerate(price_ids)
    )
    await session.flush()


async def due_ids(
    session: AsyncSession, *, now: datetime, limit: int
) -> Sequence[tuple[uuid.UUID, uuid.UUID]]:
    """(organization id, id) of live active and trialing subscriptions whose period has
    ended, oldest end first (past due ones wait for a payment). On PostgreSQL, rows another
    process holds (a renewal under way) are skipped, not waited for."""
    statement = (
        select(Subscription.organization_id, Subscription.id)
        .where(
            Subscription.deleted_at.is_(None),
            Subscription.status.in_(ACTIVE_STATUSES),
            Subscription.current_period_end <= now,
        )
        .order_by(Subscription.current_period_end)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return [(row[0], row[1]) for row in (await session.execute(statement)).all()]


def list_statement(
    *,
    product_ids: Sequence[uuid.UUID] | None,
    customer_ids: Sequence[uuid.UUID] | None,
    external_customer_ids: Sequence[str] | None,
    discount_ids: Sequence[uuid.UUID] | None,
    active: bool | None,
    metadata: Mapping[str, list[str]],
    dialect: str,
) -> Select[Any]:
    """The visible subscriptions that pass the list filters (unsorted)."""
    statement = select(*SUBSCRIPTION_COLUMNS).where(_VISIBLE)
    if product_ids is not None:
        statement = statement.where(Subscription.product_id.in_(product_ids))
    if customer_ids is not None:
        statement = statement.where(Subscription.customer_id.in_(customer_ids))
    if external_customer_ids is not None:
        statement = statement.where(
            Subscription.customer_id.in_(
                select(Customer.id).where(
                    Customer.organization_id == Subscription.organization_id,
                    Customer.external_id.in_(matchable(external_customer_ids)),
                )
            )
        )
    if discount_ids is not None:
        statement = statement.where(Subscription.discount_id.in_(discount_ids))
    if active is not None:
        running = Subscription.status.in_(ACTIVE_STATUSES)
        statement = statement.where(running if active else ~running)
    if metadata:
        statement = statement.where(
            metadata_filters(Subscription.user_metadata, metadata, dialect=dialect)
        )
    return statement


_SORT_COLUMNS: dict[str, Any] = {
    "customer": select(Customer.email)
    .where(Customer.id == Subscription.customer_id)
    .correlate(Subscription)
    .scalar_subquery(),
    "status": Subscription.status,
    "started_at": Subscription.started_at,
    "current_period_end": Subscription.current_period_end,
    "amount": Subscription.amount,
    "product": select(Product.name)
    .where(Product.id == Subscription.product_id)
    .correlate(Subscription)
    .scalar_subquery(),
    "discount": Subscription.discount_id,
}


async def page(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[dict[str, Any]], int]:
    """One sorted page of `statement` (ties broken by creation, then id) and the total."""
    order = [
        _SORT_COLUMNS[criterion.property].desc()
        if criterion.descending
        else _SORT_COLUMNS[criterion.property].asc()
        for criterion in sorting
    ]
    order += [Subscription.created_at.desc(), Subscription.id.desc()]
    return await paginate_rows(
        session, statement, tenant_parameters(organization_ids), pagination=pagination, order=order
    )


_PRICES = RawQuery(
    select(
        SubscriptionPrice.subscription_id.label("subscription_id"),
        *attribute_columns(ProductPrice),
        Meter.name.label("meter_name"),
    )
    .join(
        ProductPrice,
        (ProductPrice.organization_id == SubscriptionPrice.organization_id)
        & (ProductPrice.id == SubscriptionPrice.product_price_id),
    )
    .outerjoin(
        Meter,
        (Meter.organization_id == ProductPrice.organization_id)
        & (Meter.id == ProductPrice.meter_id),
    )
    .where(
        SubscriptionPrice.organization_id == bindparam("organization"),
        SubscriptionPrice.subscription_id.in_(bindparam("subscriptions", expanding=True)),
        SubscriptionPrice.deleted_at.is_(None),
    )
    .order_by(SubscriptionPrice.subscription_id, SubscriptionPrice.position)
)
_METERS = RawQuery(
    select(*attribute_columns(SubscriptionMeter))
    .where(
        SubscriptionMeter.organization_id == bindparam("organization"),
        SubscriptionMeter.subscription_id.in_(bindparam("subscriptions", expanding=True)),
        SubscriptionMeter.deleted_at.is_(None),
    )
    .order_by(SubscriptionMeter.created_at, SubscriptionMeter.id)
)


async def prices_of(
    connection: RawConnection, organization_id: uuid.UUID, subscription_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[PriceRow]]:
    """The prices of each subscription, in order, as products render them."""
    found: dict[uuid.UUID, list[PriceRow]] = {id: [] for id in subscription_ids}
    if subscription_ids:
        rows = await connection.fetch_mappings(
            _PRICES, organization=organization_id, subscriptions=list(subscription_ids)
        )
        for row in rows:
            subscription_id = row.pop("subscription_id")
            found[subscription_id].append(cast(PriceRow, row))
    return found


async def meters_of(
    connection: RawConnection, organization_id: uuid.UUID, subscription_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The meter rows of each subscription, oldest first."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = {id: [] for id in subscription_ids}
    if subscription_ids:
        rows = await connection.fetch_mappings(
            _METERS, organization=organization_id, subscriptions=list(subscription_ids)
        )
        for row in rows:
            found[row["subscription_id"]].append(row)
    return found
