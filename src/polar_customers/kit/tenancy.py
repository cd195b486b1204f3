"""Tenancy: the organizations a caller may act in, and the predicate that keeps every query
of a tenant table inside them."""

import uuid
from collections.abc import Iterable
from typing import Any, NewType

from sqlalchemy import ColumnElement, and_, bindparam

OrganizationIds = NewType("OrganizationIds", tuple[uuid.UUID, ...])
"""Organizations a caller may act in, as resolved from its token. Repositories take only this
type as their tenancy scope; an organization id the client sent (a filter, a body field) is a
plain `uuid.UUID` until `narrow` or a service has checked it against these."""

TENANTS = "organization_ids"
"""The bound parameter of `live_rows`, filled by `tenant_parameters`."""


def narrow(allowed: OrganizationIds, requested: Iterable[uuid.UUID] | None) -> OrganizationIds:
    """The allowed organizations that a client's filter names (all of them without a filter),
    in the allowed order: a filter can only narrow what the token grants."""
    if requested is None:
        return allowed
    wanted = set(requested)
    return OrganizationIds(tuple(id for id in allowed if id in wanted))


def live_rows(model: Any) -> ColumnElement[bool]:
    """`model`'s rows that are not soft-deleted, in the caller's organizations: built once per
    table, bound per query with `tenant_parameters`."""
    return and_(
        model.organization_id.in_(bindparam(TENANTS, expanding=True)),
        model.deleted_at.is_(None),
    )


def tenant_parameters(organization_ids: OrganizationIds) -> dict[str, Any]:
    return {TENANTS: list(organization_ids)}
