"""Every product rule that needs the database. Services flush; the request commits.

Reads give `ProductFull`s (without the ORM); writes find the product with `lock`, change it,
and give it back as a `ProductFull` read in the same transaction. Prices are never changed:
an update archives the prices it drops and adds new ones."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal, organization_of_new
from polar_customers.errors import (
    PolarRequestValidationError,
    ResourceNotFound,
    ValidationErrorItem,
)
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection, borrow
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.models import (
    Product,
    ProductBenefit,
    ProductPrice,
    ProductPriceAmountType,
    ProductPriceType,
)
from polar_customers.products import repository
from polar_customers.products.price_schemas import (
    ExistingProductPrice,
    PriceCreate,
    ProductPriceCustomCreate,
    ProductPriceFixedCreate,
    ProductPriceFreeCreate,
    ProductPriceMeteredUnitCreate,
    ProductPriceSeatBasedCreate,
)
from polar_customers.products.repository import ProductFull
from polar_customers.products.schemas import (
    ProductCreateOneTime,
    ProductCreateRecurring,
    ProductUpdate,
)

PRICE_DOES_NOT_EXIST = "Price does not exist."
PRICE_LISTED_TWICE = "Price is listed more than once."
AT_LEAST_ONE_PRICE = "At least one price is required."
ONE_STATIC_PRICE = "Only one static price (fixed or free) is allowed."
METERED_NOT_ONE_TIME = "Metered pricing is not supported on one-time products."
METER_DOES_NOT_EXIST = "Meter does not exist."
METER_USED_TWICE = "Meter is already used for another price."
INTERVAL_IMMUTABLE = "Recurring interval cannot be changed."
TRIAL_ONLY_RECURRING = "Trial configuration is only supported on recurring products."
BENEFIT_DOES_NOT_EXIST = "Benefit does not exist."
BENEFIT_OF_OTHER_ORGANIZATION = "Benefit must be on the same organization as the product."
BENEFIT_LISTED_TWICE = "Benefit is listed more than once."

PriceInput = (
    ExistingProductPrice
    | ProductPriceFixedCreate
    | ProductPriceCustomCreate
    | ProductPriceFreeCreate
    | ProductPriceSeatBasedCreate
    | ProductPriceMeteredUnitCreate
)


def _error(
    loc: tuple[str | int, ...], msg: str, value: Any, kind: str = "value_error"
) -> ValidationErrorItem:
    return {"type": kind, "loc": ("body", *loc), "msg": msg, "input": value}


async def _full(session: AsyncSession, product: Product) -> ProductFull:
    """The product as responses show it, read in the session's transaction."""
    connection = await borrow(await session.connection())
    organization_ids = OrganizationIds((product.organization_id,))
    return (await repository.load(connection, organization_ids, [product.id]))[product.id]


# Reads ---------------------------------------------------------------------------------------


async def list_products(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    ids: Sequence[uuid.UUID] | None,
    query: str | None,
    is_archived: bool | None,
    is_recurring: bool | None,
    benefit_ids: Sequence[uuid.UUID] | None,
    metadata: dict[str, list[str]],
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[ProductFull], int]:
    """A page of the visible products matching the filters, and how many match in all."""
    statement = repository.list_statement(
        dialect=session.get_bind().dialect.name,
        ids=ids,
        query=query,
        is_archived=is_archived,
        is_recurring=is_recurring,
        benefit_ids=benefit_ids,
        metadata=metadata,
    )
    page, total = await repository.page_ids(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )
    connection = await borrow(await session.connection())
    products = await repository.load(connection, organization_ids, page)
    return [products[id] for id in page if id in products], total


async def get(
    connection: RawConnection, principal: Principal, product_id: uuid.UUID
) -> ProductFull:
    """The visible product with this id (archived ones included); 404 when there is none."""
    found = await repository.load(connection, principal.organization_ids, [product_id])
    if product_id not in found:
        raise ResourceNotFound()
    return found[product_id]


async def lock(session: AsyncSession, principal: Principal, product_id: uuid.UUID) -> Product:
    """The visible product with this id, locked until the request ends (for writes)."""
    product = await repository.lock(session, principal.organization_ids, product_id)
    if product is None:
        raise ResourceNotFound()
    return product


# Create --------------------------------------------------------------------------------------


async def create_product(
    session: AsyncSession,
    principal: Principal,
    *,
    create: ProductCreateRecurring | ProductCreateOneTime,
) -> ProductFull:
    """A new product and its prices, in the caller's organization (or the one named)."""
    organization_id = organization_of_new(principal, create.organization_id)[0]
    product = Product(
        id=uuid.uuid4(),
        organization_id=organization_id,
        name=create.name,
        description=create.description,
        recurring_interval=create.recurring_interval,
        user_metadata=create.metadata,
        is_archived=False,
    )
    if isinstance(create, ProductCreateRecurring):
        product.trial_interval = create.trial_interval
        product.trial_interval_count = create.trial_interval_count
    prices, errors = await _checked_prices(session, product, create.prices, existing=[])
    if errors:
        raise PolarRequestValidationError(errors)
    _position(prices)
    session.add(product)
    await session.flush()
    session.add_all(prices)
    await session.flush()
    return await _full(session, product)


# Prices --------------------------------------------------------------------------------------


def _new_price(product: Product, create: PriceCreate) -> ProductPrice:
    recurring = product.recurring_interval is not None
    price = ProductPrice(
        id=uuid.uuid4(),
        organization_id=product.organization_id,
        product_id=product.id,
        amount_type=create.amount_type,
        type=ProductPriceType.recurring if recurring else ProductPriceType.one_time,
        recurring_interval=product.recurring_interval,
        is_archived=False,
    )
    if isinstance(create, ProductPriceFixedCreate):
        price.price_currency, price.price_amount = create.price_currency, create.price_amount
    elif isinstance(create, ProductPriceMeteredUnitCreate):
        price.price_currency, price.meter_id = create.price_currency, create.meter_id
        price.unit_amount, price.cap_amount = float(create.unit_amount), create.cap_amount
    return price


async def _checked_prices(
    session: AsyncSession,
    product: Product,
    inputs: Sequence[PriceInput],
    *,
    existing: Sequence[ProductPrice],
) -> tuple[list[ProductPrice], list[ValidationErrorItem]]:
    """The prices `inputs` name (existing live prices of the product kept, new ones built, not
    yet added), in their order, and what is wrong with them."""
    live = {price.id: price for price in existing}
    metered_ids = [p.meter_id for p in inputs if isinstance(p, ProductPriceMeteredUnitCreate)]
    meters = await repository.live_meters(session, product.organization_id, metered_ids)
    prices: list[tuple[int, ProductPrice]] = []
    errors: list[ValidationErrorItem] = []
    for index, price_input in enumerate(inputs):
        if isinstance(price_input, ExistingProductPrice):
            price = live.pop(price_input.id, None)
            if price is None:
                listed = any(kept.id == price_input.id for _, kept in prices)
                msg = PRICE_LISTED_TWICE if listed else PRICE_DOES_NOT_EXIST
                errors.append(_error(("prices", index), msg, str(price_input.id)))
                continue
        elif isinstance(price_input, ProductPriceMeteredUnitCreate):
            error = _metered_error(product, price_input, index, meters)
            if error is not None:
                errors.append(error)
                continue
            price = _new_price(product, price_input)
        else:
            # The schema refuses custom and seat-based prices.
            assert isinstance(price_input, ProductPriceFixedCreate | ProductPriceFreeCreate)
            price = _new_price(product, price_input)
        prices.append((index, price))
    errors += _price_set_errors(prices, inputs)
    return [price for _, price in prices], errors


def _metered_error(
    product: Product, price: ProductPriceMeteredUnitCreate, index: int, meters: set[uuid.UUID]
) -> ValidationErrorItem | None:
    if product.recurring_interval is None:
        return _error(("prices", index), METERED_NOT_ONE_TIME, price.model_dump(mode="json"))
    if price.meter_id not in meters:
        return _error(("prices", index, "meter_id"), METER_DOES_NOT_EXIST, str(price.meter_id))
    return None


def _is_metered(price: ProductPrice) -> bool:
    return price.amount_type == ProductPriceAmountType.metered_unit


def _price_set_errors(
    prices: Sequence[tuple[int, ProductPrice]], inputs: Sequence[PriceInput]
) -> list[ValidationErrorItem]:
    """At least one price, at most one static price, each meter at most once."""
    listed = [price_input.model_dump(mode="json") for price_input in inputs]
    errors: list[ValidationErrorItem] = []
    if not inputs:
        errors.append(_error(("prices",), AT_LEAST_ONE_PRICE, listed, "too_short"))
    if sum(not _is_metered(price) for _, price in prices) > 1:
        errors.append(_error(("prices",), ONE_STATIC_PRICE, listed))
    meters: set[uuid.UUID | None] = set()
    for index, price in prices:
        if not _is_metered(price):
            continue
        if price.meter_id in meters:
            loc = ("prices", index, "meter_id")
            errors.append(_error(loc, METER_USED_TWICE, str(price.meter_id)))
        meters.add(price.meter_id)
    return errors


def _position(prices: Sequence[ProductPrice]) -> None:
    """Static prices first, then metered ones, each in the order given (as Polar lists them)."""
    ordered = sorted(prices, key=_is_metered)
    for position, price in enumerate(ordered):
        if price.position != position:
            price.position = position


# Update --------------------------------------------------------------------------------------


def _update_errors(product: Product, update: ProductUpdate) -> list[ValidationErrorItem]:
    errors: list[ValidationErrorItem] = []
    interval = update.recurring_interval
    # This server has no legacy products (with the interval on their prices): an interval is
    # set when the product is created, and kept.
    if interval is not None and interval != product.recurring_interval:
        errors.append(_error(("recurring_interval",), INTERVAL_IMMUTABLE, interval))
    trial = (update.trial_interval, update.trial_interval_count)
    if trial != (None, None) and product.recurring_interval is None:
        errors.append(_error(("trial_interval",), TRIAL_ONLY_RECURRING, trial[0]))
        errors.append(_error(("trial_interval_count",), TRIAL_ONLY_RECURRING, trial[1]))
    return errors


async def update_product(
    session: AsyncSession, product: Product, *, update: ProductUpdate, now: datetime
) -> ProductFull:
    """Write every field present in `update` (null leaves `name`, `is_archived`, `prices` and
    the interval unchanged, and clears the description and the trial). Prices left out of
    `prices` are archived; subscriptions keep billing them."""
    errors = _update_errors(product, update)
    kept: list[ProductPrice] = []
    existing: Sequence[ProductPrice] = []
    if update.prices is not None:
        existing = await repository.live_prices(session, product)
        kept, price_errors = await _checked_prices(
            session, product, update.prices, existing=existing
        )
        errors += price_errors
    if errors:
        raise PolarRequestValidationError(errors)
    _apply(product, update, now=now)
    if update.prices is not None:
        for price in existing:
            if price not in kept:
                price.is_archived, price.modified_at = True, now
        _position(kept)
        session.add_all(kept)
    await session.flush()
    return await _full(session, product)


def _apply(product: Product, update: ProductUpdate, *, now: datetime) -> None:
    fields = update.model_fields_set
    if update.name is not None:
        product.name = update.name
    if "description" in fields:
        product.description = update.description
    if "metadata" in fields:
        product.user_metadata = update.metadata
    if fields & {"trial_interval", "trial_interval_count"}:
        # Both or none (the schema's rule): null for either clears the trial.
        product.trial_interval = update.trial_interval
        product.trial_interval_count = update.trial_interval_count
    if update.is_archived is not None and update.is_archived != product.is_archived:
        product.is_archived = update.is_archived
        product.archived_at = now if update.is_archived else None
    if fields:
        product.modified_at = now


# Benefits ------------------------------------------------------------------------------------


async def _benefit_errors(
    session: AsyncSession, principal: Principal, product: Product, benefit_ids: Sequence[uuid.UUID]
) -> list[ValidationErrorItem]:
    organizations = await repository.benefit_organizations(
        session, principal.organization_ids, benefit_ids
    )
    errors: list[ValidationErrorItem] = []
    seen: set[uuid.UUID] = set()
    for index, benefit_id in enumerate(benefit_ids):
        organization_id = organizations.get(benefit_id)
        if benefit_id in seen:
            msg = BENEFIT_LISTED_TWICE
        elif organization_id is None:
            msg = BENEFIT_DOES_NOT_EXIST
        elif organization_id != product.organization_id:
            msg = BENEFIT_OF_OTHER_ORGANIZATION
        else:
            seen.add(benefit_id)
            continue
        errors.append(_error(("benefits", index), msg, str(benefit_id)))
    return errors


async def update_benefits(
    session: AsyncSession,
    principal: Principal,
    product: Product,
    *,
    benefit_ids: Sequence[uuid.UUID],
    now: datetime,
) -> ProductFull:
    """The product grants exactly these benefits, in this order; its running subscriptions
    are granted the added ones and lose the removed ones."""
    # Imported here: the subscriptions service imports this module.
    from polar_customers.subscriptions import service as subscriptions_service

    errors = await _benefit_errors(session, principal, product, benefit_ids)
    if errors:
        raise PolarRequestValidationError(errors)
    links = await repository.product_benefits(session, product)
    previous = [link.benefit_id for link in links]
    position = {benefit_id: index for index, benefit_id in enumerate(benefit_ids)}
    for link in links:
        if link.benefit_id in position:
            link.position = position[link.benefit_id]
        else:
            await session.delete(link)
    for benefit_id in benefit_ids:
        if benefit_id not in previous:
            session.add(
                ProductBenefit(
                    organization_id=product.organization_id,
                    product_id=product.id,
                    benefit_id=benefit_id,
                    position=position[benefit_id],
                )
            )
    await session.flush()
    await subscriptions_service.product_benefits_changed(
        session,
        organization_id=product.organization_id,
        product_id=product.id,
        added=[benefit_id for benefit_id in benefit_ids if benefit_id not in previous],
        removed=[benefit_id for benefit_id in previous if benefit_id not in position],
        now=now,
    )
    return await _full(session, product)


# For other domains ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchasableProduct:
    """A product as a purchase needs it: its live prices and its live benefits' ids, each in
    order."""

    product: Product
    prices: list[ProductPrice]
    benefit_ids: list[uuid.UUID]


async def get_purchasable(
    session: AsyncSession, *, organization_id: uuid.UUID, product_id: uuid.UUID
) -> PurchasableProduct | None:
    """The organization's live product with this id, archived or not (`product.is_archived`
    tells); None when there is none."""
    product = await repository.get(session, organization_id, product_id)
    if product is None:
        return None
    prices = list(await repository.live_prices(session, product))
    benefit_ids = await repository.live_benefit_ids(session, organization_id, product_id)
    return PurchasableProduct(product=product, prices=prices, benefit_ids=benefit_ids)


async def detach_benefit(
    session: AsyncSession, *, organization_id: uuid.UUID, benefit_id: uuid.UUID
) -> list[uuid.UUID]:
    """Remove the benefit from every product of the organization (a benefit being deleted);
    returns the ids of the products it was on. Grants are the caller's to revoke."""
    links = await repository.links_of_benefit(session, organization_id, benefit_id)
    for link in links:
        await session.delete(link)
    await session.flush()
    return [link.product_id for link in links]
