import uuid
from datetime import datetime

from sqlalchemy import CHAR, ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from polar_customers.models.base import RecordModel


class AccessTokenMixin:
    """What every kind of bearer token stores: its hash (never the token), scopes and life."""

    token: Mapped[str] = mapped_column(CHAR(64), unique=True)
    scope: Mapped[str] = mapped_column(String(1024))
    comment: Mapped[str] = mapped_column(String(255), default="")
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)


class OrganizationAccessToken(AccessTokenMixin, RecordModel):
    """A `polar_oat_` token: its subject is an organization."""

    __tablename__ = "organization_access_tokens"

    @declared_attr
    def organization_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
            ForeignKey("organizations.id", ondelete="cascade"), index=True, nullable=False
        )


class PersonalAccessToken(AccessTokenMixin, RecordModel):
    """A `polar_pat_` token: its subject is a user, who sees the organizations it belongs to."""

    __tablename__ = "personal_access_tokens"

    @declared_attr
    def user_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("users.id", ondelete="cascade"), index=True, nullable=False)
