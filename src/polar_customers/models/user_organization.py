import uuid

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel


class UserOrganization(RecordModel):
    """Membership of a user in an organization; soft-deleted when it ends."""

    __tablename__ = "user_organizations"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="cascade"))
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="cascade"), index=True
    )
