"""What the server declared about itself (environment, secret fingerprint), so that the
command line can refuse to mint tokens that server would reject.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from polar_customers.kit.db_types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instance_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("instance_settings_pkey")),
    )


def downgrade() -> None:
    op.drop_table("instance_settings")
