"""Changes to benefit grants, and the grants a customer's state lists."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.benefits import repository
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.models import BenefitGrant, BenefitType

# The keys each benefit type exposes in `properties`; others (meter_credit's bookkeeping,
# anything unknown) are dropped, and custom and meter_credit grants show `{}`.
GRANT_PROPERTY_KEYS: dict[str, tuple[str, ...]] = {
    BenefitType.discord: ("account_id", "guild_id", "role_id", "granted_account_id"),
    BenefitType.github_repository: (
        "account_id",
        "repository_owner",
        "repository_name",
        "permission",
        "granted_account_id",
    ),
    BenefitType.downloadables: ("files",),
    BenefitType.license_keys: ("license_key_id", "display_key"),
}


def grant_properties(benefit_type: str, properties: Any) -> dict[str, Any]:
    """The stored properties of a grant as the state shows them for its benefit type."""
    if not isinstance(properties, Mapping):
        return {}
    keys = GRANT_PROPERTY_KEYS.get(benefit_type, ())
    return {key: properties[key] for key in keys if key in properties}


async def revoke_customer_grants(
    session: AsyncSession, organization_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime
) -> Sequence[BenefitGrant]:
    """Revoke every grant the customer holds at `now`; returns the grants it revoked."""
    grants = await repository.lock_granted(session, organization_id, customer_id)
    for grant in grants:
        grant.granted_at = None
        grant.revoked_at = grant.modified_at = now
    await session.flush()
    return grants


async def list_customer_state(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The customer's granted benefits, with the properties their type shows, as the state's
    `CustomerStateBenefitGrant` reads them."""
    grants = await repository.list_granted(connection, organization_id, customer_id)
    return [
        {**grant, "properties": grant_properties(grant["benefit_type"], grant["properties"])}
        for grant in grants
    ]
