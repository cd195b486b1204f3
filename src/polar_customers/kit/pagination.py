"""Page-number pagination: query parameters and the `ListResource` envelope."""

import math
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

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
