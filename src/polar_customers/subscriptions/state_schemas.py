"""How a subscription appears in its customer's state, named as in Polar's OpenAPI."""

from datetime import datetime
from typing import Literal

from pydantic import UUID4, Field
from pydantic.json_schema import SkipJsonSchema

from polar_customers.kit.metadata import MetadataOutput
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    METER_ID_EXAMPLE,
    MODIFIED_AT_DESCRIPTION,
    Schema,
)
from polar_customers.models import SubscriptionRecurringInterval

CustomFieldData = dict[str, str | int | bool | datetime | None]


class CustomerStateSubscriptionMeter(Schema):
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


class CustomerStateSubscription(Schema):
    """An active customer subscription."""

    id: UUID4 = Field(
        description="The ID of the subscription.",
        examples=["e5149aae-e521-42b9-b24c-abb3d71eea2e"],
    )
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    custom_field_data: CustomFieldData = Field(
        default_factory=dict, description="Key-value object storing custom field values."
    )
    metadata: MetadataOutput = Field(validation_alias="user_metadata")
    status: Literal["active", "trialing"] = Field(examples=["active", "trialing"])
    amount: int = Field(description="The amount of the subscription.", examples=[1000])
    currency: str = Field(description="The currency of the subscription.", examples=["usd"])
    recurring_interval: SubscriptionRecurringInterval = Field(
        description="The interval at which the subscription recurs."
    )
    current_period_start: datetime = Field(
        description="The start timestamp of the current billing period.",
        examples=["2025-02-03T13:37:00Z"],
    )
    current_period_end: datetime | None = Field(
        description="The end timestamp of the current billing period.",
        examples=["2025-03-03T13:37:00Z"],
    )
    trial_start: datetime | None = Field(
        description="The start timestamp of the trial period, if any.",
        examples=["2025-02-03T13:37:00Z"],
    )
    trial_end: datetime | None = Field(
        description="The end timestamp of the trial period, if any.",
        examples=["2025-03-03T13:37:00Z"],
    )
    cancel_at_period_end: bool = Field(
        description="Whether the subscription will be canceled at the end of the current period.",
        examples=[False],
    )
    canceled_at: datetime | None = Field(
        description=(
            "The timestamp when the subscription was canceled. The subscription might still be "
            "active if `cancel_at_period_end` is `true`."
        ),
        examples=[None],
    )
    started_at: datetime | None = Field(
        description="The timestamp when the subscription started.",
        examples=["2025-01-03T13:37:00Z"],
    )
    ends_at: datetime | None = Field(
        description="The timestamp when the subscription will end.", examples=[None]
    )
    product_id: UUID4 = Field(
        description="The ID of the subscribed product.",
        examples=["d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"],
    )
    discount_id: UUID4 | None = Field(
        description="The ID of the applied discount, if any.", examples=[None]
    )
    seats: int | None = Field(
        default=None, description="The number of seats, for seat-based pricing.", examples=[None]
    )
    units: int | None = Field(
        default=None, description="The number of units, for unit-based pricing.", examples=[None]
    )
    # Deprecated and left out of the document, as in Polar's, but still sent: the first price.
    price_id: SkipJsonSchema[UUID4 | None]
    meters: list[CustomerStateSubscriptionMeter] = Field(
        description="List of meters associated with the subscription."
    )
