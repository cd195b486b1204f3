"""The one clock of the server. Tests move it instead of sleeping: in their own process
with `moved_clock`, in a server or scheduler process they start with
`POLAR_CUSTOMERS_TEST_CLOCK_OFFSET` (seconds ahead; refused in production)."""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

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


def to_utc(moment: datetime) -> datetime:
    """`moment` in UTC. At the ends of the calendar an offset can take it past what a datetime
    holds (`0001-01-01T00:00:00+01:00` is in year 0 in UTC): a `ValueError`, which is a 422
    where input is validated, instead of the `OverflowError` of every later conversion."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            "The timestamp is outside 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z."
        ) from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(to_utc)]
"""A timestamp with its offset, as input: converted to UTC, and refused when UTC has no such
date (docs/decisions.md#d1)."""
