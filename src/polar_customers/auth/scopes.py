from enum import StrEnum


class Scope(StrEnum):
    """Permissions a token can carry, as `resource:action`; write implies read."""

    customers_read = "customers:read"
    customers_write = "customers:write"
    members_read = "members:read"
    members_write = "members:write"
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


def parse_scopes(value: str) -> frozenset[Scope]:
    """The known scopes in a space-separated list; unknown names are ignored."""
    known = {scope.value for scope in Scope}
    return frozenset(Scope(name) for name in value.split() if name in known)
