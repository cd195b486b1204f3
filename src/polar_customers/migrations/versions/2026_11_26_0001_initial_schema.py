"""Initial schema: organizations, users, memberships, access tokens and customers.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from polar_customers.kit.db_types import JSONDocument, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")


def _record_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    ]


def _record_indexes(table: str) -> None:
    op.create_index(f"ix_{table}_created_at", table, ["created_at"])
    op.create_index(f"ix_{table}_deleted_at", table, ["deleted_at"])


def _token_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("token", sa.CHAR(64), nullable=False),
        sa.Column("scope", sa.String(1024), nullable=False),
        sa.Column("comment", sa.String(255), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "organizations",
        *_record_columns(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("blocked_at", UTCDateTime(), nullable=True),
    )
    _record_indexes("organizations")

    op.create_table(
        "users",
        *_record_columns(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.UniqueConstraint("email", name="users_email_key"),
    )
    _record_indexes("users")

    op.create_table(
        "user_organizations",
        *_record_columns(),
        sa.Column(
            "user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="cascade"), nullable=False
        ),
        sa.Column(
            "organization_id",
            sa.Uuid(),
            sa.ForeignKey("organizations.id", ondelete="cascade"),
            nullable=False,
        ),
    )
    _record_indexes("user_organizations")
    op.create_index(
        "ix_user_organizations_organization_id", "user_organizations", ["organization_id"]
    )

    op.create_table(
        "organization_access_tokens",
        *_record_columns(),
        *_token_columns(),
        sa.Column(
            "organization_id",
            sa.Uuid(),
            sa.ForeignKey("organizations.id", ondelete="cascade"),
            nullable=False,
        ),
        sa.UniqueConstraint("token", name="organization_access_tokens_token_key"),
    )
    _record_indexes("organization_access_tokens")
    op.create_index(
        "ix_organization_access_tokens_organization_id",
        "organization_access_tokens",
        ["organization_id"],
    )

    op.create_table(
        "personal_access_tokens",
        *_record_columns(),
        *_token_columns(),
        sa.Column(
            "user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="cascade"), nullable=False
        ),
        sa.UniqueConstraint("token", name="personal_access_tokens_token_key"),
    )
    _record_indexes("personal_access_tokens")
    op.create_index("ix_personal_access_tokens_user_id", "personal_access_tokens", ["user_id"])

    op.create_table(
        "customers",
        *_record_columns(),
        sa.Column(
            "organization_id",
            sa.Uuid(),
            sa.ForeignKey("organizations.id", ondelete="cascade"),
            nullable=False,
        ),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("billing_address", JSONDocument, nullable=True),
        sa.Column("tax_id", JSONDocument, nullable=True),
        sa.Column("user_metadata", JSONDocument, nullable=False),
        sa.UniqueConstraint(
            "organization_id", "external_id", name="customers_organization_id_external_id_key"
        ),
    )
    _record_indexes("customers")
    op.create_index("ix_customers_organization_id", "customers", ["organization_id"])
    op.create_index(
        "customers_organization_id_lower_email_key",
        "customers",
        ["organization_id", sa.text("lower(email)")],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
    op.create_index(
        "ix_customers_organization_id_created_at",
        "customers",
        ["organization_id", "created_at"],
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )


def downgrade() -> None:
    for table in (
        "customers",
        "personal_access_tokens",
        "organization_access_tokens",
        "user_organizations",
        "users",
        "organizations",
    ):
        op.drop_table(table)
