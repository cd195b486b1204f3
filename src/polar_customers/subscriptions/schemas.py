"""Subscriptions as the API shows and takes them, named as in Polar's OpenAPI."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import UUID4, ConfigDict, Field, StringConstraints

from polar_customers.customers.schemas import Customer
from polar_customers.kit.metadata import MetadataInput, MetadataOutput
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    METER_ID_EXAMPLE,
    MODIFIED_AT_DESCRIPTION,
    Schema,
)
from polar_customers.kit.sorting import sort_enum
from polar_customers.kit.time import UtcDatetime
from polar_customers.meters.schemas import Meter
from polar_customers.models import SubscriptionRecurringInterval, SubscriptionStatus
from polar_customers.products.schemas import Product, ProductPrice
from polar_customers.subscriptions.state_schemas import CustomFieldData

CancellationComment = Annotated[str, StringConstraints(max_length=10_000)]

PRODUCT_ID_EXAMPLE = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"


class CustomerCancellationReason(StrEnum):
    customer_service = "customer_service"
    low_quality = "low_quality"
    missing_features = "missing_features"
    switched_service = "switched_service"
    too_complex = "too_complex"
    too_expensive = "too_expensive"
    unused = "unused"
    other = "other"


class SubscriptionProrationBehavior(StrEnum):
    invoice = "invoice"
    prorate = "prorate"


class SubscriptionMeter(Schema):
    """Current consumption and spending for a subscription meter."""

    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description="The ID of the object.")
    consumed_units: float = Field(
        description="The number of consumed units so far in this billing period.",
        examples=[25.0],
    )
    credited_units: int = Field(
        description="The number of credited units so far in this billing period.",
        examples=[100],
    )
    amount: int = Field(
        description="The amount due in cents so far in this billing period.", examples=[0]
    )
    meter_id: UUID4 = Field(description="The ID of the meter.", examples=[METER_ID_EXAMPLE])
    meter: Meter = Field(description="The meter associated with this subscription.")


class Subscription(Schema):
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description="The ID of the object.")
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
    seats: int | None = Field(
        default=None, description="The number of seats, for seat-based pricing."
    )
    units: int | None = Field(
        default=None, description="The number of units, for unit-based pricing."
    )
    customer_cancellation_reason: CustomerCancellationReason | None
    customer_cancellation_comment: str | None
    metadata: MetadataOutput
    custom_field_data: CustomFieldData = Field(
        default_factory=dict, description="Key-value object storing custom field values."
    )
    customer: Customer
    product: Product
    discount: None = Field(default=None, description="The applied discount, if any.")
    prices: list[ProductPrice] = Field(description="List of enabled prices for the subscription.")
    meters: list[SubscriptionMeter] = Field(
        description="List of meters associated with the subscription."
    )


class _SubscriptionCreateBase(Schema):
    model_config = ConfigDict(extra="forbid")

    metadata: MetadataInput = Field(default_factory=dict)
    product_id: UUID4 = Field(
        description=(
            "The ID of the recurring product to subscribe to. Extension of this server: paid "
            "products are accepted too; the subscription starts `active` (or `trialing` when "
            "the product has a trial) without a checkout, and its orders are paid by recording "
            "payments (`POST /v1/payments/`)."
        ),
        examples=[PRODUCT_ID_EXAMPLE],
    )


class SubscriptionCreateCustomer(_SubscriptionCreateBase):
    """Create a subscription for an existing customer."""

    customer_id: UUID4 = Field(description="The ID of the customer to create the subscription for.")


class SubscriptionCreateExternalCustomer(_SubscriptionCreateBase):
    """Create a subscription for an existing customer identified by an external ID."""

    external_customer_id: Annotated[str, StringConstraints(min_length=1, max_length=400)] = Field(
        description=(
            "The ID of the customer in your system to create the subscription for. It must "
            "already exist."
        )
    )


SubscriptionCreate = SubscriptionCreateCustomer | SubscriptionCreateExternalCustomer


class SubscriptionUpdateProduct(Schema):
    model_config = ConfigDict(extra="forbid")

    product_id: UUID4 = Field(description="Update subscription to another product.")
    proration_behavior: SubscriptionProrationBehavior | None = Field(
        default=None,
        description=(
            "Determine how to handle the proration billing. This server switches the product "
            "at once and bills the new product from the next period."
        ),
    )


class SubscriptionUpdateDiscount(Schema):
    model_config = ConfigDict(extra="forbid")

    discount_id: UUID4 | None = Field(
        description="Update the subscription to apply a new discount."
    )


class SubscriptionUpdateTrial(Schema):
    model_config = ConfigDict(extra="forbid")

    trial_end: UtcDatetime | Literal["now"] = Field(
        description=(
            "Set or extend the trial period of the subscription. If `now`, the trial ends "
            "immediately."
        )
    )


class SubscriptionCancel(Schema):
    model_config = ConfigDict(extra="forbid")

    customer_cancellation_reason: CustomerCancellationReason | None = None
    customer_cancellation_comment: CancellationComment | None = None
    cancel_at_period_end: bool = Field(
        description=(
            "Cancel an active subscription once the current period ends. Or uncancel a "
            "subscription currently set to be revoked at period end."
        )
    )


class SubscriptionRevoke(Schema):
    model_config = ConfigDict(extra="forbid")

    customer_cancellation_reason: CustomerCancellationReason | None = None
    customer_cancellation_comment: CancellationComment | None = None
    revoke: Literal[True] = Field(
        description="Cancel and revoke an active subscription immediately"
    )


SubscriptionUpdate = (
    SubscriptionUpdateProduct
    | SubscriptionUpdateDiscount
    | SubscriptionUpdateTrial
    | SubscriptionCancel
    | SubscriptionRevoke
)

SubscriptionSortProperty = sort_enum(
    "SubscriptionSortProperty",
    ("customer", "status", "started_at", "current_period_end", "amount", "product", "discount"),
)
