"""The creation-time index of customers also orders by id.

Lists sorted by `created_at` break ties by id, and the export reads in keyset batches after
(created_at, id): with the id in the index both walk it without a sort step.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_customers_organization_id_created_at"
LIVE = sa.text("deleted_at IS NULL")


def _replace(columns: list[str]) -> None:
    op.drop_index(INDEX, "customers")
    op.create_index(INDEX, "customers", columns, postgresql_where=LIVE, sqlite_where=LIVE)


def upgrade() -> None:
    _replace(["organization_id", "created_at", "id"])


def downgrade() -> None:
    _replace(["organization_id", "created_at"])
