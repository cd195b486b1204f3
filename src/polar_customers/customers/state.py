"""A customer's state (active subscriptions, granted benefits, meters) and balance, composed
from the domains that own them and computed on every request: never cached, so never stale
(docs/decisions.md#d7)."""

from dataclasses import dataclass
from typing import Any, cast

from polar_customers.auth.principal import Principal
from polar_customers.benefits import repository as benefits_repository
from polar_customers.customers import repository, service
from polar_customers.customers.repository import CustomerRow, Lookup
from polar_customers.kit.raw_sql import RawConnection
from polar_customers.kit.sql_json import json_text
from polar_customers.meters import repository as meters_repository
from polar_customers.models import Customer
from polar_customers.orders import repository as orders_repository
from polar_customers.subscriptions import repository as subscriptions_repository


@dataclass(frozen=True, slots=True)
class CustomerStateLists:
    """What a customer's state lists, each a JSON array written by the database in the
    response's shape (kit/sql_json.py)."""

    active_subscriptions: str
    granted_benefits: str
    active_meters: str


# The customer's row and its lists in one statement, each list a correlated subquery.
_STATE_READS = repository.lookup_reads(
    json_text(
        subscriptions_repository.active_state_json(Customer.organization_id, Customer.id)
    ).label("active_subscriptions"),
    json_text(benefits_repository.granted_state_json(Customer.organization_id, Customer.id)).label(
        "granted_benefits"
    ),
    json_text(meters_repository.active_state_json(Customer.organization_id, Customer.id)).label(
        "active_meters"
    ),
)


@dataclass(frozen=True, slots=True)
class Balance:
    amount: int
    """In cents: positive when the customer is owed money, negative when it owes."""
    currency: str
    """Upper case (docs/decisions.md#d9)."""


async def get_customer_state(
    connection: RawConnection, principal: Principal, lookup: Lookup
) -> tuple[CustomerRow, CustomerStateLists]:
    """The visible customer `lookup` names (as `service.get` finds it) and its active
    subscriptions, granted benefits and meters."""
    row: dict[str, Any] = dict(await service.get(connection, principal, lookup, reads=_STATE_READS))
    lists = CustomerStateLists(
        row.pop("active_subscriptions"), row.pop("granted_benefits"), row.pop("active_meters")
    )
    return cast(CustomerRow, row), lists


async def get_customer_balance(connection: RawConnection, customer: CustomerRow) -> Balance:
    """What the customer is owed (positive) or owes (negative), in cents of the organization's
    default currency; amounts in other currencies are left out (docs/decisions.md#d9)."""
    sums = await orders_repository.balance_sums(
        connection, customer["organization_id"], customer["id"]
    )
    # Paid, less the orders net of refunds, less the refunds: i.e. paid less order totals.
    return Balance(sums.paid - sums.orders - sums.refunded, sums.currency.upper())
