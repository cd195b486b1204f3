"""Indexes for sorted lists, substring search and metadata filters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
TRIGRAM_COLUMNS = ("email", "name", "external_id")


def upgrade() -> None:
    for column in ("email", "name"):
        op.create_index(
            f"ix_customers_organization_id_{column}",
            "customers",
            ["organization_id", column],
            postgresql_where=LIVE,
            sqlite_where=LIVE,
        )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in TRIGRAM_COLUMNS:
        op.create_index(
            f"ix_customers_{column}_trgm",
            "customers",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )
    op.create_index(
        "ix_customers_user_metadata",
        "customers",
        ["user_metadata"],
        postgresql_using="gin",
        postgresql_ops={"user_metadata": "jsonb_path_ops"},
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_customers_user_metadata", "customers")
        for column in TRIGRAM_COLUMNS:
            op.drop_index(f"ix_customers_{column}_trgm", "customers")
    for column in ("email", "name"):
        op.drop_index(f"ix_customers_organization_id_{column}", "customers")
