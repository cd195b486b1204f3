"""A customer's state (active subscriptions, granted benefits, meters) and balance, composed
from the domains that own them and computed on every request: never cached, so never stale
(docs/decisions.md#d7)."""

from dataclasses import dataclass
from typing import Any

from polar_customers.benefits import service as benefits_service
from polar_customers.customers.repository import CustomerRow
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.meters import repository as meters_repository
from polar_customers.orders import repository as orders_repository
from polar_customers.subscriptions import service as subscriptions_service


class CustomerStateRow(CustomerRow):
    """A customer with what its state lists, as rows of their domains."""

    active_subscriptions: list[dict[str, Any]]
    granted_benefits: list[dict[str, Any]]
    active_meters: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Balance:
    amount: int
    """In cents: positive when the customer is owed money, negative when it owes."""
    currency: str
    """Upper case (docs/decisions.md#d9)."""


async def get_customer_state(connection: RawConnection, customer: CustomerRow) -> CustomerStateRow:
    """The customer with its active subscriptions, granted benefits and meters."""
    organization_id, customer_id = customer["organization_id"], customer["id"]
    return {
        **customer,
        "active_subscriptions": await subscriptions_service.list_customer_state(
            connection, organization_id, customer_id
        ),
        "granted_benefits": await benefits_service.list_customer_state(
            connection, organization_id, customer_id
        ),
        "active_meters": await meters_repository.list_customer_meters(
            connection, organization_id, customer_id
        ),
    }


async def get_customer_balance(connection: RawConnection, customer: CustomerRow) -> Balance:
    """What the customer is owed (positive) or owes (negative), in cents of the organization's
    default currency; amounts in other currencies are left out (docs/decisions.md#d9)."""
    sums = await orders_repository.balance_sums(
        connection, customer["organization_id"], customer["id"]
    )
    # Paid, less the orders net of refunds, less the refunds: i.e. paid less order totals.
    return Balance(sums.paid - sums.orders - sums.refunded, sums.currency.upper())
