"""`sorting` query parameters: repeated property names, a leading `-` for descending."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from fastapi import Query

SORTING_DESCRIPTION = (
    "Sorting criterion. Several criteria can be used simultaneously and will be applied in "
    "order. Add a minus sign `-` before the criteria name to sort by descending order."
)


@dataclass(frozen=True, slots=True)
class SortCriterion:
    property: str
    descending: bool


def sort_enum(name: str, properties: Sequence[str]) -> type[StrEnum]:
    """An enum of each property and its `-property` descending twin."""
    values = [value for prop in properties for value in (prop, f"-{prop}")]
    return cast(type[StrEnum], StrEnum(name, {value: value for value in values}))


def sorting_dependency(
    enum: type[StrEnum], *, default: Sequence[str]
) -> Callable[..., Awaitable[list[SortCriterion]]]:
    """A dependency reading `sorting` as a list of `SortCriterion`, `default` when absent."""

    async def get_sorting(
        sorting: list[enum] | None = Query(  # type: ignore[valid-type]
            list(default), description=SORTING_DESCRIPTION
        ),
    ) -> list[SortCriterion]:
        values = [str(value) for value in (sorting or default)]
        return [SortCriterion(v.removeprefix("-"), v.startswith("-")) for v in values]

    return get_sorting
