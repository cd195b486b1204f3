"""A customer's state (active subscriptions, granted benefits, meters) and balance, computed
from the database on every request: never cached, so never stale (decision D7)."""

import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from polar_customers.benefits import repository as benefits_repository
from polar_customers.customers.schemas import CustomerBalance, CustomerState
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.meters import repository as meters_repository
from polar_customers.models import BenefitType
from polar_customers.orders import repository as orders_repository
from polar_customers.subscriptions import repository as subscriptions_repository

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


async def _active_subscriptions(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    subscriptions = await subscriptions_repository.list_active(
        connection, organization_id, customer_id
    )
    meters = await subscriptions_repository.list_active_meters(
        connection, organization_id, customer_id
    )
    meters_of: defaultdict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for meter in meters:
        meters_of[meter["subscription_id"]].append(meter)
    return [{**row, "meters": meters_of[row["id"]]} for row in subscriptions]


async def _granted_benefits(
    connection: RawConnection, organization_id: uuid.UUID, customer_id: uuid.UUID
) -> list[dict[str, Any]]:
    grants = await benefits_repository.list_granted(connection, organization_id, customer_id)
    return [
        {**grant, "properties": grant_properties(grant["benefit_type"], grant["properties"])}
        for grant in grants
    ]


async def get_customer_state(connection: RawConnection, customer: dict[str, Any]) -> CustomerState:
    """The customer (column values, as `customers.service.find_customer` gives them) with its
    active subscriptions, granted benefits and meters."""
    organization_id, customer_id = customer["organization_id"], customer["id"]
    return CustomerState.model_validate(
        {
            **customer,
            "active_subscriptions": await _active_subscriptions(
                connection, organization_id, customer_id
            ),
            "granted_benefits": await _granted_benefits(connection, organization_id, customer_id),
            "active_meters": await meters_repository.list_customer_meters(
                connection, organization_id, customer_id
            ),
        }
    )


async def get_customer_balance(
    connection: RawConnection, customer: dict[str, Any]
) -> CustomerBalance:
    """What the customer is owed (positive) or owes (negative), in cents of the organization's
    default currency; amounts in other currencies are left out (decision D9)."""
    sums = await orders_repository.balance_sums(
        connection, customer["organization_id"], customer["id"]
    )
    # Contract section 8: paid - (orders net of refunds) - refunds, i.e. paid - order totals.
    balance = sums.paid - sums.orders - sums.refunded
    return CustomerBalance(balance=balance, currency=sums.currency.upper())
