import uuid
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.models.base import RecordModel, TenantMixin, one_of, tenant_index

EMAIL_UNIQUE_INDEX = "members_customer_id_lower_email_key"
EXTERNAL_ID_UNIQUE_INDEX = "members_customer_id_external_id_key"
OWNER_UNIQUE_INDEX = "members_customer_id_owner_key"
_LIVE = text("deleted_at IS NULL")


class MemberRole(StrEnum):
    owner = "owner"
    billing_manager = "billing_manager"
    member = "member"


class Member(TenantMixin, RecordModel):
    """A person acting for a customer: its one owner, and for team customers more members."""

    __tablename__ = "members"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String, default=None)
    external_id: Mapped[str | None] = mapped_column(String, default=None)
    role: Mapped[str] = mapped_column(String, default=MemberRole.member)

    __table_args__ = (
        one_of("role", MemberRole),
        tenant_index("members", "customer_id"),
        # Among a customer's live members: emails (whatever their case) and external ids are
        # unique, and there is at most one owner.
        Index(
            EMAIL_UNIQUE_INDEX,
            "customer_id",
            func.lower(text("email")),
            unique=True,
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index(
            EXTERNAL_ID_UNIQUE_INDEX,
            "customer_id",
            "external_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND external_id IS NOT NULL"),
            sqlite_where=text("deleted_at IS NULL AND external_id IS NOT NULL"),
        ),
        Index(
            OWNER_UNIQUE_INDEX,
            "customer_id",
            unique=True,
            postgresql_where=text("deleted_at IS NULL AND role = 'owner'"),
            sqlite_where=text("deleted_at IS NULL AND role = 'owner'"),
        ),
    )
