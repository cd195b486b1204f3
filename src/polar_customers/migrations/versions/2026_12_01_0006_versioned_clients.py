"""What today's clients (Polar-Version 2026-04 and later) read and write: customer type,
billing name, locale, default payment method and first event time; team customers whose email
is optional; members (every live customer gets its owner); payment methods; subscription
seats and units.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from polar_customers.kit.db_types import JSONDocument, UTCDateTime
from polar_customers.kit.sqlite_schema import set_table_schema, table_schema

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("deleted_at IS NULL")
CUSTOMER_COLUMNS = ("type", "billing_name", "locale", "default_payment_method_id")


def _record_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("modified_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True, index=True),
        sa.Column(
            "organization_id",
            sa.Uuid(),
            sa.ForeignKey("organizations.id", ondelete="cascade"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "customer_id",
            sa.Uuid(),
            sa.ForeignKey("customers.id", ondelete="cascade"),
            nullable=False,
        ),
    ]


def _set_email_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("customers", "email", existing_type=sa.String(320), nullable=nullable)
        return
    # SQLite cannot alter a column, and rebuilding `customers` would run the ON DELETE CASCADE
    # of every table that references it. A NOT NULL constraint does not change how rows are
    # stored: SQLite documents editing the table's schema text for exactly this case
    # (https://www.sqlite.org/lang_altertable.html, "otheralter").
    bind = op.get_bind()
    if (
        not nullable
        and bind.exec_driver_sql("SELECT 1 FROM customers WHERE email IS NULL LIMIT 1").first()
    ):
        raise RuntimeError("customers without an email exist: they cannot be made NOT NULL")
    declared = re.compile(r"(\bemail VARCHAR\(320\))( NOT NULL)?")
    schema = table_schema(bind, "customers")
    changed = declared.sub(r"\1" if nullable else r"\1 NOT NULL", schema, count=1)
    set_table_schema(bind, "customers", changed)


def _new_uuid4(dialect: str) -> str:
    if dialect == "postgresql":
        return "gen_random_uuid()"
    # SQLite keeps UUIDs as 32 hex digits: random ones with the version 4 and variant bits.
    hexa = "lower(hex(randomblob(16)))"
    return (
        f"substr({hexa}, 1, 12) || '4' || substr({hexa}, 1, 3) || "
        f"substr('89ab', 1 + (abs(random()) % 4), 1) || substr({hexa}, 1, 15)"
    )


def _add_owners() -> None:
    """Every live customer gets its owner member, made from its own email and name."""
    dialect = op.get_bind().dialect.name
    op.execute(
        "INSERT INTO members (id, created_at, organization_id, customer_id, email, name, "
        "external_id, role) "
        f"SELECT {_new_uuid4(dialect)}, created_at, organization_id, id, email, name, "
        "external_id, 'owner' FROM customers WHERE deleted_at IS NULL AND email IS NOT NULL"
    )


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("type", sa.String(), nullable=False, server_default="individual"),
    )
    op.add_column("customers", sa.Column("billing_name", sa.String(), nullable=True))
    op.add_column("customers", sa.Column("locale", sa.String(), nullable=True))
    op.add_column("customers", sa.Column("default_payment_method_id", sa.Uuid(), nullable=True))
    op.add_column("customers", sa.Column("first_user_event_at", UTCDateTime(), nullable=True))
    _set_email_nullable(True)
    op.add_column("subscriptions", sa.Column("seats", sa.Integer(), nullable=True))
    op.add_column("subscriptions", sa.Column("units", sa.Integer(), nullable=True))

    op.create_table(
        "members",
        *_record_columns(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.Column("role", sa.String(), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'billing_manager', 'member')", name="role"),
    )
    op.create_index(
        "ix_members_organization_id_customer_id", "members", ["organization_id", "customer_id"]
    )
    op.create_index(
        "members_customer_id_lower_email_key",
        "members",
        ["customer_id", sa.text("lower(email)")],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
    live_external_id = sa.text("deleted_at IS NULL AND external_id IS NOT NULL")
    op.create_index(
        "members_customer_id_external_id_key",
        "members",
        ["customer_id", "external_id"],
        unique=True,
        postgresql_where=live_external_id,
        sqlite_where=live_external_id,
    )
    live_owner = sa.text("deleted_at IS NULL AND role = 'owner'")
    op.create_index(
        "members_customer_id_owner_key",
        "members",
        ["customer_id"],
        unique=True,
        postgresql_where=live_owner,
        sqlite_where=live_owner,
    )
    _add_owners()

    op.create_table(
        "payment_methods",
        *_record_columns(),
        sa.Column("processor", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("method_metadata", JSONDocument, nullable=False),
    )
    op.create_index(
        "ix_payment_methods_organization_id_customer_id",
        "payment_methods",
        ["organization_id", "customer_id"],
    )


def downgrade() -> None:
    op.drop_table("payment_methods")
    op.drop_table("members")
    op.drop_column("subscriptions", "units")
    op.drop_column("subscriptions", "seats")
    _set_email_nullable(False)
    op.drop_column("customers", "first_user_event_at")
    for column in reversed(CUSTOMER_COLUMNS):
        op.drop_column("customers", column)
