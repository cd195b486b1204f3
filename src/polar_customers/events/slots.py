"""How many batches a process ingests at once.

Batches of the same customers change the same running totals, so each one holds row locks
from its first count to its commit. With every request in flight at once, the holder of the
locks shares the CPU with all the batches queued behind it, its hold grows with the queue,
and throughput collapses (measured: 32 connections posting batches of 1,000 on 2 cores ran
at under a third of 4 connections' rate, and timed out on the pool). A process therefore
takes one batch at a time; the others wait for their turn before their body is read, without
a database connection (docs/decisions.md#d43). Waiting before the body is read matters too:
with every queued body parsed at once, 32,000 live event objects made the garbage collector's
passes cost more than the ingestion (11,000 against 20,000 events/s).
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

SLOTS_PER_PROCESS = 1


async def ingest_slot(request: Request) -> AsyncIterator[None]:
    """Held from before the body is read until after the batch's commit (dependencies end in
    reverse order: a route declares it before its body and its session)."""
    state = request.app.state
    slots: asyncio.Semaphore | None = getattr(state, "ingest_slots", None)
    if slots is None:
        slots = state.ingest_slots = asyncio.Semaphore(SLOTS_PER_PROCESS)
    async with slots:
        yield


IngestSlot = Annotated[None, Depends(ingest_slot, scope="function")]
