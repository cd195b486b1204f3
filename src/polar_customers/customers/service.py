"""Every customer rule that needs the database. Services flush; the request commits.

Reads give `CustomerRow`s (`get`, without the ORM); writes find the customer with `lock`,
change it, and give its row back."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal, organization_of_new
from polar_customers.benefits import service as benefits_service
from polar_customers.customers import repository
from polar_customers.customers.repository import CustomerRow, Lookup, row_of
from polar_customers.customers.schemas import (
    CustomerIndividualCreate,
    CustomerTeamCreate,
    CustomerUpdate,
    CustomerUpdateExternalID,
)
from polar_customers.errors import (
    AmbiguousExternalCustomerID,
    PolarRequestValidationError,
    ResourceNotFound,
    ValidationErrorItem,
)
from polar_customers.kit.anonymization import anonymized_email, anonymized_text
from polar_customers.kit.integrity import flush_unique
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.kit.time import utc_now
from polar_customers.members import service as members_service
from polar_customers.models import Customer, CustomerType
from polar_customers.models.customer import EMAIL_UNIQUE_INDEX, EXTERNAL_ID_UNIQUE_CONSTRAINT
from polar_customers.subscriptions import service as subscriptions_service

_Found = TypeVar("_Found")
_Input = CustomerIndividualCreate | CustomerTeamCreate | CustomerUpdateExternalID

EMAIL_TAKEN = "A customer with this email address already exists."
EXTERNAL_ID_TAKEN = "A customer with this external ID already exists."
EXTERNAL_ID_IMMUTABLE = "Customer external ID cannot be updated."
TYPE_UPGRADE_ONLY = "Customer type can only be upgraded from 'individual' to 'team'."
EXTERNAL_ID_AMBIGUOUS = (
    "Several customers of your organizations have this external ID. "
    "Use an organization token, or the customer ID."
)


def _error(field: str, msg: str, value: Any, *, kind: str = "value_error") -> ValidationErrorItem:
    return {"type": kind, "loc": ("body", field), "msg": msg, "input": value}


async def list_customers(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    email: str | None,
    query: str | None,
    metadata: dict[str, list[str]],
    active: bool | None = None,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[CustomerRow], int]:
    """A page of the visible customers matching the filters, and how many match in all."""
    statement = repository.list_statement(
        dialect=session.get_bind().dialect.name,
        email=email,
        query=query,
        metadata=metadata,
        active=active,
    )
    return await repository.paginate(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )


async def get(
    connection: RawConnection,
    principal: Principal,
    lookup: Lookup,
    *,
    conflict: bool = False,
    reads: repository.LookupReads = repository.READS,
) -> CustomerRow:
    """The visible customer `lookup` names (for reads); 404 when there is none. When a user's
    organizations hold two with its external id: a 422 (docs/decisions.md#d1), or with
    `conflict` the 409 that today's clients expect of the member routes. `reads` may add
    columns to the row (`repository.lookup_reads`)."""
    rows = await repository.read(connection, principal.organization_ids, lookup, reads)
    return _only(rows, lookup, conflict=conflict)


async def lock(
    session: AsyncSession, principal: Principal, lookup: Lookup, *, conflict: bool = False
) -> Customer:
    """Like `get`, locked until the request ends (for writes)."""
    customers = await repository.lock(session, principal.organization_ids, lookup)
    return _only(customers, lookup, conflict=conflict)


def _only(found: Sequence[_Found], lookup: Lookup, *, conflict: bool) -> _Found:
    if not found:
        raise ResourceNotFound()
    if len(found) > 1:
        assert isinstance(lookup, repository.ByExternalId)  # ids are unique
        if conflict:
            raise AmbiguousExternalCustomerID(lookup.external_id)
        error: ValidationErrorItem = {
            "type": "value_error",
            "loc": ("path", "external_id"),
            "msg": EXTERNAL_ID_AMBIGUOUS,
            "input": lookup.external_id,
        }
        raise PolarRequestValidationError([error])
    return found[0]


async def create_customer(
    session: AsyncSession,
    principal: Principal,
    *,
    create: CustomerIndividualCreate | CustomerTeamCreate,
) -> CustomerRow:
    """A new customer and its owner member (the one given, else made of its email and name)."""
    organization_ids = organization_of_new(principal, create.organization_id)
    errors: list[ValidationErrorItem] = []
    if create.email is not None and await repository.email_taken(
        session, organization_ids, create.email
    ):
        errors.append(_error("email", EMAIL_TAKEN, create.email))
    if create.external_id is not None and await repository.external_id_taken(
        session, organization_ids, create.external_id
    ):
        errors.append(_error("external_id", EXTERNAL_ID_TAKEN, create.external_id))
    if errors:
        raise PolarRequestValidationError(errors)
    customer = Customer(
        organization_id=organization_ids[0],
        type=create.type,
        email=create.email,
        external_id=create.external_id,
        name=create.name,
        billing_address=_dump_address(create),
        tax_id=_dump_tax_id(create),
        locale=create.locale,
        user_metadata=create.metadata,
        email_verified=False,
    )
    session.add(customer)
    await _flush(session, customer)
    owner = create.owner
    email = owner.email if owner is not None else create.email
    assert email is not None  # a team without an email has an owner with one (its schema)
    await members_service.add_owner(
        session,
        customer,
        email=email,
        name=owner.name if owner is not None and owner.name else customer.name,
        external_id=owner.external_id if owner is not None else customer.external_id,
    )
    return row_of(customer)


def _dump_address(data: _Input) -> dict[str, Any] | None:
    address = data.billing_address
    return None if address is None else address.model_dump(mode="json")


def _dump_tax_id(data: _Input) -> list[str] | None:
    return None if data.tax_id is None else [data.tax_id[0], str(data.tax_id[1])]


async def _flush(session: AsyncSession, customer: Customer) -> None:
    errors = {
        EMAIL_UNIQUE_INDEX: _error("email", EMAIL_TAKEN, customer.email),
        EXTERNAL_ID_UNIQUE_CONSTRAINT: _error(
            "external_id", EXTERNAL_ID_TAKEN, customer.external_id
        ),
    }
    await flush_unique(session, Customer.__table__, errors)


async def _update_errors(
    session: AsyncSession, customer: Customer, update: CustomerUpdateExternalID
) -> list[ValidationErrorItem]:
    errors: list[ValidationErrorItem] = []
    fields = update.model_fields_set
    organization_ids = OrganizationIds((customer.organization_id,))  # of a visible customer
    if (
        "email" in fields
        and update.email.lower() != (customer.email or "").lower()
        and await repository.email_taken(session, organization_ids, update.email)
    ):
        errors.append(_error("email", EMAIL_TAKEN, update.email))
    if not isinstance(update, CustomerUpdate):
        return errors
    if "external_id" in fields:
        new = update.external_id
        if customer.external_id is not None and new != customer.external_id:
            errors.append(_error("external_id", EXTERNAL_ID_IMMUTABLE, new))
        if (
            new is not None
            and new != customer.external_id
            and await repository.external_id_taken(session, organization_ids, new)
        ):
            errors.append(_error("external_id", EXTERNAL_ID_TAKEN, new))
    if update.type == CustomerType.individual and customer.type == CustomerType.team:
        errors.append(_error("type", TYPE_UPGRADE_ONLY, update.type))
    return errors


async def update_customer(
    session: AsyncSession, customer: Customer, *, update: CustomerUpdateExternalID
) -> CustomerRow:
    """Write every field present in `update`; absent fields are left unchanged."""
    errors = await _update_errors(session, customer, update)
    if errors:
        raise PolarRequestValidationError(errors)
    fields = update.model_fields_set
    email_changed = "email" in fields and update.email != customer.email
    if "email" in fields:
        if update.email.lower() != (customer.email or "").lower():
            customer.email_verified = False
        customer.email = update.email
    for field in ("name", "locale"):
        if field in fields:
            setattr(customer, field, getattr(update, field))
    if "metadata" in fields:
        customer.user_metadata = update.metadata
    if "billing_address" in fields:
        customer.billing_address = _dump_address(update)
    if "tax_id" in fields:
        customer.tax_id = _dump_tax_id(update)
    if isinstance(update, CustomerUpdate):
        if "external_id" in fields:
            customer.external_id = update.external_id
        if update.type is not None:  # an upgrade to a team, or no change (see above)
            customer.type = update.type
    if fields:
        customer.modified_at = utc_now()
    await _flush(session, customer)
    if email_changed:
        await members_service.follow_customer_email(session, customer)
    return row_of(customer)


async def delete_customer(
    session: AsyncSession, customer: Customer, *, anonymize: bool = False
) -> CustomerRow:
    """Soft delete: keep the row for history, free its external id for re-use. Its active
    and trialing subscriptions end, its benefits are revoked and its members removed at once,
    in the same transaction, through the services that own them (docs/decisions.md#d8).

    `anonymize` erases its personal data for good: email and names become digests of random
    bytes, the billing address is cleared; a business (a customer with a tax id) keeps its
    name, as invoices need it."""
    now = utc_now()
    customer.deleted_at = now
    customer.modified_at = now
    customer.external_id = None
    if anonymize:
        _anonymize(customer, now=now)
    await session.flush()
    organization_id = customer.organization_id
    await subscriptions_service.revoke_customer_subscriptions(
        session, organization_id, customer.id, now=now
    )
    await benefits_service.revoke_customer_grants(session, organization_id, customer.id, now=now)
    await members_service.remove_customer_members(session, customer, now=now, anonymize=anonymize)
    return row_of(customer)


def _anonymize(customer: Customer, *, now: datetime) -> None:
    if customer.email is not None:
        customer.email = anonymized_email()
    customer.email_verified = False
    if customer.tax_id is None and customer.name is not None:
        customer.name = anonymized_text()
    if customer.billing_name is not None:
        customer.billing_name = anonymized_text()
    customer.billing_address = None
    customer.user_metadata = {**customer.user_metadata, "__anonymized_at": now.isoformat()}


async def note_first_events(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    first_event_at: Mapping[uuid.UUID, datetime],
) -> None:
    """Record the time of customers' first usage events: each customer's
    `first_user_event_at` becomes the given time where it is unset or later. A fact about
    the customer's usage, not a change of the customer: `modified_at` stays."""
    if not first_event_at:
        return
    statement = (
        update(Customer)
        .where(
            Customer.organization_id == organization_id,
            Customer.id == bindparam("customer"),
            or_(
                Customer.first_user_event_at.is_(None),
                Customer.first_user_event_at > bindparam("first"),
            ),
        )
        .values(first_user_event_at=bindparam("first"), modified_at=Customer.modified_at)
    )
    connection = await session.connection()
    # In id order: concurrent batches lock the rows they change in one order.
    await connection.execute(
        statement,
        [{"customer": id, "first": at} for id, at in sorted(first_event_at.items())],
    )
