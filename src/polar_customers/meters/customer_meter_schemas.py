"""A customer meter as its own resource: with its customer and meter embedded (apart from
`schemas.py`, which the customers' schemas import)."""

from datetime import datetime

from pydantic import UUID4, Field

from polar_customers.customers.schemas import Customer
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    METER_ID_EXAMPLE,
    MODIFIED_AT_DESCRIPTION,
    Schema,
)
from polar_customers.meters.schemas import BALANCE_DESCRIPTION, Meter


class CustomerMeter(Schema):
    """An active customer meter, with current consumed and credited units."""

    id: UUID4 = Field(description="The ID of the object.")
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    customer_id: UUID4 = Field(
        description="The ID of the customer.", examples=["992fae2a-2a17-4b7a-8d9e-e287cf90131b"]
    )
    meter_id: UUID4 = Field(description="The ID of the meter.", examples=[METER_ID_EXAMPLE])
    consumed_units: float = Field(description="The number of consumed units.", examples=[25.0])
    credited_units: int = Field(description="The number of credited units.", examples=[100])
    balance: float = Field(description=BALANCE_DESCRIPTION, examples=[75.0])
    customer: Customer = Field(description="The customer associated with this meter.")
    meter: Meter = Field(description="The meter associated with this customer.")
