"""Events without foreign keys, and without the index on their organization alone: an
ingested batch's customers are read by the service in the batch's transaction, and the
checks and the index cost as much as the rest of the insert (docs/decisions.md#d44).

On SQLite the constraints leave the table's schema text (kit/sqlite_schema.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

from polar_customers.kit.sqlite_schema import set_table_schema, table_schema

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The foreign keys events had: (column, referenced table), and as SQLite's schema text
# states them.
_REFERENCES = (("customer_id", "customers"), ("organization_id", "organizations"))
_SQLITE_CONSTRAINTS = tuple(
    f", \n\tCONSTRAINT events_{column}_fkey FOREIGN KEY({column}) REFERENCES {table} (id) "
    "ON DELETE cascade"
    for column, table in _REFERENCES
)


def upgrade() -> None:
    op.drop_index("ix_events_organization_id", table_name="events")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for column, _ in _REFERENCES:
            op.drop_constraint(f"events_{column}_fkey", "events", type_="foreignkey")
        return
    schema = table_schema(bind, "events")
    for constraint in _SQLITE_CONSTRAINTS:
        if constraint not in schema:
            raise RuntimeError(f"the events table's schema text lacks {constraint.strip()}")
        schema = schema.replace(constraint, "")
    set_table_schema(bind, "events", schema)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for column, table in _REFERENCES:
            op.create_foreign_key(
                f"events_{column}_fkey", "events", table, [column], ["id"], ondelete="cascade"
            )
    else:
        body, closing = table_schema(bind, "events").rstrip().rsplit(")", 1)
        set_table_schema(
            bind, "events", body.rstrip() + "".join(_SQLITE_CONSTRAINTS) + "\n)" + closing
        )
    op.create_index("ix_events_organization_id", "events", ["organization_id"], unique=False)
