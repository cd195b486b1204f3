"""Every benefit rule that needs the database: benefits and their lists, and the grants other
domains ask for (a subscription's benefits, a deleted customer's). Services flush; the request
commits. What each type's grant does is in `strategies.py`."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal, organization_of_new
from polar_customers.benefits import repository, strategies
from polar_customers.benefits.repository import BenefitRow, GrantRow, row_of
from polar_customers.benefits.schemas import (
    SUPPORTED_TYPES,
    BenefitCustomCreate,
    BenefitCustomUpdate,
    BenefitLicenseKeysCreate,
    BenefitLicenseKeysUpdate,
    BenefitMeterCreditCreate,
    BenefitMeterCreditCreateProperties,
    BenefitMeterCreditUpdate,
    RefusedType,
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
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.models import Benefit, BenefitGrant, Subscription
from polar_customers.products import service as products_service

# The branches of the `BenefitCreate` and `BenefitUpdate` bodies.
Create = BenefitCustomCreate | BenefitLicenseKeysCreate | BenefitMeterCreditCreate | RefusedType
Update = BenefitCustomUpdate | BenefitLicenseKeysUpdate | BenefitMeterCreditUpdate | RefusedType

ONE_GRANT_PER_SUBSCRIPTION = "benefit_grants_organization_subscription_benefit_key"
TYPE_NOT_SUPPORTED = (
    "Benefit type {type!r} is not supported by this server. Supported types: "
    + ", ".join(SUPPORTED_TYPES)
    + "."
)
TYPE_UNCHANGEABLE = "Benefit type cannot be changed."
METER_NOT_FOUND = "This meter does not exist."


def _error(
    loc: tuple[str, ...], msg: str, value: Any, *, kind: str = "value_error"
) -> ValidationErrorItem:
    return {"type": kind, "loc": ("body", *loc), "msg": msg, "input": value}


# Benefits ------------------------------------------------------------------------------------


async def get(connection: RawConnection, principal: Principal, benefit_id: uuid.UUID) -> BenefitRow:
    """The visible benefit with this id (for reads); 404 when there is none."""
    row = await repository.read(connection, principal.organization_ids, benefit_id)
    if row is None:
        raise ResourceNotFound()
    return row


async def lock(session: AsyncSession, principal: Principal, benefit_id: uuid.UUID) -> Benefit:
    """Like `get`, locked until the request ends (for writes)."""
    benefit = await repository.lock(session, principal.organization_ids, benefit_id)
    if benefit is None:
        raise ResourceNotFound()
    return benefit


async def ensure_visible(
    session: AsyncSession, principal: Principal, benefit_id: uuid.UUID
) -> None:
    """404 unless the benefit is visible to the caller."""
    if not await repository.exists(session, principal.organization_ids, benefit_id):
        raise ResourceNotFound()


async def list_benefits(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    types: Sequence[str] | None,
    query: str | None,
    metadata: dict[str, list[str]],
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[BenefitRow], int]:
    """A page of the visible benefits matching the filters, and how many match in all."""
    statement = repository.list_statement(
        dialect=session.get_bind().dialect.name, types=types, query=query, metadata=metadata
    )
    return await repository.page(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )


def refuse_type(benefit_type: str) -> PolarRequestValidationError:
    """The one error of a body whose type this server does not create."""
    msg = TYPE_NOT_SUPPORTED.format(type=benefit_type)
    return PolarRequestValidationError([_error(("type",), msg, benefit_type)])


async def _stored_properties(
    session: AsyncSession, organization_id: uuid.UUID, properties: Any
) -> dict[str, Any]:
    """A type's validated properties as stored; a meter credit's meter must be one of the
    organization's live meters."""
    if isinstance(properties, BenefitMeterCreditCreateProperties) and not (
        await repository.meter_exists(session, organization_id, properties.meter_id)
    ):
        error = _error(("properties", "meter_id"), METER_NOT_FOUND, str(properties.meter_id))
        raise PolarRequestValidationError([error])
    stored: dict[str, Any] = properties.model_dump(mode="json")
    return stored


async def create_benefit(
    session: AsyncSession, principal: Principal, *, create: Create
) -> BenefitRow:
    """A new benefit of a supported type, in the caller's organization (or the one named)."""
    if isinstance(create, RefusedType):
        raise refuse_type(create.type)
    organization_id = organization_of_new(principal, create.organization_id)[0]
    benefit = Benefit(
        id=uuid.uuid4(),
        organization_id=organization_id,
        type=create.type,
        description=create.description,
        properties=await _stored_properties(session, organization_id, create.properties),
        user_metadata=create.metadata,
    )
    session.add(benefit)
    await session.flush()
    return row_of(benefit)


async def update_benefit(
    session: AsyncSession,
    benefit: Benefit,
    *,
    update: Update,
    now: datetime,
) -> BenefitRow:
    """Write the fields present and not null; the type must be the benefit's. New license key
    settings apply to the keys already issued."""
    if isinstance(update, RefusedType):
        raise refuse_type(update.type)
    if update.type != benefit.type:
        raise PolarRequestValidationError([_error(("type",), TYPE_UNCHANGEABLE, update.type)])
    previous = dict(benefit.properties)
    changes: dict[str, Any] = {}
    if "metadata" in update.model_fields_set:
        changes["user_metadata"] = update.metadata
    if update.description is not None:
        changes["description"] = update.description
    if update.properties is not None:
        organization_id = benefit.organization_id
        changes["properties"] = await _stored_properties(
            session, organization_id, update.properties
        )
    for name, value in changes.items():
        setattr(benefit, name, value)
    if changes:
        benefit.modified_at = now
    await session.flush()
    await strategies.benefit_updated(session, benefit, previous, now=now)
    return row_of(benefit)


async def delete_benefit(session: AsyncSession, benefit: Benefit, *, now: datetime) -> BenefitRow:
    """Soft delete: the benefit's live grants are revoked (their keys revoked, their credit
    taken back) and it leaves every product, in the same transaction."""
    benefit.deleted_at = benefit.modified_at = now
    grants = await repository.lock_granted_of_benefit(session, benefit.organization_id, benefit.id)
    await _revoke(session, benefit.organization_id, grants, now=now)
    await products_service.detach_benefit(
        session, organization_id=benefit.organization_id, benefit_id=benefit.id
    )
    return row_of(benefit)


# Grant lists ---------------------------------------------------------------------------------


async def list_grants(
    session: AsyncSession,
    organization_ids: OrganizationIds,
    *,
    benefit_id: uuid.UUID | None = None,
    customer_ids: Sequence[uuid.UUID] | None,
    is_granted: bool | None,
    pagination: PaginationParams,
    sorting: Sequence[SortCriterion],
) -> tuple[list[GrantRow], int]:
    """A page of the visible grants (of one benefit, or all) matching the filters, each with
    its customer and benefit, and how many match in all."""
    statement = repository.grants_statement(
        benefit_id=benefit_id, customer_ids=customer_ids, is_granted=is_granted
    )
    return await repository.grant_page(
        session, organization_ids, statement, pagination=pagination, sorting=sorting
    )


# Grants of subscriptions and customers --------------------------------------------------------


async def _subscription_grant(
    session: AsyncSession, subscription: Subscription, benefit_id: uuid.UUID
) -> BenefitGrant:
    """The subscription's live grant of the benefit, locked; a new one (not granted yet) when
    there is none. Of two requests that create it at once, the second finds the first's, once
    it committed: the unique index makes it wait, then fail, and it reads the winner."""
    organization_id = subscription.organization_id
    found = await repository.lock_subscription_grants(
        session, organization_id, subscription.id, [benefit_id]
    )
    if found:
        return found[0]
    grant = BenefitGrant(
        id=uuid.uuid4(),
        organization_id=organization_id,
        customer_id=subscription.customer_id,
        benefit_id=benefit_id,
        subscription_id=subscription.id,
        properties={},
    )
    try:
        async with session.begin_nested():
            session.add(grant)
            await session.flush()
    except IntegrityError as error:
        if (
            violated_constraint(error, cast(Table, BenefitGrant.__table__))
            != ONE_GRANT_PER_SUBSCRIPTION
        ):
            raise
        [winner] = await repository.lock_subscription_grants(
            session, organization_id, subscription.id, [benefit_id]
        )
        return winner
    return grant


async def grant_subscription_benefits(
    session: AsyncSession,
    *,
    subscription: Subscription,
    benefit_ids: Sequence[uuid.UUID],
    now: datetime,
) -> list[BenefitGrant]:
    """Grant the subscription's customer these benefits (the live ones); returns the grants it
    granted. Idempotent: a granted grant stays as it is, a revoked one is granted again."""
    benefits = await repository.benefits_by_id(
        session, subscription.organization_id, list(benefit_ids)
    )
    granted: list[BenefitGrant] = []
    for benefit_id in dict.fromkeys(benefit_ids):
        benefit = benefits.get(benefit_id)
        if benefit is None:
            continue  # deleted since: there is nothing to grant
        grant = await _subscription_grant(session, subscription, benefit_id)
        if grant.granted_at is not None:
            continue
        await strategies.grant(session, benefit, grant, now=now)
        grant.granted_at = grant.modified_at = now
        grant.revoked_at = None
        granted.append(grant)
    await session.flush()
    return granted


async def _revoke(
    session: AsyncSession,
    organization_id: uuid.UUID,
    grants: Sequence[BenefitGrant],
    *,
    now: datetime,
) -> None:
    """Revoke these granted grants at `now`, each through its type (benefits read even if
    deleted)."""
    benefit_ids = list({grant.benefit_id for grant in grants})
    benefits = await repository.benefits_by_id(session, organization_id, benefit_ids, deleted=True)
    for grant in grants:
        await strategies.revoke(session, benefits[grant.benefit_id], grant, now=now)
        grant.granted_at = None
        grant.revoked_at = grant.modified_at = now
    await session.flush()


async def revoke_subscription_benefits(
    session: AsyncSession,
    *,
    subscription: Subscription,
    benefit_ids: Sequence[uuid.UUID] | None = None,
    now: datetime,
) -> list[BenefitGrant]:
    """Revoke the subscription's granted grants of these benefits (None: all of them);
    returns the grants it revoked. Idempotent."""
    grants = await repository.lock_subscription_grants(
        session,
        subscription.organization_id,
        subscription.id,
        None if benefit_ids is None else list(benefit_ids),
    )
    revoked = [grant for grant in grants if grant.granted_at is not None]
    await _revoke(session, subscription.organization_id, revoked, now=now)
    return revoked


async def cycle_subscription_benefits(
    session: AsyncSession, *, subscription: Subscription, now: datetime
) -> None:
    """A new period of the subscription: each of its granted grants starts it (meter credits
    are credited again, see `strategies.cycle`)."""
    grants = await repository.lock_subscription_grants(
        session, subscription.organization_id, subscription.id
    )
    granted = [grant for grant in grants if grant.granted_at is not None]
    benefit_ids = list({grant.benefit_id for grant in granted})
    benefits = await repository.benefits_by_id(
        session, subscription.organization_id, benefit_ids, deleted=True
    )
    for grant in granted:
        await strategies.cycle(session, benefits[grant.benefit_id], grant, now=now)
        grant.modified_at = now
    await session.flush()


async def revoke_customer_grants(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime
) -> Sequence[BenefitGrant]:
    """Revoke every grant the customer holds at `now`; returns the grants it revoked."""
    grants = await repository.lock_granted(session, organization_id, customer_id)
    await _revoke(session, organization_id, grants, now=now)
    return grants
