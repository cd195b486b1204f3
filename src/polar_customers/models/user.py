from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel


class User(RecordModel):
    """A person who may belong to organizations and hold personal access tokens."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
