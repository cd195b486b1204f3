"""The one way members leave the server, in the response version of the request."""

from collections.abc import Sequence

from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion
from polar_customers.members.repository import MemberRow
from polar_customers.members.schemas import Member


def member(row: MemberRow, version: ApiVersion) -> Member:
    return Member.model_validate(row)


def member_page(
    rows: Sequence[MemberRow], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[Member]:
    return ListResource[Member].of(
        [member(row, version) for row in rows], total_count=total, limit=pagination.limit
    )
