from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import Base


class RateLimitWindow(Base):
    """The requests one subject made in one minute, summed over the server's processes: each
    adds its own counts in batches (rate_limit/counter.py). Not tenant data: a subject is an
    organization, a user or an anonymous client address. The primary key leads with the
    window, so that purging past minutes reads its prefix."""

    __tablename__ = "rate_limit_windows"

    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String, primary_key=True)
    requests: Mapped[int]
