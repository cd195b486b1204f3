"""How a customer's meter appears in its state, named as in Polar's OpenAPI."""

from datetime import datetime

from pydantic import UUID4, Field

from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    METER_ID_EXAMPLE,
    MODIFIED_AT_DESCRIPTION,
    Schema,
)


class CustomerStateMeter(Schema):
    """An active meter for a customer, with latest consumed and credited units."""

    id: UUID4 = Field(description="The ID of the object.")
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    meter_id: UUID4 = Field(description="The ID of the meter.", examples=[METER_ID_EXAMPLE])
    consumed_units: float = Field(description="The number of consumed units.", examples=[25.0])
    credited_units: int = Field(description="The number of credited units.", examples=[100])
    balance: float = Field(
        description=(
            "The balance of the meter, i.e. the difference between credited and consumed units."
        ),
        examples=[75.0],
    )
