"""Every customer rule that needs the database. Services flush; the request commits."""

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.benefits import repository as benefits_repository
from polar_customers.customers import repository
from polar_customers.customers.schemas import Customer as CustomerSchema
from polar_customers.customers.schemas import (
    CustomerCreate,
    CustomerUpdate,
    CustomerUpdateExternalID,
)
from polar_customers.errors import (
    PolarRequestValidationError,
    ResourceNotFound,
    ValidationErrorItem,
)
from polar_customers.kit.integrity import violated_constraint
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.time import utc_now
from polar_customers.models import Customer
from polar_customers.models.customer import EMAIL_UNIQUE_INDEX, EXTERNAL_ID_UNIQUE_CONSTRAINT
from polar_customers.subscriptions import repository as subscriptions_repository

_Found = TypeVar("_Found")

EMAIL_TAKEN = "A customer with this email address already exists."
EXTERNAL_ID_TAKEN = "A customer with this external ID already exists."
EXTERNAL_ID_IMMUTABLE = "Customer external ID cannot be updated."
EXTERNAL_ID_AMBIGUOUS = (
    "Several customers of your organizations have this external ID. "
    "Use an organization token, or the customer ID."
)


def _error(field: str, msg: str, value: Any, *, kind: str = "value_error") -> ValidationErrorItem:
    return {"type": kind, "loc": ("body", field), "msg": msg, "input": value}


async def list_customers(
    session: AsyncSession,
    principal: Principal,
    *,
    organization_ids: Sequence[uuid.UUID] | None,
    email: str | None,
    query: str | None,
    metadata: dict[str, list[str]],
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[Sequence[Customer], int]:
    statement = repository.filter_list(
        repository.visible(principal.organization_ids),
        dialect=session.get_bind().dialect.name,
        organization_ids=organization_ids,
        email=email,
        query=query,
        metadata=metadata,
    )
    return await repository.paginate(session, statement, pagination=pagination, sorting=sorting)


async def lock_customer(session: AsyncSession, principal: Principal, *, id: uuid.UUID) -> Customer:
    """The visible customer with this id, locked until the request ends (for writes)."""
    customer = await repository.lock_by_id(session, principal.organization_ids, id)
    if customer is None:
        raise ResourceNotFound()
    return customer


async def lock_customer_by_external_id(
    session: AsyncSession, principal: Principal, *, external_id: str
) -> Customer:
    """The visible customer with this external id, locked (for writes); 422 when a user's
    organizations hold two."""
    customers = await repository.lock_by_external_id(
        session, principal.organization_ids, external_id
    )
    return _only(customers, external_id=external_id)


async def find_customer(
    connection: RawConnection, principal: Principal, *, id: uuid.UUID
) -> dict[str, Any]:
    """The visible customer with this id, as column values, without the ORM (for reads)."""
    row = await repository.read_by_id(connection, principal.organization_ids, id)
    if row is None:
        raise ResourceNotFound()
    return row


async def find_customer_by_external_id(
    connection: RawConnection, principal: Principal, *, external_id: str
) -> dict[str, Any]:
    """The visible customer with this external id, as column values, without the ORM (for
    reads); 422 when a user's organizations hold two."""
    rows = await repository.read_by_external_id(connection, principal.organization_ids, external_id)
    return _only(rows, external_id=external_id)


async def read_customer(
    connection: RawConnection, principal: Principal, *, id: uuid.UUID
) -> CustomerSchema:
    """The visible customer with this id, as its read schema."""
    return CustomerSchema.model_validate(await find_customer(connection, principal, id=id))


async def read_customer_by_external_id(
    connection: RawConnection, principal: Principal, *, external_id: str
) -> CustomerSchema:
    """The visible customer with this external id, as its read schema."""
    row = await find_customer_by_external_id(connection, principal, external_id=external_id)
    return CustomerSchema.model_validate(row)


def _only(found: Sequence[_Found], *, external_id: str) -> _Found:
    if not found:
        raise ResourceNotFound()
    if len(found) > 1:
        raise PolarRequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("path", "external_id"),
                    "msg": EXTERNAL_ID_AMBIGUOUS,
                    "input": external_id,
                }
            ]
        )
    return found[0]


def _resolve_organization_id(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    if principal.is_organization:
        if requested is not None:
            msg = "Setting organization_id is disallowed when using an organization token."
            raise PolarRequestValidationError(
                [_error("organization_id", msg, str(requested), kind="organization_token")]
            )
        return principal.organization_ids[0]
    if requested is None:
        raise PolarRequestValidationError(
            [_error("organization_id", "organization_id is required.", None, kind="missing")]
        )
    if requested not in principal.organization_ids:
        raise PolarRequestValidationError(
            [_error("organization_id", "Organization not found.", str(requested))]
        )
    return requested


async def create_customer(
    session: AsyncSession, principal: Principal, *, create: CustomerCreate
) -> Customer:
    organization_id = _resolve_organization_id(principal, create.organization_id)
    errors: list[ValidationErrorItem] = []
    if await repository.email_taken(session, organization_id, create.email):
        errors.append(_error("email", EMAIL_TAKEN, create.email))
    if create.external_id is not None and await repository.external_id_taken(
        session, organization_id, create.external_id
    ):
        errors.append(_error("external_id", EXTERNAL_ID_TAKEN, create.external_id))
    if errors:
        raise PolarRequestValidationError(errors)
    customer = Customer(
        organization_id=organization_id,
        email=create.email,
        external_id=create.external_id,
        name=create.name,
        billing_address=_dump_address(create),
        tax_id=_dump_tax_id(create),
        user_metadata=create.metadata,
        email_verified=False,
    )
    session.add(customer)
    await _flush(session, customer)
    return customer


def _dump_address(data: CustomerCreate | CustomerUpdateExternalID) -> dict[str, Any] | None:
    address = data.billing_address
    return None if address is None else address.model_dump(mode="json")


def _dump_tax_id(data: CustomerCreate | CustomerUpdateExternalID) -> list[str] | None:
    return None if data.tax_id is None else [data.tax_id[0], str(data.tax_id[1])]


async def _flush(session: AsyncSession, customer: Customer) -> None:
    """Flush, turning a unique violation lost to a concurrent request into the usual 422."""
    # Read before flushing: after a failed flush the row's attributes are expired.
    email, external_id = customer.email, customer.external_id
    try:
        await session.flush()
    except IntegrityError as error:
        constraint = violated_constraint(error, Customer.__table__)  # type: ignore[arg-type]
        if constraint == EMAIL_UNIQUE_INDEX:
            raise PolarRequestValidationError([_error("email", EMAIL_TAKEN, email)]) from error
        if constraint == EXTERNAL_ID_UNIQUE_CONSTRAINT:
            raise PolarRequestValidationError(
                [_error("external_id", EXTERNAL_ID_TAKEN, external_id)]
            ) from error
        raise


async def _update_errors(
    session: AsyncSession, customer: Customer, update: CustomerUpdateExternalID
) -> list[ValidationErrorItem]:
    errors: list[ValidationErrorItem] = []
    fields = update.model_fields_set
    if (
        "email" in fields
        and update.email.lower() != customer.email.lower()
        and await repository.email_taken(session, customer.organization_id, update.email)
    ):
        errors.append(_error("email", EMAIL_TAKEN, update.email))
    if isinstance(update, CustomerUpdate) and "external_id" in fields:
        new = update.external_id
        if customer.external_id is not None and new != customer.external_id:
            errors.append(_error("external_id", EXTERNAL_ID_IMMUTABLE, new))
        if (
            new is not None
            and new != customer.external_id
            and await repository.external_id_taken(session, customer.organization_id, new)
        ):
            errors.append(_error("external_id", EXTERNAL_ID_TAKEN, new))
    return errors


async def update_customer(
    session: AsyncSession, customer: Customer, *, update: CustomerUpdateExternalID
) -> Customer:
    """Write every field present in `update`; absent fields are left unchanged."""
    errors = await _update_errors(session, customer, update)
    if errors:
        raise PolarRequestValidationError(errors)
    fields = update.model_fields_set
    if "email" in fields:
        if update.email.lower() != customer.email.lower():
            customer.email_verified = False
        customer.email = update.email
    if "metadata" in fields:
        customer.user_metadata = update.metadata
    if "name" in fields:
        customer.name = update.name
    if "billing_address" in fields:
        customer.billing_address = _dump_address(update)
    if "tax_id" in fields:
        customer.tax_id = _dump_tax_id(update)
    if isinstance(update, CustomerUpdate) and "external_id" in fields:
        customer.external_id = update.external_id
    if fields:
        customer.modified_at = utc_now()
    await _flush(session, customer)
    return customer


async def delete_customer(session: AsyncSession, customer: Customer) -> None:
    """Soft delete: keep the row for history, free its external id for re-use. Its active
    and trialing subscriptions end and its benefits are revoked at once, in the same
    transaction (decision D8)."""
    now = utc_now()
    customer.deleted_at = now
    customer.modified_at = now
    customer.external_id = None
    await session.flush()
    organization_id = customer.organization_id
    await subscriptions_repository.cancel_active(session, organization_id, customer.id, now=now)
    await benefits_repository.revoke_granted(session, organization_id, customer.id, now=now)
