"""Helpers shared by the concurrent-request test modules."""

import asyncio
from collections.abc import Awaitable

import httpx


async def gather_responses(*requests: Awaitable[httpx.Response]) -> list[httpx.Response]:
    """Run requests together; a dropped connection fails the test with the others' statuses."""
    results = await asyncio.gather(*requests, return_exceptions=True)
    responses = [result for result in results if isinstance(result, httpx.Response)]
    errors = [result for result in results if not isinstance(result, httpx.Response)]
    assert not errors, (
        f"{len(errors)} requests got no response ({errors[0]!r}); the others got "
        f"{sorted(response.status_code for response in responses)}; see the server log"
    )
    return responses
