"""Every member rule that needs the database. A customer has exactly one owner; an individual
customer has no other member; emails and external ids are unique among a customer's members
(docs/decisions.md#d33).

Writes take the customer locked by `customers.service.lock`, so that changes to one
customer's members apply one after the other."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.customers.repository import CustomerRow
from polar_customers.errors import (
    NotPermitted,
    PolarRequestValidationError,
    ResourceNotFound,
    ValidationErrorItem,
)
from polar_customers.kit.anonymization import anonymized_email, anonymized_text
from polar_customers.kit.integrity import flush_unique
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.members import repository
from polar_customers.members.repository import MemberRow, row_of
from polar_customers.members.schemas import MemberCreateFromCustomer, MemberUpdate
from polar_customers.models import Customer, CustomerType, Member, MemberRole
from polar_customers.models.member import EMAIL_UNIQUE_INDEX, EXTERNAL_ID_UNIQUE_INDEX

MEMBER_NOT_FOUND = "Member not found"
INDIVIDUAL_HAS_ONE_MEMBER = (
    "Individual customers can only have one member (the owner). Upgrade to a team customer "
    "to add more members."
)
EMAIL_TAKEN = "A member with this email already exists for this customer."
EXTERNAL_ID_TAKEN = "A member with this external ID already exists for this customer."
OWNER_EMAIL_FOLLOWS_CUSTOMER = (
    "Cannot change the email of an individual customer's owner. Update the customer's email "
    "instead."
)
EXACTLY_ONE_OWNER = "Cannot change role. Customer must have exactly one owner."
OWNER_NOT_DELETABLE = "Cannot delete the only owner. Transfer ownership first."


def _tenant(customer: Customer | CustomerRow) -> OrganizationIds:
    """The organization of a customer that a tenant-scoped lookup already found."""
    organization_id = (
        customer["organization_id"] if isinstance(customer, dict) else customer.organization_id
    )
    return OrganizationIds((organization_id,))


def _error(field: str, msg: str, value: Any) -> ValidationErrorItem:
    return {"type": "value_error", "loc": ("body", field), "msg": msg, "input": value}


async def list_members(
    connection: RawConnection,
    customer: CustomerRow,
    *,
    role: MemberRole | None,
    pagination: PaginationParams,
    descending: bool,
) -> tuple[list[MemberRow], int]:
    """A page of the customer's members, and how many it has (with this role)."""
    return await repository.page(
        connection,
        _tenant(customer),
        customer["id"],
        role=role,
        pagination=pagination,
        descending=descending,
    )


async def get(
    connection: RawConnection, customer: CustomerRow, member: uuid.UUID | str
) -> MemberRow:
    """The customer's member with this id (a UUID) or external id (a string)."""
    row = await repository.read(connection, _tenant(customer), customer["id"], member)
    if row is None:
        raise ResourceNotFound(MEMBER_NOT_FOUND)
    return row


async def lock(session: AsyncSession, customer: Customer, member: uuid.UUID | str) -> Member:
    """Like `get`, locked until the request ends (for writes)."""
    found = await repository.lock(session, _tenant(customer), customer.id, member)
    if found is None:
        raise ResourceNotFound(MEMBER_NOT_FOUND)
    return found


async def add_owner(
    session: AsyncSession,
    customer: Customer,
    *,
    email: str,
    name: str | None,
    external_id: str | None,
) -> MemberRow:
    """The owner of a new customer."""
    owner = Member(
        organization_id=customer.organization_id,
        customer_id=customer.id,
        email=email,
        name=name,
        external_id=external_id,
        role=MemberRole.owner,
    )
    session.add(owner)
    await _flush(session, owner)
    return row_of(owner)


async def create_member(
    session: AsyncSession, customer: Customer, *, create: MemberCreateFromCustomer
) -> MemberRow:
    if customer.type == CustomerType.individual:
        raise NotPermitted(INDIVIDUAL_HAS_ONE_MEMBER)
    tenant, errors = _tenant(customer), []
    if await repository.email_taken(session, tenant, customer.id, create.email):
        errors.append(_error("email", EMAIL_TAKEN, create.email))
    if create.external_id is not None and await repository.external_id_taken(
        session, tenant, customer.id, create.external_id
    ):
        errors.append(_error("external_id", EXTERNAL_ID_TAKEN, create.external_id))
    if errors:
        raise PolarRequestValidationError(errors)
    member = Member(
        organization_id=customer.organization_id,
        customer_id=customer.id,
        email=create.email,
        name=create.name,
        external_id=create.external_id,
        role=create.role,
    )
    session.add(member)
    await _flush(session, member)
    return row_of(member)


async def update_member(
    session: AsyncSession, customer: Customer, member: Member, *, update: MemberUpdate
) -> MemberRow:
    """Write the fields present and not null; making a member the owner demotes the owner
    before to billing manager."""
    if update.email is not None and update.email != member.email:
        await _check_new_email(session, customer, member, update.email)
        member.email = update.email
    if update.name is not None:
        member.name = update.name
    if update.role is not None and update.role != member.role:
        await _change_role(session, customer, member, update.role)
    await _flush(session, member)
    return row_of(member)


async def _check_new_email(
    session: AsyncSession, customer: Customer, member: Member, email: str
) -> None:
    # An individual's owner mirrors the customer's email (see `follow_customer_email`).
    if customer.type == CustomerType.individual:
        raise PolarRequestValidationError([_error("email", OWNER_EMAIL_FOLLOWS_CUSTOMER, email)])
    if email.lower() != member.email.lower() and await repository.email_taken(
        session, _tenant(customer), customer.id, email
    ):
        raise PolarRequestValidationError([_error("email", EMAIL_TAKEN, email)])


async def _change_role(
    session: AsyncSession, customer: Customer, member: Member, role: MemberRole
) -> None:
    if member.role == MemberRole.owner:
        # Ownership moves only by promoting another member.
        raise PolarRequestValidationError([_error("role", EXACTLY_ONE_OWNER, role)])
    if role == MemberRole.owner:
        for other in await repository.lock_all(session, _tenant(customer), customer.id):
            if other.role == MemberRole.owner:
                other.role = MemberRole.billing_manager
        await session.flush()  # the unique owner index sees the demotion first
    member.role = role


async def delete_member(session: AsyncSession, member: Member, *, now: datetime) -> MemberRow:
    if member.role == MemberRole.owner:
        raise PolarRequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("body",),
                    "msg": OWNER_NOT_DELETABLE,
                    "input": str(member.id),
                }
            ]
        )
    member.deleted_at = member.modified_at = now
    await session.flush()
    return row_of(member)


async def follow_customer_email(session: AsyncSession, customer: Customer) -> None:
    """An individual customer's owner takes the customer's new email."""
    if customer.type != CustomerType.individual or customer.email is None:
        return
    for member in await repository.lock_all(session, _tenant(customer), customer.id):
        if member.role == MemberRole.owner:
            member.email = customer.email
    await session.flush()


async def remove_customer_members(
    session: AsyncSession, customer: Customer, *, now: datetime, anonymize: bool
) -> Sequence[Member]:
    """Delete the members of a deleted customer (its owner too), erasing their personal data
    when the customer's is; returns the members removed."""
    members = await repository.lock_all(session, _tenant(customer), customer.id)
    for member in members:
        member.deleted_at = member.modified_at = now
        if anonymize:
            member.email = anonymized_email()
            member.name = None if member.name is None else anonymized_text()
            member.external_id = None
    await session.flush()
    return members


async def _flush(session: AsyncSession, member: Member) -> None:
    errors = {
        EMAIL_UNIQUE_INDEX: _error("email", EMAIL_TAKEN, member.email),
        EXTERNAL_ID_UNIQUE_INDEX: _error("external_id", EXTERNAL_ID_TAKEN, member.external_id),
    }
    await flush_unique(session, Member.__table__, errors)
