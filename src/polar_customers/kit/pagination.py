"""Page-number pagination: query parameters and the `ListResource` envelope."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

MAX_LIMIT = 100
# Past any real table; larger offsets overflow the databases' integers (docs/decisions.md#d16).
MAX_OFFSET = 2**62
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PaginationParams:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def get_pagination_params(
    page: int = Query(1, description="Page number, defaults to 1.", gt=0),
    limit: int = Query(10, description="Size of a page, defaults to 10. Maximum is 100.", gt=0),
) -> PaginationParams:
    return PaginationParams(page, min(limit, MAX_LIMIT))


PaginationParamsQuery = Annotated[PaginationParams, Depends(get_pagination_params)]


class Pagination(BaseModel):
    total_count: int
    max_page: int


class ListResource(BaseModel, Generic[T]):
    items: list[T]
    pagination: Pagination

    @classmethod
    def of(cls, items: list[T], *, total_count: int, limit: int) -> "ListResource[T]":
        max_page = math.ceil(total_count / limit)
        return cls(items=items, pagination=Pagination(total_count=total_count, max_page=max_page))


async def paginate_rows(
    session: AsyncSession,
    statement: Select[Any],
    parameters: Mapping[str, Any],
    *,
    pagination: PaginationParams,
    order: Sequence[Any],
) -> tuple[list[dict[str, Any]], int]:
    """One page of `statement` in `order` (as mappings) and the total count of its rows,
    counted only when the page cannot tell it (a full page, or one past the end)."""
    count = select(func.count()).select_from(statement.order_by(None).subquery())
    if pagination.offset > MAX_OFFSET:
        return [], int(await session.scalar(count, parameters) or 0)
    page = statement.order_by(*order).limit(pagination.limit).offset(pagination.offset)
    items = [dict(row) for row in (await session.execute(page, parameters)).mappings()]
    if 0 < len(items) < pagination.limit or (pagination.page == 1 and not items):
        return items, pagination.offset + len(items)
    return items, int(await session.scalar(count, parameters) or 0)
