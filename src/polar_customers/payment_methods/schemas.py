"""How a customer's payment method is shown, named as in Polar's OpenAPI."""

from datetime import datetime
from typing import Literal

from pydantic import UUID4, Field, RootModel

from polar_customers.kit.schemas import CREATED_AT_DESCRIPTION, MODIFIED_AT_DESCRIPTION, Schema

IS_DEFAULT_DESCRIPTION = "Whether this payment method is the customer's default payment method."


class _PaymentMethod(Schema):
    id: UUID4 = Field(description="The ID of the object.")
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    processor: Literal["stripe"]
    customer_id: UUID4


class PaymentMethodCardMetadata(Schema):
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    wallet: str | None = Field(default=None, description="The wallet the card is in, if any.")


class PaymentMethodKrCardMetadata(Schema):
    brand: str | None
    last4: str | None


class CustomerPaymentMethodCard(_PaymentMethod):
    type: Literal["card"]
    method_metadata: PaymentMethodCardMetadata
    is_default: bool = Field(description=IS_DEFAULT_DESCRIPTION, examples=[True])


class CustomerPaymentMethodKrCard(_PaymentMethod):
    type: Literal["kr_card"]
    method_metadata: PaymentMethodKrCardMetadata
    is_default: bool = Field(description=IS_DEFAULT_DESCRIPTION, examples=[False])


class CustomerPaymentMethodGeneric(_PaymentMethod):
    type: str
    is_default: bool = Field(description=IS_DEFAULT_DESCRIPTION, examples=[False])


_AnyPaymentMethod = (
    CustomerPaymentMethodCard | CustomerPaymentMethodKrCard | CustomerPaymentMethodGeneric
)


class PaymentMethod(RootModel[_AnyPaymentMethod]):
    """A card, a Korean card, or another kind of payment method."""
