"""Requests per subject and minute, shared by the server's processes for rate limiting
(docs/decisions.md#d47).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from polar_customers.kit.db_types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_windows",
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("window_start", "subject", name=op.f("rate_limit_windows_pkey")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_windows")
