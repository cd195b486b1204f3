"""The one clock of the server. Tests move it instead of sleeping: in their own process
with `moved_clock`, in a server or scheduler process they start with
`POLAR_CUSTOMERS_TEST_CLOCK_OFFSET` (seconds ahead; refused in production)."""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

TEST_CLOCK_OFFSET = "POLAR_CUSTOMERS_TEST_CLOCK_OFFSET"


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _process_clock() -> Callable[[], datetime]:
    offset = os.environ.get(TEST_CLOCK_OFFSET)
    if not offset:
        return _system_clock
    if os.environ.get("POLAR_CUSTOMERS_ENVIRONMENT", "").lower() == "production":
        raise RuntimeError(f"{TEST_CLOCK_OFFSET} is for tests; it is refused in production")
    ahead = timedelta(seconds=float(offset))
    return lambda: _system_clock() + ahead


_clock: Callable[[], datetime] = _process_clock()


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _clock()


@contextmanager
def moved_clock(offset: timedelta) -> Iterator[None]:
    """Within the block, the clock runs `offset` ahead of (or behind) the system clock, in
    this process."""
    global _clock
    previous = _clock
    _clock = lambda: previous() + offset  # noqa: E731
    try:
        yield
    finally:
        _clock = previous
