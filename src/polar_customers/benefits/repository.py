"""SQL for benefits, their grants and the license keys grants issue. Reads for responses are
bound to the caller's organizations (kit/tenancy.py); the grant changes other domains ask for
start from the organization of the subscription or customer."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import (
    ColumnElement,
    Label,
    ScalarSelect,
    Select,
    case,
    false,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from polar_customers.benefits.schemas import GRANT_PROPERTY_KEYS, CustomerStateBenefitGrant
from polar_customers.customers.repository import CUSTOMER_COLUMNS, CustomerRow
from polar_customers.kit.metadata import metadata_filters
from polar_customers.kit.pagination import PaginationParams, paginate_rows
from polar_customers.kit.raw_sql import attribute_columns
from polar_customers.kit.records import TenantRecords
from polar_customers.kit.schemas import is_storable
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.sql_json import (
    JSONValue,
    column_values,
    json_array,
    json_pick,
    json_value,
    schema_columns,
)
from polar_customers.kit.tenancy import OrganizationIds, live_rows, tenant_parameters
from polar_customers.models import (
    Benefit,
    BenefitGrant,
    Customer,
    CustomerMeter,
    Event,
    EventSource,
    LicenseKey,
    Meter,
)


class BenefitRow(TypedDict):
    """A benefit as every read gives it: its columns, by attribute name."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    type: str
    description: str
    properties: dict[str, Any]
    user_metadata: dict[str, Any]


class GrantRow(TypedDict):
    """A grant as the grant lists give it: its columns, its customer and its benefit."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    customer_id: uuid.UUID
    benefit_id: uuid.UUID
    subscription_id: uuid.UUID | None
    order_id: uuid.UUID | None
    granted_at: datetime | None
    revoked_at: datetime | None
    properties: dict[str, Any]
    customer: CustomerRow
    benefit: BenefitRow


_RECORDS: TenantRecords[Benefit, BenefitRow] = TenantRecords(Benefit)
BENEFIT_COLUMNS = _RECORDS.columns
_VISIBLE = _RECORDS.visible
"""The one tenancy predicate of the table: live benefits of the caller's organizations."""
row_of = _RECORDS.row_of
read = _RECORDS.read
"""The visible benefit with this id, without the ORM (for responses)."""
lock = _RECORDS.lock
"""Like `read`, as a model locked until the transaction ends (for writes)."""


async def exists(
    session: AsyncSession, organization_ids: OrganizationIds, benefit_id: uuid.UUID
) -> bool:
    statement = select(Benefit.id).where(_VISIBLE, Benefit.id == benefit_id)
    return bool(
        await session.scalar(select(statement.exists()), tenant_parameters(organization_ids))
    )


async def meter_exists(
    session: AsyncSession, organization_id: uuid.UUID, meter_id: uuid.UUID
) -> bool:
    """Whether the organization has a live (not deleted) meter with this id; an archived meter
    still counts, as in Polar."""
    statement = select(Meter.id).where(
        Meter.organization_id == organization_id,
        Meter.id == meter_id,
        Meter.deleted_at.is_(None),
    )
    return bool(await session.scalar(select(statement.exists())))


# Lists ---------------------------------------------------------------------------------------


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_statement(
    *,
    dialect: str,
    types: Sequence[str] | None,
    query: str | None,
    metadata: dict[str, list[str]],
) -> Select[Any]:
    """The visible benefits that pass the list filters (unsorted). `query` matches a substring
    of the description whatever its case, LIKE wildcards taken literally."""
    statement = select(*BENEFIT_COLUMNS).where(_VISIBLE)
    searched = [query or ""] + [text for key, values in metadata.items() for text in (key, *values)]
    if not all(is_storable(text) for text in searched):
        return statement.where(false())  # nothing stored can contain what cannot be stored
    if types is not None:
        statement = statement.where(Benefit.type.in_(types))
    if query is not None:
        pattern = f"%{_escape_like(query)}%"
        # SQLite's LIKE already ignores (ASCII) case.
        statement = statement.where(
            Benefit.description.like(pattern, escape="\\")
            if dialect == "sqlite"
            else Benefit.description.ilike(pattern, escape="\\")
        )
    if metadata:
        statement = statement.where(
            metadata_filters(Benefit.user_metadata, metadata, dialect=dialect)
        )
    return statement


def _order(
    columns: dict[str, InstrumentedAttribute[Any]],
    sorting: Sequence[SortCriterion],
    tie_breaker: InstrumentedAttribute[Any],
) -> list[Any]:
    # Same NULL placement on both engines: last ascending, first descending (PostgreSQL's).
    order: list[Any] = [
        columns[criterion.property].desc().nulls_first()
        if criterion.descending
        else columns[criterion.property].asc().nulls_last()
        for criterion in sorting
    ]
    # A unique tie-breaker keeps pages stable when sort keys repeat.
    order.append(tie_breaker.desc() if sorting and sorting[-1].descending else tie_breaker.asc())
    return order


_BENEFIT_SORT: dict[str, InstrumentedAttribute[Any]] = {
    "created_at": Benefit.created_at,
    "description": Benefit.description,
    "type": Benefit.type,
}


async def page(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[BenefitRow], int]:
    """One sorted page of `statement` and the total count of its rows."""
    rows, total = await paginate_rows(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=_order(_BENEFIT_SORT, sorting, Benefit.id),
    )
    return cast(list[BenefitRow], rows), total


# Grant lists: each grant with its customer (even deleted) and its benefit (even deleted). ------


def _prefixed(model: type[Any], prefix: str) -> list[Label[Any]]:
    return [column.element.label(f"{prefix}{column.key}") for column in attribute_columns(model)]


_GRANT_COLUMNS = attribute_columns(BenefitGrant)
_GRANT_CUSTOMER_COLUMNS = _prefixed(Customer, "customer__")
_GRANT_BENEFIT_COLUMNS = _prefixed(Benefit, "benefit__")
_GRANT_VISIBLE = live_rows(BenefitGrant)
_GRANT_SORT: dict[str, InstrumentedAttribute[Any]] = {
    "created_at": BenefitGrant.created_at,
    "granted_at": BenefitGrant.granted_at,
    "revoked_at": BenefitGrant.revoked_at,
}
assert [column.key for column in CUSTOMER_COLUMNS] == [
    column.key.removeprefix("customer__") for column in _GRANT_CUSTOMER_COLUMNS
]


def grants_statement(
    *,
    benefit_id: uuid.UUID | None = None,
    customer_ids: Sequence[uuid.UUID] | None = None,
    is_granted: bool | None = None,
) -> Select[Any]:
    """The visible live grants that pass the filters (unsorted). `is_granted` false is the
    grants not granted now (revoked ones, as Polar)."""
    statement = (
        select(*_GRANT_COLUMNS, *_GRANT_CUSTOMER_COLUMNS, *_GRANT_BENEFIT_COLUMNS)
        .join(
            Customer,
            (Customer.organization_id == BenefitGrant.organization_id)
            & (Customer.id == BenefitGrant.customer_id),
        )
        .join(
            Benefit,
            (Benefit.organization_id == BenefitGrant.organization_id)
            & (Benefit.id == BenefitGrant.benefit_id),
        )
        .where(_GRANT_VISIBLE)
    )
    if benefit_id is not None:
        statement = statement.where(BenefitGrant.benefit_id == benefit_id)
    if customer_ids is not None:
        statement = statement.where(BenefitGrant.customer_id.in_(customer_ids))
    if is_granted is not None:
        granted = BenefitGrant.granted_at.is_not(None)
        statement = statement.where(granted if is_granted else ~granted)
    return statement


def _grant_row(row: dict[str, Any]) -> GrantRow:
    grant = {column.key: row[column.key] for column in _GRANT_COLUMNS}
    grant["customer"] = {
        column.key.removeprefix("customer__"): row[column.key] for column in _GRANT_CUSTOMER_COLUMNS
    }
    grant["benefit"] = {
        column.key.removeprefix("benefit__"): row[column.key] for column in _GRANT_BENEFIT_COLUMNS
    }
    return cast(GrantRow, grant)


async def grant_page(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    statement: Select[Any],
    *,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[GrantRow], int]:
    """One sorted page of `grants_statement` and the total count of its rows."""
    rows, total = await paginate_rows(
        session,
        statement,
        tenant_parameters(organization_ids),
        pagination=pagination,
        order=_order(_GRANT_SORT, sorting, BenefitGrant.id),
    )
    return [_grant_row(row) for row in rows], total


# Grants for writes ----------------------------------------------------------------------------


_ORDERED = (BenefitGrant.created_at, BenefitGrant.id)


def _granted(organization_id: Any, customer_id: Any) -> tuple[ColumnElement[bool], ...]:
    """A customer's live, granted grants (ids or bound parameters)."""
    return (
        BenefitGrant.organization_id == organization_id,
        BenefitGrant.customer_id == customer_id,
        BenefitGrant.granted_at.is_not(None),
        BenefitGrant.deleted_at.is_(None),
    )


def granted_state_json(organization_id: Any, customer_id: Any) -> ScalarSelect[str]:
    """The customer's live, granted grants as the JSON array of its state's
    `granted_benefits` (kit/sql_json.py), oldest first, with the properties their benefit's
    type shows. The benefit is read even if it was deleted since."""
    properties = case(
        {
            benefit_type: json_pick(BenefitGrant.properties, keys)
            for benefit_type, keys in GRANT_PROPERTY_KEYS.items()
        },
        value=Benefit.type,
        else_=literal_column("'{}'"),
    )
    return json_array(
        select(
            *schema_columns(
                CustomerStateBenefitGrant,
                {
                    **column_values(BenefitGrant, CustomerStateBenefitGrant),
                    "benefit_type": Benefit.type,
                    "benefit_metadata": json_value(Benefit.user_metadata),
                    "properties": type_coerce(properties, JSONValue()),
                },
            )
        )
        .select_from(BenefitGrant)
        .join(
            Benefit,
            (Benefit.organization_id == BenefitGrant.organization_id)
            & (Benefit.id == BenefitGrant.benefit_id),
        )
        .where(*_granted(organization_id, customer_id))
        .order_by(*_ORDERED)
    )


async def lock_granted(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> Sequence[BenefitGrant]:
    """The customer's live, granted grants, locked (for writes)."""
    statement = select(BenefitGrant).where(*_granted(organization_id, customer_id))
    return (await session.scalars(statement.order_by(*_ORDERED).with_for_update())).all()


async def lock_granted_of_benefit(
    session: AsyncSession, organization_id: uuid.UUID, benefit_id: uuid.UUID
) -> Sequence[BenefitGrant]:
    """The benefit's live, granted grants (every customer's), locked."""
    statement = select(BenefitGrant).where(
        BenefitGrant.organization_id == organization_id,
        BenefitGrant.benefit_id == benefit_id,
        BenefitGrant.granted_at.is_not(None),
        BenefitGrant.deleted_at.is_(None),
    )
    return (await session.scalars(statement.order_by(*_ORDERED).with_for_update())).all()


async def lock_subscription_grants(
    session: AsyncSession,
    organization_id: uuid.UUID,
    subscription_id: uuid.UUID,
    benefit_ids: Sequence[uuid.UUID] | None = None,
) -> Sequence[BenefitGrant]:
    """The subscription's live grants (of these benefits, or all), locked."""
    statement = select(BenefitGrant).where(
        BenefitGrant.organization_id == organization_id,
        BenefitGrant.subscription_id == subscription_id,
        BenefitGrant.deleted_at.is_(None),
    )
    if benefit_ids is not None:
        statement = statement.where(BenefitGrant.benefit_id.in_(benefit_ids))
    return (await session.scalars(statement.order_by(*_ORDERED).with_for_update())).all()


async def benefits_by_id(
    session: AsyncSession,
    organization_id: uuid.UUID,
    benefit_ids: Sequence[uuid.UUID],
    *,
    deleted: bool = False,
) -> dict[uuid.UUID, Benefit]:
    """The organization's benefits with these ids: live ones, or deleted ones too."""
    if not benefit_ids:
        return {}
    statement = select(Benefit).where(
        Benefit.organization_id == organization_id, Benefit.id.in_(benefit_ids)
    )
    if not deleted:
        statement = statement.where(Benefit.deleted_at.is_(None))
    return {benefit.id: benefit for benefit in (await session.scalars(statement)).all()}


async def lock_license_key(
    session: AsyncSession, organization_id: uuid.UUID, license_key_id: uuid.UUID
) -> LicenseKey | None:
    statement = select(LicenseKey).where(
        LicenseKey.organization_id == organization_id,
        LicenseKey.id == license_key_id,
        LicenseKey.deleted_at.is_(None),
    )
    found: LicenseKey | None = await session.scalar(statement.with_for_update())
    return found


METER_RESET = "meter.reset"
"""The system event the meters domain records when it starts a customer's meter over."""


async def last_meter_reset(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, meter_id: uuid.UUID
) -> datetime | None:
    """When the customer's meter was last started over (None: never)."""
    statement = select(func.max(Event.timestamp)).where(
        Event.organization_id == organization_id,
        Event.customer_id == customer_id,
        Event.source == EventSource.system,
        Event.name == METER_RESET,
        Event.user_metadata["meter_id"].as_string() == str(meter_id),
    )
    found: datetime | None = await session.scalar(statement)
    return found


async def lock_meter_balance(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, meter_id: uuid.UUID
) -> float:
    """The customer's balance on the meter (0 without a row), its row locked until the
    transaction ends so that no event ingested meanwhile changes it under the caller."""
    statement = select(CustomerMeter.balance).where(
        CustomerMeter.organization_id == organization_id,
        CustomerMeter.customer_id == customer_id,
        CustomerMeter.meter_id == meter_id,
        CustomerMeter.deleted_at.is_(None),
    )
    balance = await session.scalar(statement.with_for_update())
    return float(balance or 0)
