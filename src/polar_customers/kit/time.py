"""The one clock of the server. Tests move it (`moved_clock`) instead of sleeping; nothing
else sets it."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


def _system_clock() -> datetime:
    return datetime.now(UTC)


_clock: Callable[[], datetime] = _system_clock


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
