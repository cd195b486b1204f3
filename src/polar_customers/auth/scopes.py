from enum import StrEnum


class Scope(StrEnum):
    """Permissions a token can carry, as `resource:action`; write implies read."""

    customers_read = "customers:read"
    customers_write = "customers:write"
    members_read = "members:read"
    members_write = "members:write"
    products_read = "products:read"
    products_write = "products:write"
    benefits_read = "benefits:read"
    benefits_write = "benefits:write"
    subscriptions_read = "subscriptions:read"
    subscriptions_write = "subscriptions:write"
    meters_read = "meters:read"
    meters_write = "meters:write"
    events_read = "events:read"
    events_write = "events:write"
    customer_meters_read = "customer_meters:read"
    orders_read = "orders:read"
    orders_write = "orders:write"
    organizations_read = "organizations:read"
    organizations_write = "organizations:write"
    # Reserved for dashboard sessions: accepted by the API, never granted to a token.
    web_read = "web:read"
    web_write = "web:write"


RESERVED_SCOPES = frozenset({Scope.web_read, Scope.web_write})
GRANTABLE_SCOPES = tuple(scope for scope in Scope if scope not in RESERVED_SCOPES)

CUSTOMERS_READ = (Scope.customers_read, Scope.customers_write, Scope.web_read, Scope.web_write)
CUSTOMERS_WRITE = (Scope.customers_write, Scope.web_write)
MEMBERS_READ = (Scope.members_read, Scope.members_write, Scope.web_read, Scope.web_write)
MEMBERS_WRITE = (Scope.members_write, Scope.web_write)
PRODUCTS_READ = (Scope.products_read, Scope.products_write, Scope.web_read, Scope.web_write)
PRODUCTS_WRITE = (Scope.products_write, Scope.web_write)
BENEFITS_READ = (Scope.benefits_read, Scope.benefits_write, Scope.web_read, Scope.web_write)
BENEFITS_WRITE = (Scope.benefits_write, Scope.web_write)
SUBSCRIPTIONS_READ = (
    Scope.subscriptions_read,
    Scope.subscriptions_write,
    Scope.web_read,
    Scope.web_write,
)
SUBSCRIPTIONS_WRITE = (Scope.subscriptions_write, Scope.web_write)
METERS_READ = (Scope.meters_read, Scope.meters_write, Scope.web_read, Scope.web_write)
METERS_WRITE = (Scope.meters_write, Scope.web_write)
EVENTS_READ = (Scope.events_read, Scope.events_write, Scope.web_read, Scope.web_write)
EVENTS_WRITE = (Scope.events_write, Scope.web_write)
CUSTOMER_METERS_READ = (Scope.customer_meters_read, Scope.web_read, Scope.web_write)
# Polar lists only orders:read on the order reads, orders:write on update.
ORDERS_READ = (Scope.orders_read, Scope.orders_write, Scope.web_read, Scope.web_write)
ORDERS_WRITE = (Scope.orders_write, Scope.web_write)


def parse_scopes(value: str) -> frozenset[Scope]:
    """The known scopes in a space-separated list; unknown names are ignored."""
    known = {scope.value for scope in Scope}
    return frozenset(Scope(name) for name in value.split() if name in known)
