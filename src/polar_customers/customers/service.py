"""Every customer rule that needs the database. Services flush; the request commits.

Reads give `CustomerRow`s (`get`, without the ORM); writes find the customer with `lock`,
change it, and give its row back."""

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.benefits import service as benefits_service
from polar_customers.customers import repository
from polar_customers.customers.repository import CustomerRow, Lookup, row_of
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
from polar_customers.kit.tenancy import OrganizationIds, narrow
from polar_customers.kit.time import utc_now
from polar_customers.models import Customer
from polar_customers.models.customer import EMAIL_UNIQUE_INDEX, EXTERNAL_ID_UNIQUE_CONSTRAINT
from polar_customers.subscriptions import service as subscriptions_service

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
    organization_ids: OrganizationIds,
    *,
    email: str | None,
    query: str | None,
    metadata: dict[str, list[str]],
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[CustomerRow], int]:
    """A page of the visible customers matching the filters, and how many match in all."""
    statement = repository.list_statement(
        dialect=session.get_bind().dialect.name, email=email, query=query, metadata=metadata
    )
    return await repository.paginate(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )


async def get(connection: RawConnection, principal: Principal, lookup: Lookup) -> CustomerRow:
    """The visible customer `lookup` names (for reads); 404 when there is none, 422 when a
    user's organizations hold two with its external id (docs/decisions.md#d1)."""
    rows = await repository.read(connection, principal.organization_ids, lookup)
    return _only(rows, lookup)


async def lock(session: AsyncSession, principal: Principal, lookup: Lookup) -> Customer:
    """Like `get`, locked until the request ends (for writes)."""
    customers = await repository.lock(session, principal.organization_ids, lookup)
    return _only(customers, lookup)


def _only(found: Sequence[_Found], lookup: Lookup) -> _Found:
    if not found:
        raise ResourceNotFound()
    if len(found) > 1:
        assert isinstance(lookup, repository.ByExternalId)  # ids are unique
        error: ValidationErrorItem = {
            "type": "value_error",
            "loc": ("path", "external_id"),
            "msg": EXTERNAL_ID_AMBIGUOUS,
            "input": lookup.external_id,
        }
        raise PolarRequestValidationError([error])
    return found[0]


def _organization_of_new(principal: Principal, requested: uuid.UUID | None) -> OrganizationIds:
    """The one organization a new customer goes to: the token's, or the one a personal token
    names among its own."""
    if principal.is_organization:
        if requested is not None:
            msg = "Setting organization_id is disallowed when using an organization token."
            raise PolarRequestValidationError(
                [_error("organization_id", msg, str(requested), kind="organization_token")]
            )
        return principal.organization_ids
    if requested is None:
        raise PolarRequestValidationError(
            [_error("organization_id", "organization_id is required.", None, kind="missing")]
        )
    organization_ids = narrow(principal.organization_ids, [requested])
    if not organization_ids:
        raise PolarRequestValidationError(
            [_error("organization_id", "Organization not found.", str(requested))]
        )
    return organization_ids


async def create_customer(
    session: AsyncSession, principal: Principal, *, create: CustomerCreate
) -> CustomerRow:
    organization_ids = _organization_of_new(principal, create.organization_id)
    errors: list[ValidationErrorItem] = []
    if await repository.email_taken(session, organization_ids, create.email):
        errors.append(_error("email", EMAIL_TAKEN, create.email))
    if create.external_id is not None and await repository.external_id_taken(
        session, organization_ids, create.external_id
    ):
        errors.append(_error("external_id", EXTERNAL_ID_TAKEN, create.external_id))
    if errors:
        raise PolarRequestValidationError(errors)
    customer = Customer(
        organization_id=organization_ids[0],
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
    return row_of(customer)


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
    organization_ids = OrganizationIds((customer.organization_id,))  # of a visible customer
    if (
        "email" in fields
        and update.email.lower() != customer.email.lower()
        and await repository.email_taken(session, organization_ids, update.email)
    ):
        errors.append(_error("email", EMAIL_TAKEN, update.email))
    if isinstance(update, CustomerUpdate) and "external_id" in fields:
        new = update.external_id
        if customer.external_id is not None and new != customer.external_id:
            errors.append(_error("external_id", EXTERNAL_ID_IMMUTABLE, new))
        if (
            new is not None
            and new != customer.external_id
            and await repository.external_id_taken(session, organization_ids, new)
        ):
            errors.append(_error("external_id", EXTERNAL_ID_TAKEN, new))
    return errors


async def update_customer(
    session: AsyncSession, customer: Customer, *, update: CustomerUpdateExternalID
) -> CustomerRow:
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
    return row_of(customer)


async def delete_customer(session: AsyncSession, customer: Customer) -> CustomerRow:
    """Soft delete: keep the row for history, free its external id for re-use. Its active
    and trialing subscriptions end and its benefits are revoked at once, in the same
    transaction, through the services that own them (docs/decisions.md#d8)."""
    now = utc_now()
    customer.deleted_at = now
    customer.modified_at = now
    customer.external_id = None
    await session.flush()
    organization_id = customer.organization_id
    await subscriptions_service.revoke_customer_subscriptions(
        session, organization_id, customer.id, now=now
    )
    await benefits_service.revoke_customer_grants(session, organization_id, customer.id, now=now)
    return row_of(customer)
