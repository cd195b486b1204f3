"""The one way customers leave the server. Every response, the export's JSON variant and
(later) webhook payloads render the read shapes of this domain here, in the response version
of the request (kit/versions.py): a new wire shape is a new entry below, not a handler change.
"""

from collections.abc import Sequence

from polar_customers.customers.repository import CustomerRow
from polar_customers.customers.schemas import Customer, CustomerBalance
from polar_customers.customers.state import Balance, CustomerStateLists
from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion

# One superset shape serves every version: 2025 clients ignore today's keys, today's clients
# need them (docs/decisions.md#d31).
_CUSTOMER: dict[ApiVersion, type[Customer]] = dict.fromkeys(ApiVersion, Customer)


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


def _first_computed_key(schema: type[Customer]) -> bytes | None:
    computed = next(iter(schema.model_computed_fields), None)
    return None if computed is None else b',"%s":' % computed.encode()


# Where `CustomerState` puts its lists: after the customer's fields, before its computed ones.
_STATE_LISTS_BEFORE = {
    version: _first_computed_key(schema) for version, schema in _CUSTOMER.items()
}


def customer_state(row: CustomerRow, lists: CustomerStateLists, version: ApiVersion) -> bytes:
    """The customer as `customer` renders it, with the lists of `CustomerState` (written by the
    database in their response shape, customers/state.py) where that schema has them."""
    document = customer(row, version)
    customer_json = document.__pydantic_serializer__.to_json(document)
    before = _STATE_LISTS_BEFORE[version]
    # A key in a string value has its quotes escaped, and computed fields come last: the last
    # match is the field itself.
    split = customer_json.rfind(before) if before else -1
    if split < 0:
        split = len(customer_json) - 1  # before the closing brace
    return b"".join(
        (
            customer_json[:split],
            b',"active_subscriptions":',
            lists.active_subscriptions.encode(),
            b',"granted_benefits":',
            lists.granted_benefits.encode(),
            b',"active_meters":',
            lists.active_meters.encode(),
            customer_json[split:],
        )
    )


def customer_balance(balance: Balance, version: ApiVersion) -> CustomerBalance:
    return CustomerBalance(balance=balance.amount, currency=balance.currency)
