"""A customer's state (active subscriptions, granted benefits, meters) and balance, computed
from the database on every request: never cached, so never stale (decision D7)."""

import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.benefits import repository as benefits_repository
from polar_customers.customers.schemas import CustomerBalance, CustomerState
from polar_customers.meters import repository as meters_repository
from polar_customers.models import BenefitType, Customer, RecordModel, SubscriptionMeter
from polar_customers.orders import repository as orders_repository
from polar_customers.organizations import repository as organizations_repository
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


def _columns(row: RecordModel) -> dict[str, Any]:
    """The row's column values by attribute name, to validate a schema from with extra keys."""
    return {attribute.key: attribute.value for attribute in inspect(row).attrs}


def grant_properties(benefit_type: str, properties: Any) -> dict[str, Any]:
    """The stored properties of a grant as the state shows them for its benefit type."""
    if not isinstance(properties, Mapping):
        return {}
    keys = GRANT_PROPERTY_KEYS.get(benefit_type, ())
    return {key: properties[key] for key in keys if key in properties}


async def _active_subscriptions(session: AsyncSession, customer: Customer) -> list[dict[str, Any]]:
    rows = await subscriptions_repository.list_active(
        session, customer.organization_id, customer.id
    )
    subscription_ids = [subscription.id for subscription, _ in rows]
    meters = await subscriptions_repository.list_meters(
        session, customer.organization_id, subscription_ids
    )
    meters_of: defaultdict[uuid.UUID, list[SubscriptionMeter]] = defaultdict(list)
    for meter in meters:
        meters_of[meter.subscription_id].append(meter)
    return [
        {**_columns(subscription), "price_id": price_id, "meters": meters_of[subscription.id]}
        for subscription, price_id in rows
    ]


async def _granted_benefits(session: AsyncSession, customer: Customer) -> list[dict[str, Any]]:
    rows = await benefits_repository.list_granted(session, customer.organization_id, customer.id)
    return [
        {
            **_columns(grant),
            "benefit_type": benefit_type,
            "benefit_metadata": benefit_metadata,
            "properties": grant_properties(benefit_type, grant.properties),
        }
        for grant, benefit_type, benefit_metadata in rows
    ]


async def get_customer_state(session: AsyncSession, customer: Customer) -> CustomerState:
    """The customer with its active subscriptions, granted benefits and meters."""
    subscriptions = await _active_subscriptions(session, customer)
    grants = await _granted_benefits(session, customer)
    meters = await meters_repository.list_customer_meters(
        session, customer.organization_id, customer.id
    )
    return CustomerState.model_validate(
        {
            **_columns(customer),
            "active_subscriptions": subscriptions,
            "granted_benefits": grants,
            "active_meters": meters,
        }
    )


async def get_customer_balance(session: AsyncSession, customer: Customer) -> CustomerBalance:
    """What the customer is owed (positive) or owes (negative), in cents of the organization's
    default currency; amounts in other currencies are left out (decision D9)."""
    currency = await organizations_repository.get_default_currency(
        session, customer.organization_id
    )
    sums = await orders_repository.balance_sums(
        session, customer.organization_id, customer.id, currency=currency
    )
    # Contract section 8: paid - (orders net of refunds) - refunds, i.e. paid - order totals.
    balance = sums.paid - sums.orders - sums.refunded
    return CustomerBalance(balance=balance, currency=currency.upper())
