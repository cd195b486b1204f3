import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import (
    RecordModel,
    TenantMixin,
    currency_code,
    one_of,
    tenant_index,
)


class OrderStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    refunded = "refunded"
    partially_refunded = "partially_refunded"


class OrderBillingReason(StrEnum):
    purchase = "purchase"
    subscription_create = "subscription_create"
    subscription_cycle = "subscription_cycle"
    subscription_update = "subscription_update"


_SUBSCRIPTION_PERIOD = text("subscription_id IS NOT NULL")


class Order(TenantMixin, RecordModel):
    """A purchase by a customer. Amounts are in cents; its total is
    `subtotal_amount - discount_amount + tax_amount`. A subscription has one order per
    billing period (`billing_period_start`)."""

    __tablename__ = "orders"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id", ondelete="cascade"))
    checkout_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("checkouts.id", ondelete="set null"), default=None
    )
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("products.id", ondelete="set null"), default=None
    )
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="set null"), default=None
    )
    status: Mapped[str] = mapped_column(String)
    billing_reason: Mapped[str] = mapped_column(
        String, default=OrderBillingReason.purchase, server_default="purchase"
    )
    billing_period_start: Mapped[datetime | None] = mapped_column(default=None)
    billing_name: Mapped[str | None] = mapped_column(String, default=None)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, default=None)
    invoice_number: Mapped[str | None] = mapped_column(String, default=None)
    # The number of the order among its organization's orders, which its invoice number shows.
    invoice_sequence: Mapped[int | None] = mapped_column(Integer, default=None)
    subtotal_amount: Mapped[int] = mapped_column(Integer)
    discount_amount: Mapped[int] = mapped_column(Integer, default=0)
    tax_amount: Mapped[int] = mapped_column(Integer, default=0)
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    refunded_tax_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    user_metadata: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=dict, server_default="{}"
    )
    custom_field_data: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=dict, server_default="{}"
    )

    __table_args__ = (
        one_of("status", OrderStatus),
        one_of("billing_reason", OrderBillingReason),
        currency_code(),
        tenant_index("orders", "customer_id"),
        # One order per billing period of a subscription: two renewals of one period race
        # into this index and the second finds the first order.
        Index(
            "orders_organization_subscription_period_key",
            "organization_id",
            "subscription_id",
            "billing_period_start",
            unique=True,
            postgresql_where=_SUBSCRIPTION_PERIOD,
            sqlite_where=_SUBSCRIPTION_PERIOD,
        ),
        # Invoice numbers are never given twice in an organization.
        Index(
            "orders_organization_invoice_sequence_key",
            "organization_id",
            "invoice_sequence",
            unique=True,
        ),
    )
