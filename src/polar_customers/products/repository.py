"""SQL for products, their prices and their benefits. Every query is bound to the caller's
organizations (kit/tenancy.py) or to the organization of a product already found.

Every read of products for a response gives `ProductFull`s (`load`, `load_products`): two
queries whatever the number of products, one for the products and their live prices (with
their meters' names), one for their benefits."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from polar_customers.benefits.repository import BenefitRow
from polar_customers.kit.metadata import metadata_filters
from polar_customers.kit.pagination import PaginationParams, paginate_rows
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.schemas import is_storable
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import TENANTS, OrganizationIds, live_rows, tenant_parameters
from polar_customers.models import Benefit, Meter, Product, ProductBenefit, ProductPrice


class ProductRow(TypedDict):
    """A product's columns, by attribute name."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    name: str
    description: str | None
    recurring_interval: str | None
    trial_interval: str | None
    trial_interval_count: int | None
    is_archived: bool
    archived_at: datetime | None
    user_metadata: dict[str, Any]


class PriceRow(TypedDict):
    """A price's columns, by attribute name, and the name of its meter (metered prices)."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    product_id: uuid.UUID
    amount_type: str
    type: str
    recurring_interval: str | None
    is_archived: bool
    price_currency: str
    price_amount: int | None
    meter_id: uuid.UUID | None
    unit_amount: float | None
    cap_amount: int | None
    position: int
    meter_name: str | None


@dataclass(frozen=True, slots=True)
class ProductFull:
    """A product as every response shows it: its row, its live prices in order, and its
    live benefits in order."""

    product: ProductRow
    prices: list[PriceRow]
    benefits: list[BenefitRow]


PRODUCT_COLUMNS = attribute_columns(Product)
_PRODUCT_KEYS = tuple(column.key for column in PRODUCT_COLUMNS)
_PRICE_KEYS = tuple(column.key for column in attribute_columns(ProductPrice))
_BENEFIT_KEYS = tuple(column.key for column in attribute_columns(Benefit))
_VISIBLE = live_rows(Product)
"""The one tenancy predicate of the table: live products of the caller's organizations."""
_IDS = "product_ids"


def row_of(product: Product) -> ProductRow:
    return cast(ProductRow, {key: getattr(product, key) for key in _PRODUCT_KEYS})


def _live_price(price: Any) -> ColumnElement[bool]:
    return and_(price.is_archived.is_(False), price.deleted_at.is_(None))


_PRICE_ORDER = (ProductPrice.position, ProductPrice.created_at, ProductPrice.id)
_PRICE_PREFIX = "price__"
_LOAD_PRODUCTS = RawQuery(
    select(
        *PRODUCT_COLUMNS,
        *(getattr(ProductPrice, key).label(f"{_PRICE_PREFIX}{key}") for key in _PRICE_KEYS),
        Meter.name.label(f"{_PRICE_PREFIX}meter_name"),
    )
    .outerjoin(
        ProductPrice,
        and_(
            ProductPrice.organization_id == Product.organization_id,
            ProductPrice.product_id == Product.id,
            _live_price(ProductPrice),
        ),
    )
    .outerjoin(
        Meter,
        and_(
            Meter.organization_id == ProductPrice.organization_id, Meter.id == ProductPrice.meter_id
        ),
    )
    .where(_VISIBLE, Product.id.in_(bindparam(_IDS, expanding=True)))
    .order_by(Product.id, *_PRICE_ORDER)
)
_LOAD_BENEFITS = RawQuery(
    select(ProductBenefit.product_id.label("product_id"), *attribute_columns(Benefit))
    .join(
        Benefit,
        and_(
            Benefit.organization_id == ProductBenefit.organization_id,
            Benefit.id == ProductBenefit.benefit_id,
        ),
    )
    .where(
        ProductBenefit.organization_id.in_(bindparam(TENANTS, expanding=True)),
        ProductBenefit.product_id.in_(bindparam(_IDS, expanding=True)),
        Benefit.deleted_at.is_(None),
    )
    .order_by(ProductBenefit.product_id, ProductBenefit.position, Benefit.id)
)


async def load(
    connection: RawConnection, organization_ids: OrganizationIds, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ProductFull]:
    """The visible live products with these ids, archived ones included, without the ORM."""
    ids = list(dict.fromkeys(product_ids))
    if not ids or not organization_ids:
        return {}
    parameters = {**tenant_parameters(organization_ids), _IDS: ids}
    products: dict[uuid.UUID, ProductRow] = {}
    prices: defaultdict[uuid.UUID, list[PriceRow]] = defaultdict(list)
    for row in await connection.fetch_mappings(_LOAD_PRODUCTS, **parameters):
        product = cast(ProductRow, {key: row[key] for key in _PRODUCT_KEYS})
        products.setdefault(product["id"], product)
        if row[f"{_PRICE_PREFIX}id"] is not None:
            price = {key: row[f"{_PRICE_PREFIX}{key}"] for key in (*_PRICE_KEYS, "meter_name")}
            prices[product["id"]].append(cast(PriceRow, price))
    benefits: defaultdict[uuid.UUID, list[BenefitRow]] = defaultdict(list)
    if products:
        found = {**parameters, _IDS: list(products)}
        for row in await connection.fetch_mappings(_LOAD_BENEFITS, **found):
            benefit = cast(BenefitRow, {key: row[key] for key in _BENEFIT_KEYS})
            benefits[row["product_id"]].append(benefit)
    return {id: ProductFull(product, prices[id], benefits[id]) for id, product in products.items()}


async def load_products(
    connection: RawConnection, organization_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ProductFull]:
    """The organization's live products with these ids (archived ones included), as
    `render.product` takes them: for other domains' responses that embed products."""
    return await load(connection, OrganizationIds((organization_id,)), product_ids)


# Writes --------------------------------------------------------------------------------------


async def lock(
    session: AsyncSession, organization_ids: OrganizationIds, product_id: uuid.UUID
) -> Product | None:
    """The visible live product with this id, locked until the transaction ends (so that
    concurrent changes to one product apply one after the other)."""
    statement = select(Product).where(_VISIBLE, Product.id == product_id).with_for_update()
    found: Product | None = await session.scalar(statement, tenant_parameters(organization_ids))
    return found


async def get(
    session: AsyncSession, organization_id: uuid.UUID, product_id: uuid.UUID
) -> Product | None:
    """The organization's live product with this id, archived or not (unlocked)."""
    statement = select(Product).where(
        Product.organization_id == organization_id,
        Product.id == product_id,
        Product.deleted_at.is_(None),
    )
    found: Product | None = await session.scalar(statement)
    return found


async def live_prices(session: AsyncSession, product: Product) -> Sequence[ProductPrice]:
    """The product's live (not archived) prices, in order."""
    statement = (
        select(ProductPrice)
        .where(
            ProductPrice.organization_id == product.organization_id,
            ProductPrice.product_id == product.id,
            _live_price(ProductPrice),
        )
        .order_by(*_PRICE_ORDER)
    )
    return (await session.scalars(statement)).all()


async def product_benefits(session: AsyncSession, product: Product) -> Sequence[ProductBenefit]:
    """The product's benefit links, in order, locked (for writes)."""
    statement = (
        select(ProductBenefit)
        .where(
            ProductBenefit.organization_id == product.organization_id,
            ProductBenefit.product_id == product.id,
        )
        .order_by(ProductBenefit.position, ProductBenefit.benefit_id)
        .with_for_update()
    )
    return (await session.scalars(statement)).all()


async def live_benefit_ids(
    session: AsyncSession, organization_id: uuid.UUID, product_id: uuid.UUID
) -> list[uuid.UUID]:
    """The ids of the product's live benefits, in order."""
    statement = (
        select(ProductBenefit.benefit_id)
        .join(
            Benefit,
            and_(
                Benefit.organization_id == ProductBenefit.organization_id,
                Benefit.id == ProductBenefit.benefit_id,
            ),
        )
        .where(
            ProductBenefit.organization_id == organization_id,
            ProductBenefit.product_id == product_id,
            Benefit.deleted_at.is_(None),
        )
        .order_by(ProductBenefit.position, ProductBenefit.benefit_id)
    )
    return list((await session.scalars(statement)).all())


async def links_of_benefit(
    session: AsyncSession, organization_id: uuid.UUID, benefit_id: uuid.UUID
) -> Sequence[ProductBenefit]:
    """Every link of the organization's products to this benefit, locked."""
    statement = (
        select(ProductBenefit)
        .where(
            ProductBenefit.organization_id == organization_id,
            ProductBenefit.benefit_id == benefit_id,
        )
        .order_by(ProductBenefit.product_id)
        .with_for_update()
    )
    return (await session.scalars(statement)).all()


async def benefit_organizations(
    session: AsyncSession, organization_ids: OrganizationIds, benefit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The organization of each visible live benefit among these ids."""
    if not benefit_ids:
        return {}
    statement = select(Benefit.id, Benefit.organization_id).where(
        live_rows(Benefit), Benefit.id.in_(list(benefit_ids))
    )
    result = await session.execute(statement, tenant_parameters(organization_ids))
    return dict(result.tuples().all())


async def live_meters(
    session: AsyncSession, organization_id: uuid.UUID, meter_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """The ids among these of the organization's live meters (archived ones included)."""
    if not meter_ids:
        return set()
    statement = select(Meter.id).where(
        Meter.organization_id == organization_id,
        Meter.deleted_at.is_(None),
        Meter.id.in_(list(meter_ids)),
    )
    return set((await session.scalars(statement)).all())


# Lists ---------------------------------------------------------------------------------------

_FIRST_PRICE = aliased(ProductPrice, name="first_price")
_FIRST_PRICE_ID = (
    select(ProductPrice.id)
    .where(
        ProductPrice.organization_id == Product.organization_id,
        ProductPrice.product_id == Product.id,
        _live_price(ProductPrice),
    )
    .order_by(*_PRICE_ORDER)
    .limit(1)
    .correlate(Product)
    .scalar_subquery()
)
# As Polar sorts: by the first live price, custom before fixed, the others (free, metered, none)
# without a value.
_SORT_COLUMNS: dict[str, Any] = {
    "created_at": Product.created_at,
    "name": Product.name,
    "price_amount_type": case(
        (_FIRST_PRICE.amount_type == "custom", 1), (_FIRST_PRICE.amount_type == "fixed", 2)
    ),
    "price_amount": case((_FIRST_PRICE.amount_type == "fixed", _FIRST_PRICE.price_amount)),
}
_BY_PRICE = frozenset({"price_amount_type", "price_amount"})


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_statement(
    *,
    dialect: str,
    ids: Sequence[uuid.UUID] | None = None,
    query: str | None = None,
    is_archived: bool | None = None,
    is_recurring: bool | None = None,
    benefit_ids: Sequence[uuid.UUID] | None = None,
    metadata: dict[str, list[str]] | None = None,
) -> Select[Any]:
    """The ids of the visible products that match the list filters. `query` matches a
    substring of the name, whatever its case, with LIKE wildcards taken literally."""
    statement = select(Product.id).where(_VISIBLE)
    searched = [query or ""]
    searched += [text for key, values in (metadata or {}).items() for text in (key, *values)]
    if not all(is_storable(text) for text in searched):
        return statement.where(false())  # nothing stored can contain what cannot be stored
    if ids is not None:
        statement = statement.where(Product.id.in_(list(ids)))
    if query is not None:
        pattern = f"%{_escape_like(query)}%"
        # SQLite's LIKE already ignores (ASCII) case.
        name = Product.name
        like = name.like if dialect == "sqlite" else name.ilike
        statement = statement.where(like(pattern, escape="\\"))
    if is_archived is not None:
        statement = statement.where(Product.is_archived.is_(is_archived))
    if is_recurring is not None:
        interval = Product.recurring_interval
        statement = statement.where(interval.is_not(None) if is_recurring else interval.is_(None))
    if benefit_ids is not None:
        statement = statement.where(_grants_any(benefit_ids))
    if metadata:
        statement = statement.where(
            metadata_filters(Product.user_metadata, metadata, dialect=dialect)
        )
    return statement


def _grants_any(benefit_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    return (
        select(ProductBenefit.benefit_id)
        .where(
            ProductBenefit.organization_id == Product.organization_id,
            ProductBenefit.product_id == Product.id,
            ProductBenefit.benefit_id.in_(list(benefit_ids)),
        )
        .exists()
    )


def _order_by(sorting: Sequence[SortCriterion]) -> list[Any]:
    clauses = []
    for criterion in sorting:
        column = _SORT_COLUMNS[criterion.property]
        # Same NULL placement on both engines: last ascending, first descending (PostgreSQL's).
        clauses.append(
            column.desc().nulls_first() if criterion.descending else column.asc().nulls_last()
        )
    # A unique tie-breaker keeps pages stable when sort keys repeat.
    clauses.append(Product.id.desc() if sorting and sorting[-1].descending else Product.id.asc())
    return clauses


async def page_ids(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[uuid.UUID], int]:
    """The ids of one page of `statement` in the sorting's order, and its total count."""
    if any(criterion.property in _BY_PRICE for criterion in sorting):
        statement = statement.outerjoin(_FIRST_PRICE, _FIRST_PRICE.id == _FIRST_PRICE_ID)
    rows, total = await paginate_rows(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=_order_by(sorting),
    )
    return [row["id"] for row in rows], total
