"""Requests per subject in fixed one-minute windows, counted in each process and shared
through the database in batches (docs/decisions.md#d47).

A request is decided from memory alone: the subject's total in the database as this process
last read it, plus what this process counted since. A background task adds the process's
counts to the database's totals (one short transaction on a connection of its own) every
sync interval, or as soon as a subject's unsynced count reaches a twentieth of its limit, and
keeps the totals it reads back. A process does not see what the others counted since its
last sync: with N processes a subject gets past its limit by at most N times what one
process counts for it without sharing, that is a twentieth of the limit (plus what arrives
during one sync's round trip), or its requests in one sync interval when those are fewer.
"""

import asyncio
import contextlib
import logging
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.kit.time import utc_now
from polar_customers.rate_limit import repository

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
EARLY_SYNC_DIVISOR = 20
"""A subject's unsynced count that wakes the sync early: its limit divided by this."""
CLOSE_TIMEOUT_S = 5.0

Subject = tuple[str, Hashable]
"""(kind, identity): ("organization", id), ("user", id) or ("address", host)."""


@dataclass(frozen=True, slots=True)
class Quota:
    """Requests a subject may make per window, and its unsynced count that wakes the sync."""

    limit: int
    early_sync: int

    @classmethod
    def per_minute(cls, limit: int) -> "Quota":
        return cls(limit, max(1, limit // EARLY_SYNC_DIVISOR))


def subject_name(subject: Subject) -> str:
    """How the database names a subject: `organization:<id>`, `user:<id>`, `address:<host>`."""
    kind, identity = subject
    return f"{kind}:{identity}"


class RateLimiter:
    """The counts of one process. `admit` runs on every request and never waits; `sync` runs
    in a task of its own, started with the first window, stopped by `close`."""

    def __init__(self, settings: Settings) -> None:
        self.subject_quota = Quota.per_minute(settings.rate_limit_per_minute)
        self.anonymous_quota = Quota.per_minute(settings.rate_limit_anonymous_per_minute)
        self._settings = settings
        self._interval = settings.rate_limit_sync_interval_ms / 1000
        self._window_start = self._window_end = 0.0  # seconds since the epoch
        self._unsynced: dict[Subject, int] = {}
        self._synced: dict[Subject, int] = {}  # the database's totals as last read
        self._purged_before = 0.0
        self._engine: AsyncEngine | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._sync_lock = asyncio.Lock()
        self._stopping = False
        self._failing = False

    def admit(self, subject: Subject, quota: Quota) -> int | None:
        """Counts a request of `subject` and returns None; or, when the subject is at its
        limit, returns the seconds until its window ends (the request is not counted)."""
        now = utc_now().timestamp()
        if not self._window_start <= now < self._window_end:
            self._open_window(now)
        unsynced = self._unsynced.get(subject, 0)
        if self._synced.get(subject, 0) + unsynced >= quota.limit:
            return math.ceil(self._window_end - now)
        self._unsynced[subject] = unsynced + 1
        if unsynced + 1 >= quota.early_sync:
            self._wake.set()
        return None

    def _open_window(self, now: float) -> None:
        self._window_start = now - now % WINDOW_SECONDS
        self._window_end = self._window_start + WINDOW_SECONDS
        # A past window's counts decide nothing any more: unsynced ones are dropped.
        self._unsynced, self._synced = {}, {}
        if self._task is None and not self._stopping:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            await self.sync()

    async def sync(self) -> None:
        """Adds this process's unsynced counts to the database's totals and keeps the totals;
        purges past windows once per window. On failure the counts wait for the next sync,
        and requests go on being decided from this process's counts."""
        async with self._sync_lock:  # two syncs at once would add the same counts twice
            window_start, counts = self._window_start, dict(self._unsynced)
            purge = self._purged_before < window_start
            if not counts and not purge:
                return
            try:
                totals = await self._store(window_start, counts) if counts else {}
            except Exception:
                self._sync_failed()
                return
            if self._failing:
                logger.warning("rate limit: syncing with the database works again")
                self._failing = False
            if window_start == self._window_start:
                self._confirm(counts, totals)
            if purge:
                try:
                    await self._purge(window_start)
                except Exception:
                    self._sync_failed()

    def _confirm(self, counts: Mapping[Subject, int], totals: Mapping[Subject, int]) -> None:
        # The stored counts move from unsynced to the totals in one step: a request never sees
        # them twice, nor misses them while the sync waits on the database.
        for subject, count in counts.items():
            left = self._unsynced.get(subject, 0) - count
            if left > 0:
                self._unsynced[subject] = left
            else:
                self._unsynced.pop(subject, None)
        self._synced.update(totals)

    async def _store(
        self, window_start: float, counts: Mapping[Subject, int]
    ) -> dict[Subject, int]:
        subjects = {subject_name(subject): subject for subject in counts}
        named = {name: counts[subject] for name, subject in subjects.items()}
        async with self._connect().begin() as connection:
            totals = await repository.add_counts(
                connection, window_start=datetime.fromtimestamp(window_start, UTC), counts=named
            )
        return {subjects[name]: total for name, total in totals.items()}

    async def _purge(self, window_start: float) -> None:
        # The window before this one stays: a process whose clock runs a little behind may
        # still count in it. Apart from the counts' transaction, so that a failure here never
        # makes them count twice.
        before = datetime.fromtimestamp(window_start - WINDOW_SECONDS, UTC)
        async with self._connect().begin() as connection:
            await repository.purge(connection, before=before)
        self._purged_before = window_start

    def _connect(self) -> AsyncEngine:
        if self._engine is None:
            # Its own connection: a sync never waits for, nor holds, one that requests use.
            self._engine = create_engine(self._settings, immediate=True)
        return self._engine

    def _sync_failed(self) -> None:
        if not self._failing:
            logger.warning(
                "rate limit: syncing with the database failed; each process counts on its own "
                "until it works again",
                exc_info=True,
            )
            self._failing = True

    async def close(self) -> None:
        """Stops the sync task after a last sync (given a few seconds at most) and closes the
        connection."""
        self._stopping = True
        self._wake.set()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                if self._task is not None:
                    await self._task
                await self.sync()  # what was counted while the task's last sync ran
        except TimeoutError:
            logger.warning("rate limit: the last sync did not finish; its counts are lost")
        if self._engine is not None:
            await self._engine.dispose()
