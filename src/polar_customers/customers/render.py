"""The one way customers leave the server. Every response, the export's JSON variant and
(later) webhook payloads render the read shapes of this domain here, in the response version
of the request (kit/versions.py): a new wire shape is a new entry below, not a handler change.
"""

from collections.abc import Sequence

from polar_customers.customers.repository import CustomerRow
from polar_customers.customers.schemas import Customer, CustomerBalance, CustomerState
from polar_customers.customers.state import Balance, CustomerStateRow
from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion

# One superset shape serves every version: 2025 clients ignore today's keys, today's clients
# need them (docs/decisions.md#d31).
_CUSTOMER: dict[ApiVersion, type[Customer]] = dict.fromkeys(ApiVersion, Customer)
_STATE: dict[ApiVersion, type[CustomerState]] = dict.fromkeys(ApiVersion, CustomerState)


def customer(row: CustomerRow, version: ApiVersion) -> Customer:
    return _CUSTOMER[version].model_validate(row)


def customers(rows: Sequence[CustomerRow], version: ApiVersion) -> list[Customer]:
    schema = _CUSTOMER[version]
    return [schema.model_validate(row) for row in rows]


def customer_page(
    rows: Sequence[CustomerRow], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[Customer]:
    return ListResource[Customer].of(
        customers(rows, version), total_count=total, limit=pagination.limit
    )


def customer_state(state: CustomerStateRow, version: ApiVersion) -> CustomerState:
    return _STATE[version].model_validate(state)


def customer_balance(balance: Balance, version: ApiVersion) -> CustomerBalance:
    return CustomerBalance(balance=balance.amount, currency=balance.currency)
