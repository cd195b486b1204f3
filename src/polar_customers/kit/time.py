from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, timezone-aware UTC: the one clock of the server."""
    return datetime.now(UTC)
