"""Statistics on lower(email), so that PostgreSQL plans the `email` filter on its index.

Without them the planner guesses 0.5% of rows match and walks the created_at index of
sorted pages instead (83 ms instead of 0.04 ms at 100,000 customers).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE STATISTICS customers_lower_email ON (lower(email)) FROM customers")
        op.execute("ANALYZE customers")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS customers_lower_email")
