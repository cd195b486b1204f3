"""Helpers for streamed responses."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

Item = TypeVar("Item")
_END = object()


async def read_ahead(items: AsyncIterator[Item]) -> AsyncGenerator[Item, None]:
    """The items of `items`, the next one being fetched while the consumer handles the current
    one: the database produces a batch while Python formats and sends the previous one."""
    pending = asyncio.ensure_future(anext(items, _END))
    try:
        while (item := await pending) is not _END:
            pending = asyncio.ensure_future(anext(items, _END))
            yield item  # type: ignore[misc]
    finally:
        if not pending.done():
            pending.cancel()
        await asyncio.gather(pending, return_exceptions=True)
