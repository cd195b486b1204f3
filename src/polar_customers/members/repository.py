"""SQL for members. Every query is bound to the caller's organizations (kit/tenancy.py) and
to one customer; reads run on the driver connection and give `MemberRow`s, writes lock models
in the session."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict, cast

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.pagination import MAX_OFFSET, PaginationParams
from polar_customers.kit.raw_sql import RawConnection, RawQuery, attribute_columns
from polar_customers.kit.schemas import is_storable
from polar_customers.kit.tenancy import OrganizationIds, live_rows, tenant_parameters
from polar_customers.models import Member, MemberRole


class MemberRow(TypedDict):
    """A member as every read gives it: its columns, by attribute name."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    deleted_at: datetime | None
    organization_id: uuid.UUID
    customer_id: uuid.UUID
    email: str
    name: str | None
    external_id: str | None
    role: str


MEMBER_COLUMNS = attribute_columns(Member)
_KEYS = tuple(column.key for column in MEMBER_COLUMNS)
_VISIBLE = live_rows(Member)
"""The one tenancy predicate of the table: live members in the caller's organizations."""
_OF_CUSTOMER = Member.customer_id == bindparam("customer_id")


def row_of(member: Member) -> MemberRow:
    return cast(MemberRow, {key: getattr(member, key) for key in _KEYS})


_CRITERIA: dict[bool, ColumnElement[bool]] = {
    False: Member.id == bindparam("member_id"),
    True: Member.external_id == bindparam("member_external_id"),
}


def _parameters(
    organization_ids: OrganizationIds, customer_id: uuid.UUID, member: uuid.UUID | str
) -> dict[str, Any] | None:
    parameters = {**tenant_parameters(organization_ids), "customer_id": customer_id}
    if isinstance(member, uuid.UUID):
        return {**parameters, "member_id": member}
    if not is_storable(member):
        return None
    return {**parameters, "member_external_id": member}


_READS = {
    external: RawQuery(select(*MEMBER_COLUMNS).where(_VISIBLE, _OF_CUSTOMER, criterion))
    for external, criterion in _CRITERIA.items()
}


async def read(
    connection: RawConnection,
    organization_ids: OrganizationIds,
    customer_id: uuid.UUID,
    member: uuid.UUID | str,
) -> MemberRow | None:
    """The customer's live member with this id (a UUID) or external id (a string), without
    the ORM (for responses)."""
    parameters = _parameters(organization_ids, customer_id, member)
    if parameters is None:
        return None
    rows = await connection.fetch_mappings(_READS[isinstance(member, str)], **parameters)
    return cast(MemberRow, rows[0]) if rows else None


async def lock(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    customer_id: uuid.UUID,
    member: uuid.UUID | str,
) -> Member | None:
    """Like `read`, as a model locked until the transaction ends (for writes)."""
    parameters = _parameters(organization_ids, customer_id, member)
    if parameters is None:
        return None
    statement = select(Member).where(_VISIBLE, _OF_CUSTOMER, _CRITERIA[isinstance(member, str)])
    found: Member | None = await session.scalar(statement.with_for_update(), parameters)
    return found


async def lock_all(
    session: AsyncSession, organization_ids: OrganizationIds, customer_id: uuid.UUID
) -> Sequence[Member]:
    """The customer's live members, locked (for writes that span them)."""
    statement = select(Member).where(_VISIBLE, _OF_CUSTOMER).order_by(Member.created_at)
    parameters = {**tenant_parameters(organization_ids), "customer_id": customer_id}
    return (await session.scalars(statement.with_for_update(), parameters)).all()


async def email_taken(
    session: AsyncSession, organization_ids: OrganizationIds, customer_id: uuid.UUID, email: str
) -> bool:
    """Whether a live member of the customer has this email, whatever its case."""
    statement = select(Member.id).where(
        _VISIBLE, _OF_CUSTOMER, func.lower(Member.email) == email.lower()
    )
    parameters = {**tenant_parameters(organization_ids), "customer_id": customer_id}
    return bool(await session.scalar(select(statement.exists()), parameters))


async def external_id_taken(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    customer_id: uuid.UUID,
    external_id: str,
) -> bool:
    statement = select(Member.id).where(_VISIBLE, _OF_CUSTOMER, Member.external_id == external_id)
    parameters = {**tenant_parameters(organization_ids), "customer_id": customer_id}
    return bool(await session.scalar(select(statement.exists()), parameters))


def _page_query(*, role: bool, descending: bool) -> RawQuery:
    statement = select(*MEMBER_COLUMNS).where(_VISIBLE, _OF_CUSTOMER)
    if role:
        statement = statement.where(Member.role == bindparam("role"))
    order = (Member.created_at, Member.id)
    statement = statement.order_by(*(column.desc() if descending else column for column in order))
    return RawQuery(statement.limit(bindparam("limit")).offset(bindparam("offset")))


def _count_query(*, role: bool) -> RawQuery:
    statement = select(func.count()).select_from(Member).where(_VISIBLE, _OF_CUSTOMER)
    return RawQuery(statement.where(Member.role == bindparam("role")) if role else statement)


_PAGES = {
    (role, descending): _page_query(role=role, descending=descending)
    for role in (False, True)
    for descending in (False, True)
}
_COUNTS = {role: _count_query(role=role) for role in (False, True)}


async def page(
    connection: RawConnection,
    organization_ids: OrganizationIds,
    customer_id: uuid.UUID,
    *,
    role: MemberRole | None,
    pagination: PaginationParams,
    descending: bool,
) -> tuple[list[MemberRow], int]:
    """One page of the customer's live members, by creation time then id, and their count."""
    parameters: dict[str, Any] = {
        **tenant_parameters(organization_ids),
        "customer_id": customer_id,
    }
    if role is not None:
        parameters["role"] = role
    [(total,)] = await connection.fetch(_COUNTS[role is not None], **parameters)
    if pagination.offset > MAX_OFFSET:
        return [], int(total)
    rows = await connection.fetch_mappings(
        _PAGES[role is not None, descending],
        **parameters,
        limit=pagination.limit,
        offset=pagination.offset,
    )
    return cast(list[MemberRow], rows), int(total)
