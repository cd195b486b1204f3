"""What customer state and balance read: products and prices, subscriptions with their prices
and meters, benefits and grants, meters and customer meters, orders, payments and checkouts;
and the organization's default currency.

Every table carries `organization_id` (the sharding column): NOT NULL, indexed, and part of
every unique constraint.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from polar_customers.kit.db_types import JSONDocument, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBSCRIPTION_STATUSES = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
)
RECURRING_INTERVALS = ("day", "week", "month", "year")
BENEFIT_TYPES = (
    "custom",
    "discord",
    "github_repository",
    "downloadables",
    "license_keys",
    "meter_credit",
)
ORDER_STATUSES = ("pending", "paid", "refunded", "partially_refunded")
PAYMENT_STATUSES = ("pending", "succeeded", "failed")
TABLES = (
    "products",
    "product_prices",
    "checkouts",
    "subscriptions",
    "subscription_prices",
    "meters",
    "subscription_meters",
    "customer_meters",
    "benefits",
    "orders",
    "benefit_grants",
    "payments",
)


def _fk(column: str, target: str, *, ondelete: str = "cascade", **kw: Any) -> sa.Column[Any]:
    return sa.Column(column, sa.Uuid(), sa.ForeignKey(f"{target}.id", ondelete=ondelete), **kw)


def _tenant_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=True),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        _fk("organization_id", "organizations", nullable=False),
    ]


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"{table}_{column}_check"))


def _currency(table: str, column: str = "currency") -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"length({column}) = 3 AND {column} = lower({column})", name=op.f(f"{table}_{column}_check")
    )


def _create(table: str, *items: Any, by_tenant: Sequence[str] = ()) -> None:
    op.create_table(table, *_tenant_columns(), *items)
    for column in ("created_at", "deleted_at", "organization_id"):
        op.create_index(f"ix_{table}_{column}", table, [column])
    for column in by_tenant:
        op.create_index(f"ix_{table}_organization_id_{column}", table, ["organization_id", column])


def _unique(name: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=name)


def _create_catalog() -> None:
    _create("products", sa.Column("name", sa.String(), nullable=False))
    _create("product_prices", _fk("product_id", "products", nullable=False))
    _create("meters", sa.Column("name", sa.String(), nullable=False))
    _create(
        "benefits",
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("user_metadata", JSONDocument, nullable=False),
        _one_of("benefits", "type", BENEFIT_TYPES),
    )


def _create_subscriptions() -> None:
    _create(
        "subscriptions",
        _fk("customer_id", "customers", nullable=False),
        _fk("product_id", "products", nullable=False),
        sa.Column("discount_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recurring_interval", sa.String(), nullable=False),
        sa.Column("current_period_start", UTCDateTime(), nullable=False),
        *(
            sa.Column(column, UTCDateTime(), nullable=True)
            for column in ("current_period_end", "trial_start", "trial_end")
        ),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        *(
            sa.Column(column, UTCDateTime(), nullable=True)
            for column in ("canceled_at", "started_at", "ends_at", "ended_at")
        ),
        sa.Column("user_metadata", JSONDocument, nullable=False),
        sa.Column("custom_field_data", JSONDocument, nullable=False),
        _one_of("subscriptions", "status", SUBSCRIPTION_STATUSES),
        _one_of("subscriptions", "recurring_interval", RECURRING_INTERVALS),
        _currency("subscriptions"),
        by_tenant=["customer_id"],
    )
    _create(
        "subscription_prices",
        _fk("subscription_id", "subscriptions", nullable=False),
        _fk("product_price_id", "product_prices", nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _unique(
            "subscription_prices_organization_subscription_position_key",
            "organization_id",
            "subscription_id",
            "position",
        ),
    )
    _create(
        "subscription_meters",
        _fk("subscription_id", "subscriptions", nullable=False),
        _fk("meter_id", "meters", nullable=False),
        sa.Column("consumed_units", sa.Numeric(), nullable=False),
        sa.Column("credited_units", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        _unique(
            "subscription_meters_organization_subscription_meter_key",
            "organization_id",
            "subscription_id",
            "meter_id",
        ),
    )


def _create_customer_meters() -> None:
    _create(
        "customer_meters",
        _fk("customer_id", "customers", nullable=False),
        _fk("meter_id", "meters", nullable=False),
        sa.Column("consumed_units", sa.Numeric(), nullable=False),
        sa.Column("credited_units", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.Numeric(), nullable=False),
        _unique(
            "customer_meters_organization_id_customer_id_meter_id_key",
            "organization_id",
            "customer_id",
            "meter_id",
        ),
    )


def _create_billing() -> None:
    _create(
        "checkouts",
        _fk("customer_id", "customers", ondelete="set null", nullable=True),
        by_tenant=["customer_id"],
    )
    _create(
        "orders",
        _fk("customer_id", "customers", nullable=False),
        _fk("checkout_id", "checkouts", ondelete="set null", nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        *(
            sa.Column(column, sa.Integer(), nullable=False)
            for column in (
                "subtotal_amount",
                "discount_amount",
                "tax_amount",
                "refunded_amount",
                "refunded_tax_amount",
            )
        ),
        sa.Column("currency", sa.String(3), nullable=False),
        _one_of("orders", "status", ORDER_STATUSES),
        _currency("orders"),
        by_tenant=["customer_id"],
    )
    _create(
        "payments",
        _fk("order_id", "orders", ondelete="set null", nullable=True),
        _fk("checkout_id", "checkouts", ondelete="set null", nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _one_of("payments", "status", PAYMENT_STATUSES),
        _currency("payments"),
        by_tenant=["order_id", "checkout_id"],
    )


def _create_benefit_grants() -> None:
    _create(
        "benefit_grants",
        _fk("customer_id", "customers", nullable=False),
        _fk("benefit_id", "benefits", nullable=False),
        _fk("subscription_id", "subscriptions", nullable=True),
        _fk("order_id", "orders", nullable=True),
        sa.Column("granted_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("properties", JSONDocument, nullable=False),
        by_tenant=["customer_id"],
    )


def upgrade() -> None:
    # A column-level CHECK: SQLite can add it with the column, without rebuilding the table.
    op.add_column(
        "organizations",
        sa.Column(
            "default_currency",
            sa.String(3),
            _currency("organizations", "default_currency"),
            nullable=False,
            server_default="usd",
        ),
    )
    _create_catalog()
    _create_subscriptions()
    _create_customer_meters()
    _create_billing()
    _create_benefit_grants()


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    # Not in batch mode: rebuilding `organizations` on SQLite would cascade to its customers.
    op.drop_column("organizations", "default_currency")
