"""List filters that take one value or several (`?customer_id=a&customer_id=b`)."""

import uuid
from collections.abc import Sequence
from typing import Annotated, TypeVar

from fastapi import Query

from polar_customers.kit.schemas import OrganizationID

T = TypeVar("T", uuid.UUID, str)


def as_list(value: T | Sequence[T] | None) -> list[T] | None:
    """A filter's values as a list (None when the filter is absent)."""
    if value is None:
        return None
    return [value] if isinstance(value, uuid.UUID | str) else list(value)


OrganizationIDFilter = Annotated[
    OrganizationID | Sequence[OrganizationID] | None,
    Query(title="OrganizationID Filter", description="Filter by organization ID."),
]
