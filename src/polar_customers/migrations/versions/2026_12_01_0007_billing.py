"""The billing behind state and balance: product prices and benefits, benefit settings and
license keys, meter filters and aggregations with their incremental totals, events, order
items and refunds, one order per subscription period and invoice numbers per organization,
the labels of recorded payments, subscription cancellation details.

Foreign keys and checks of columns added to existing tables are added on SQLite by editing
the schema text (see `_sqlite_add_constraints`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import polar_customers.kit.db_types
from polar_customers.kit.sqlite_schema import set_table_schema, table_schema

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Checks of columns added to existing tables (the models' `one_of`).
_ADDED_CHECKS = {
    ("products", "recurring_interval"): ("day", "week", "month", "year"),
    ("products", "trial_interval"): ("day", "week", "month", "year"),
    ("product_prices", "amount_type"): ("fixed", "custom", "free", "metered_unit", "seat_based"),
    ("product_prices", "type"): ("one_time", "recurring"),
    ("orders", "billing_reason"): (
        "purchase",
        "subscription_create",
        "subscription_cycle",
        "subscription_update",
    ),
}


_SEPARATOR = ", \n\t"
NEW_TABLES = (
    "refunds",
    "order_items",
    "product_benefits",
    "license_keys",
    "events",
    "meter_unique_values",
)
ADDED_INDEXES = (
    ("benefit_grants", "benefit_grants_organization_subscription_benefit_key"),
    ("benefit_grants", "ix_benefit_grants_organization_id_benefit_id"),
    ("orders", "orders_organization_subscription_period_key"),
    ("orders", "orders_organization_invoice_sequence_key"),
    ("product_prices", "ix_product_prices_organization_id_product_id"),
    ("subscriptions", "ix_subscriptions_current_period_end_due"),
)
ADDED_COLUMNS = {
    "benefits": ("properties",),
    "customer_meters": ("event_count", "value_sum"),
    "meters": ("filter", "aggregation", "archived_at", "user_metadata"),
    "orders": (
        "product_id",
        "subscription_id",
        "billing_reason",
        "billing_period_start",
        "billing_name",
        "billing_address",
        "invoice_number",
        "invoice_sequence",
        "user_metadata",
        "custom_field_data",
    ),
    "payments": ("processor", "method", "decline_reason", "decline_message"),
    "product_prices": (
        "amount_type",
        "type",
        "recurring_interval",
        "is_archived",
        "price_currency",
        "price_amount",
        "meter_id",
        "unit_amount",
        "cap_amount",
        "position",
    ),
    "products": (
        "description",
        "recurring_interval",
        "trial_interval",
        "trial_interval_count",
        "is_archived",
        "archived_at",
        "user_metadata",
    ),
    "subscription_meters": ("event_count", "value_sum"),
    "subscriptions": (
        "checkout_id",
        "customer_cancellation_reason",
        "customer_cancellation_comment",
    ),
}
# The constraints `_sqlite_add_constraints` adds, by table: the columns' names (a regex).
_ADDED_NAMES = {table: "|".join(columns) for table, columns in ADDED_COLUMNS.items()}


def _add_reference(table: str, column: str, target: str, ondelete: str) -> None:
    """A nullable uuid column referencing `target.id`, its foreign key named as the models
    name it."""
    name = f"{table}_{column}_fkey"
    if op.get_bind().dialect.name == "postgresql":
        foreign_key = sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=name)
        op.add_column(table, sa.Column(column, sa.Uuid(), foreign_key, nullable=True))
        return
    op.add_column(table, sa.Column(column, sa.Uuid(), nullable=True))
    _sqlite_add_constraints(
        table,
        f"CONSTRAINT {name} FOREIGN KEY({column}) REFERENCES {target} (id) ON DELETE {ondelete}",
    )


def _sqlite_add_constraints(table: str, *constraints: str) -> None:
    """Table constraints appended to a SQLite table's schema text (kit/sqlite_schema.py).
    The columns they constrain were just added, holding their defaults, which satisfy them."""
    body, closing = table_schema(op.get_bind(), table).rstrip().rsplit(")", 1)
    added = "".join(f"{_SEPARATOR}{constraint}" for constraint in constraints)
    set_table_schema(op.get_bind(), table, body.rstrip() + added + "\n)" + closing)


def _sqlite_remove_added_constraints(table: str) -> None:
    """Undo `_sqlite_add_constraints` for this table: its schema text without them."""
    added = re.compile(
        re.escape(_SEPARATOR)
        + rf"CONSTRAINT {table}_({_ADDED_NAMES[table]})_(check|fkey)\b[^\n]*?(?=, \n|\n)"
    )
    set_table_schema(op.get_bind(), table, added.sub("", table_schema(op.get_bind(), table)))


def _add_checks() -> None:
    """The models' `one_of` checks of the columns added to existing tables."""
    for (table, column), values in _ADDED_CHECKS.items():
        listed = ", ".join(f"'{value}'" for value in values)
        condition = f"{column} IN ({listed})"
        if op.get_bind().dialect.name == "postgresql":
            op.create_check_constraint(column, table, condition)
        else:
            _sqlite_add_constraints(table, f"CONSTRAINT {table}_{column}_check CHECK ({condition})")


def _drop_checks() -> None:
    for table, column in _ADDED_CHECKS:
        op.drop_constraint(op.f(f"{table}_{column}_check"), table, type_="check")


def upgrade() -> None:
    op.create_table(
        "meter_unique_values",
        sa.Column("counter_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("meter_unique_values_organization_id_fkey"),
            ondelete="cascade",
        ),
        sa.PrimaryKeyConstraint("counter_id", "value", name=op.f("meter_unique_values_pkey")),
    )
    with op.batch_alter_table("meter_unique_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meter_unique_values_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "ingested_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "timestamp", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("external_customer_id", sa.String(), nullable=True),
        sa.Column(
            "user_metadata",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("source IN ('system', 'user')", name=op.f("events_source_check")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("events_customer_id_fkey"),
            ondelete="cascade",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("events_organization_id_fkey"),
            ondelete="cascade",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("events_pkey")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_events_organization_id_customer_id",
            ["organization_id", "customer_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_events_organization_id_timestamp",
            ["organization_id", "timestamp", "id"],
            unique=False,
        )

    op.create_table(
        "license_keys",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("benefit_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("display_key", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("limit_activations", sa.Integer(), nullable=True),
        sa.Column("limit_usage", sa.Integer(), nullable=True),
        sa.Column("usage", sa.Integer(), nullable=False),
        sa.Column(
            "expires_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "modified_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "deleted_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.CheckConstraint(
            "status IN ('granted', 'revoked', 'disabled')", name=op.f("license_keys_status_check")
        ),
        sa.ForeignKeyConstraint(
            ["benefit_id"],
            ["benefits.id"],
            name=op.f("license_keys_benefit_id_fkey"),
            ondelete="cascade",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("license_keys_customer_id_fkey"),
            ondelete="cascade",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("license_keys_organization_id_fkey"),
            ondelete="cascade",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("license_keys_pkey")),
        sa.UniqueConstraint("organization_id", "key", name="license_keys_organization_key_key"),
    )
    with op.batch_alter_table("license_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_license_keys_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_license_keys_deleted_at"), ["deleted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_license_keys_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_license_keys_organization_id_customer_id",
            ["organization_id", "customer_id"],
            unique=False,
        )

    op.create_table(
        "product_benefits",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("benefit_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["benefit_id"],
            ["benefits.id"],
            name=op.f("product_benefits_benefit_id_fkey"),
            ondelete="cascade",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("product_benefits_organization_id_fkey"),
            ondelete="cascade",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("product_benefits_product_id_fkey"),
            ondelete="cascade",
        ),
        sa.PrimaryKeyConstraint("product_id", "benefit_id", name=op.f("product_benefits_pkey")),
        sa.UniqueConstraint(
            "organization_id",
            "product_id",
            "benefit_id",
            name="product_benefits_organization_product_benefit_key",
        ),
    )
    with op.batch_alter_table("product_benefits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_benefits_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "order_items",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("tax_amount", sa.Integer(), nullable=False),
        sa.Column("proration", sa.Boolean(), nullable=False),
        sa.Column("product_price_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "modified_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "deleted_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("order_items_order_id_fkey"), ondelete="cascade"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("order_items_organization_id_fkey"),
            ondelete="cascade",
        ),
        sa.ForeignKeyConstraint(
            ["product_price_id"],
            ["product_prices.id"],
            name=op.f("order_items_product_price_id_fkey"),
            ondelete="set null",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("order_items_pkey")),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_items_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_items_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_order_items_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_order_items_organization_id_order_id", ["organization_id", "order_id"], unique=False
        )

    op.create_table(
        "refunds",
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("tax_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("comment", sa.String(), nullable=True),
        sa.Column("revoke_benefits", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "user_metadata",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "modified_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "deleted_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.CheckConstraint(
            "reason IN ('duplicate', 'fraudulent', 'customer_request', 'service_disruption', "
            "'satisfaction_guarantee', 'other')",
            name=op.f("refunds_reason_check"),
        ),
        sa.CheckConstraint(
            "length(currency) = 3 AND currency = lower(currency)",
            name=op.f("refunds_currency_check"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("refunds_customer_id_fkey"),
            ondelete="cascade",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("refunds_order_id_fkey"), ondelete="cascade"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("refunds_organization_id_fkey"),
            ondelete="cascade",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("refunds_pkey")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_refunds_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_refunds_organization_id_order_id", ["organization_id", "order_id"], unique=False
        )

    op.create_index(
        "benefit_grants_organization_subscription_benefit_key",
        "benefit_grants",
        ["organization_id", "subscription_id", "benefit_id"],
        unique=True,
        postgresql_where=sa.text("subscription_id IS NOT NULL AND deleted_at IS NULL"),
        sqlite_where=sa.text("subscription_id IS NOT NULL AND deleted_at IS NULL"),
    )
    op.create_index(
        "ix_benefit_grants_organization_id_benefit_id",
        "benefit_grants",
        ["organization_id", "benefit_id"],
        unique=False,
    )

    op.add_column(
        "benefits",
        sa.Column(
            "properties",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            server_default="{}",
            nullable=False,
        ),
    )

    op.add_column(
        "customer_meters",
        sa.Column("event_count", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "customer_meters",
        sa.Column("value_sum", sa.Numeric(asdecimal=False), server_default="0", nullable=False),
    )

    op.add_column(
        "meters",
        sa.Column(
            "filter",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            server_default='{"conjunction": "and", "clauses": []}',
            nullable=False,
        ),
    )
    op.add_column(
        "meters",
        sa.Column(
            "aggregation",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            server_default='{"func": "count"}',
            nullable=False,
        ),
    )
    op.add_column(
        "meters",
        sa.Column(
            "archived_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column(
        "meters",
        sa.Column(
            "user_metadata",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            server_default="{}",
            nullable=False,
        ),
    )

    _add_reference("orders", "product_id", "products", "set null")
    _add_reference("orders", "subscription_id", "subscriptions", "set null")
    op.add_column(
        "orders",
        sa.Column("billing_reason", sa.String(), server_default="purchase", nullable=False),
    )
    op.add_column(
        "orders",
        sa.Column(
            "billing_period_start",
            polar_customers.kit.db_types.UTCDateTime(timezone=True),
            nullable=True,
        ),
    )
    op.add_column("orders", sa.Column("billing_name", sa.String(), nullable=True))
    op.add_column(
        "orders",
        sa.Column(
            "billing_address",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
    )
    op.add_column("orders", sa.Column("invoice_number", sa.String(), nullable=True))
    op.add_column("orders", sa.Column("invoice_sequence", sa.Integer(), nullable=True))
    op.add_column(
        "orders",
        sa.Column(
            "user_metadata",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column(
        "orders",
        sa.Column(
            "custom_field_data",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_index(
        "orders_organization_subscription_period_key",
        "orders",
        ["organization_id", "subscription_id", "billing_period_start"],
        unique=True,
        postgresql_where=sa.text("subscription_id IS NOT NULL"),
        sqlite_where=sa.text("subscription_id IS NOT NULL"),
    )
    op.create_index(
        "orders_organization_invoice_sequence_key",
        "orders",
        ["organization_id", "invoice_sequence"],
        unique=True,
    )

    op.add_column(
        "payments", sa.Column("processor", sa.String(), server_default="manual", nullable=False)
    )
    op.add_column(
        "payments", sa.Column("method", sa.String(), server_default="other", nullable=False)
    )
    op.add_column("payments", sa.Column("decline_reason", sa.String(), nullable=True))
    op.add_column("payments", sa.Column("decline_message", sa.String(), nullable=True))

    op.add_column(
        "product_prices",
        sa.Column("amount_type", sa.String(), server_default="fixed", nullable=False),
    )
    op.add_column(
        "product_prices", sa.Column("type", sa.String(), server_default="recurring", nullable=False)
    )
    op.add_column("product_prices", sa.Column("recurring_interval", sa.String(), nullable=True))
    op.add_column(
        "product_prices",
        sa.Column("is_archived", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "product_prices",
        sa.Column("price_currency", sa.String(length=3), server_default="usd", nullable=False),
    )
    op.add_column("product_prices", sa.Column("price_amount", sa.Integer(), nullable=True))
    _add_reference("product_prices", "meter_id", "meters", "cascade")
    op.add_column(
        "product_prices", sa.Column("unit_amount", sa.Numeric(asdecimal=False), nullable=True)
    )
    op.add_column("product_prices", sa.Column("cap_amount", sa.Integer(), nullable=True))
    op.add_column(
        "product_prices", sa.Column("position", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_index(
        "ix_product_prices_organization_id_product_id",
        "product_prices",
        ["organization_id", "product_id"],
        unique=False,
    )

    op.add_column("products", sa.Column("description", sa.String(), nullable=True))
    op.add_column("products", sa.Column("recurring_interval", sa.String(), nullable=True))
    op.add_column("products", sa.Column("trial_interval", sa.String(), nullable=True))
    op.add_column("products", sa.Column("trial_interval_count", sa.Integer(), nullable=True))
    op.add_column(
        "products",
        sa.Column("is_archived", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "products",
        sa.Column(
            "archived_at", polar_customers.kit.db_types.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.add_column(
        "products",
        sa.Column(
            "user_metadata",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            server_default="{}",
            nullable=False,
        ),
    )

    op.add_column(
        "subscription_meters",
        sa.Column("event_count", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column(
        "subscription_meters",
        sa.Column("value_sum", sa.Numeric(asdecimal=False), server_default="0", nullable=False),
    )

    _add_reference("subscriptions", "checkout_id", "checkouts", "set null")
    op.add_column(
        "subscriptions", sa.Column("customer_cancellation_reason", sa.String(), nullable=True)
    )
    op.add_column(
        "subscriptions", sa.Column("customer_cancellation_comment", sa.String(), nullable=True)
    )
    op.create_index(
        "ix_subscriptions_current_period_end_due",
        "subscriptions",
        ["current_period_end"],
        unique=False,
        postgresql_where=sa.text(
            "deleted_at IS NULL AND status IN ('active', 'trialing', 'past_due')"
        ),
        sqlite_where=sa.text("deleted_at IS NULL AND status IN ('active', 'trialing', 'past_due')"),
    )

    _add_checks()


def downgrade() -> None:
    for table in NEW_TABLES:
        op.drop_table(table)
    for table, index in ADDED_INDEXES:
        op.drop_index(index, table_name=table)
    if op.get_bind().dialect.name == "postgresql":
        _drop_checks()
    else:
        for table in ADDED_COLUMNS:
            _sqlite_remove_added_constraints(table)
    for table, columns in ADDED_COLUMNS.items():
        for column in reversed(columns):
            op.drop_column(table, column)
