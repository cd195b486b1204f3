"""Orders as the API shows and takes them, named as in Polar's OpenAPI."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Path
from pydantic import UUID4, Field

from polar_customers.customers.schemas import Customer
from polar_customers.kit.address import Address, AddressInput
from polar_customers.kit.metadata import MetadataOutput
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    MODIFIED_AT_DESCRIPTION,
    Schema,
    StorableStr,
)
from polar_customers.kit.sorting import sort_enum
from polar_customers.models import (
    OrderBillingReason,
    OrderStatus,
    SubscriptionRecurringInterval,
    SubscriptionStatus,
)
from polar_customers.products.schemas import TrialInterval
from polar_customers.subscriptions.schemas import CustomerCancellationReason
from polar_customers.subscriptions.state_schemas import CustomFieldData

OrderSortProperty = sort_enum(
    "OrderSortProperty",
    [
        "created_at",
        "status",
        "invoice_number",
        "amount",
        "net_amount",
        "customer",
        "product",
        "discount",
        "subscription",
    ],
)


class ProductBillingType(StrEnum):
    one_time = "one_time"
    recurring = "recurring"


OrderID = Annotated[UUID4, Path(description="The order ID.")]
ID_DESCRIPTION = "The ID of the object."
RECURRING_INTERVAL_DESCRIPTION = (
    "The recurring interval of the product. If `None`, the product is a one-time purchase."
    "Note that the `day` and `week` values are for internal Polar staff use only."
)


class OrderProduct(Schema):
    metadata: MetadataOutput
    id: UUID4 = Field(description=ID_DESCRIPTION)
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    trial_interval: TrialInterval | None = Field(
        description="The interval unit for the trial period."
    )
    trial_interval_count: int | None = Field(
        description="The number of interval units for the trial period."
    )
    name: str = Field(description="The name of the product.")
    description: str | None = Field(description="The description of the product.")
    recurring_interval: SubscriptionRecurringInterval | None = Field(
        description=RECURRING_INTERVAL_DESCRIPTION
    )
    is_recurring: bool = Field(description="Whether the product is a subscription.")
    is_archived: bool = Field(
        description="Whether the product is archived and no longer available."
    )
    organization_id: UUID4 = Field(description="The ID of the organization owning the product.")


class OrderSubscription(Schema):
    metadata: MetadataOutput
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description=ID_DESCRIPTION)
    amount: int = Field(description="The amount of the subscription.", examples=[10000])
    currency: str = Field(description="The currency of the subscription.", examples=["usd"])
    recurring_interval: SubscriptionRecurringInterval = Field(
        description="The interval at which the subscription recurs.", examples=["month"]
    )
    status: SubscriptionStatus = Field(description="The status of the subscription.")
    current_period_start: datetime = Field(
        description="The start timestamp of the current billing period."
    )
    current_period_end: datetime | None = Field(
        description="The end timestamp of the current billing period."
    )
    trial_start: datetime | None = Field(
        description="The start timestamp of the trial period, if any."
    )
    trial_end: datetime | None = Field(description="The end timestamp of the trial period, if any.")
    cancel_at_period_end: bool = Field(
        description="Whether the subscription will be canceled at the end of the current period."
    )
    canceled_at: datetime | None = Field(
        description=(
            "The timestamp when the subscription was canceled. The subscription might still be "
            "active if `cancel_at_period_end` is `true`."
        )
    )
    started_at: datetime | None = Field(description="The timestamp when the subscription started.")
    ends_at: datetime | None = Field(description="The timestamp when the subscription will end.")
    ended_at: datetime | None = Field(description="The timestamp when the subscription ended.")
    customer_id: UUID4 = Field(description="The ID of the subscribed customer.")
    product_id: UUID4 = Field(description="The ID of the subscribed product.")
    discount_id: UUID4 | None = Field(description="The ID of the applied discount, if any.")
    checkout_id: UUID4 | None
    customer_cancellation_reason: CustomerCancellationReason | None
    customer_cancellation_comment: str | None


class OrderItemSchema(Schema):
    """An order line item."""

    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description=ID_DESCRIPTION)
    label: str = Field(description="Description of the line item charge.", examples=["Pro Plan"])
    amount: int = Field(
        description="Amount in cents, before discounts and taxes.", examples=[10000]
    )
    tax_amount: int = Field(description="Sales tax amount in cents.", examples=[720])
    proration: bool = Field(
        description="Whether this charge is due to a proration.", examples=[False]
    )
    product_price_id: UUID4 | None = Field(description="Associated price ID, if any.")


class Order(Schema):
    id: UUID4 = Field(description=ID_DESCRIPTION)
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    status: OrderStatus = Field(examples=["paid"])
    paid: bool = Field(description="Whether the order has been paid for.", examples=[True])
    subtotal_amount: int = Field(description="Amount in cents, before discounts and taxes.")
    discount_amount: int = Field(description="Discount amount in cents.")
    net_amount: int = Field(description="Amount in cents, after discounts but before taxes.")
    tax_amount: int = Field(description="Sales tax amount in cents.")
    total_amount: int = Field(description="Amount in cents, after discounts and taxes.")
    applied_balance_amount: int = Field(
        description=(
            "Customer's balance amount applied to this invoice. Can increase the total amount "
            "paid, if the customer has a negative balance, or decrease it, if the customer has a "
            "positive balance. Amount in cents. Always 0 on this server: balances are not "
            "applied to orders."
        )
    )
    due_amount: int = Field(description="Amount in cents that is due for this order.")
    refunded_amount: int = Field(description="Amount refunded in cents.")
    refunded_tax_amount: int = Field(description="Sales tax refunded in cents.")
    currency: str
    billing_reason: OrderBillingReason
    billing_name: str | None = Field(
        description="The name of the customer that should appear on the invoice. "
    )
    billing_address: Address | None
    invoice_number: str = Field(description="The invoice number associated with this order.")
    is_invoice_generated: bool = Field(
        description="Whether an invoice has been generated for this order."
    )
    customer_id: UUID4
    # Null only for an order whose product was deleted (as Polar's API shows it today).
    product_id: UUID4 | None
    discount_id: UUID4 | None
    subscription_id: UUID4 | None
    checkout_id: UUID4 | None
    metadata: MetadataOutput
    custom_field_data: CustomFieldData = Field(
        default_factory=dict, description="Key-value object storing custom field values."
    )
    # Required by the 2025 clients (polar-sdk 0.27.1), though absent from the 2025-10 document.
    platform_fee_amount: int = Field(
        description="Platform fee amount in cents. Always 0: this server takes no fee.",
        examples=[0],
    )
    customer: Customer
    user_id: UUID4 = Field(deprecated=True)
    product: OrderProduct | None
    # Discounts are not stored by this server.
    discount: None
    subscription: OrderSubscription | None
    items: list[OrderItemSchema] = Field(description="Line items composing the order.")


class OrderUpdate(Schema):
    """Schema to update an order."""

    billing_name: Annotated[StorableStr, Field(max_length=256)] | None = Field(
        description=(
            "The name of the customer that should appear on the invoice. Can't be updated after "
            "the invoice is generated."
        )
    )
    billing_address: AddressInput | None = Field(
        description=(
            "The address of the customer that should appear on the invoice. Can't be updated "
            "after the invoice is generated."
        )
    )
