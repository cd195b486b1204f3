"""Payments and refunds of orders as the API shows and takes them. Refunds are named as in
Polar's OpenAPI; payments have Polar's read shape and a create schema of this server's own
(payments are collected elsewhere and recorded here)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from fastapi import Path
from pydantic import UUID4, AfterValidator, Field, StringConstraints

from polar_customers.kit.metadata import MetadataInput, MetadataOutput
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    MODIFIED_AT_DESCRIPTION,
    ORGANIZATION_ID_EXAMPLE,
    Schema,
    StorableStr,
)
from polar_customers.kit.sorting import sort_enum
from polar_customers.models import PaymentStatus, RefundReason

PaymentSortProperty = sort_enum("PaymentSortProperty", ["created_at", "status", "amount", "method"])
RefundSortProperty = sort_enum("RefundSortProperty", ["created_at", "amount"])
PaymentID = Annotated[UUID4, Path(description="The payment ID.")]

MAXIMUM_AMOUNT = 99_999_999
"""The largest amount of one payment, in cents (Polar's largest price)."""
ORDER_ID_EXAMPLE = "57107b74-8400-4d80-a2fc-54c2b4239cb3"


class RefundStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    canceled = "canceled"


Label = Annotated[StorableStr, StringConstraints(min_length=1, max_length=100)]
CurrencyInput = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z]{3}$"),
    AfterValidator(str.lower),
    Field(description="Three-letter ISO currency code.", examples=["usd"]),
]


class Payment(Schema):
    """A payment of an order, as recorded on this server."""

    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description="The ID of the object.")
    processor: str = Field(
        description=(
            "Who collected the payment, as the recorder named it (`manual` unless named). "
            "Polar's API only shows `stripe`."
        ),
        examples=["manual", "stripe"],
    )
    status: PaymentStatus = Field(description="The payment status.", examples=["succeeded"])
    amount: int = Field(description="The payment amount in cents.", examples=[1000])
    currency: str = Field(description="The payment currency.", examples=["usd"])
    method: str = Field(description="The payment method used.", examples=["card"])
    decline_reason: str | None = Field(
        description="Error code, if the payment was declined.", examples=["insufficient_funds"]
    )
    decline_message: str | None = Field(
        description="Human-readable error message, if the payment was declined.",
        examples=["Your card has insufficient funds."],
    )
    organization_id: UUID4 = Field(
        description="The ID of the organization that owns the payment.",
        examples=[ORGANIZATION_ID_EXAMPLE],
    )
    checkout_id: UUID4 | None = Field(
        description="The ID of the checkout session associated with this payment."
    )
    order_id: UUID4 | None = Field(
        description="The ID of the order associated with this payment.",
        examples=[ORDER_ID_EXAMPLE],
    )


class PaymentCreate(Schema):
    """A payment of an order, collected elsewhere, to record on this server."""

    order_id: UUID4 = Field(description="The ID of the order paid.", examples=[ORDER_ID_EXAMPLE])
    status: Literal[PaymentStatus.succeeded, PaymentStatus.failed] = Field(
        description=(
            "`succeeded`: the money was received; the order is `paid` once its succeeded "
            "payments reach its total. `failed`: the attempt failed; the order stays `pending` "
            "and its subscription, if any, becomes `past_due` until a payment succeeds."
        ),
        examples=["succeeded"],
    )
    amount: int | None = Field(
        default=None,
        gt=0,
        le=MAXIMUM_AMOUNT,
        description=(
            "The amount in cents. Defaults to what remains to be paid of the order (its "
            "`due_amount` less its succeeded payments); it may not be more."
        ),
        examples=[1000],
    )
    currency: CurrencyInput | None = Field(
        default=None, description="The order's currency (the default): no other is accepted."
    )
    processor: Label = Field(
        default="manual",
        description="Who collected the payment (a label of your choice).",
        examples=["stripe"],
    )
    method: Label = Field(
        default="other",
        description="The payment method used (a label of your choice).",
        examples=["card"],
    )
    decline_reason: Label | None = Field(
        default=None,
        description="Error code of a failed payment.",
        examples=["insufficient_funds"],
    )
    decline_message: Annotated[StorableStr, StringConstraints(max_length=1000)] | None = Field(
        default=None,
        description="Human-readable error message of a failed payment.",
        examples=["Your card has insufficient funds."],
    )


class Refund(Schema):
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description="The ID of the object.")
    metadata: MetadataOutput
    status: RefundStatus
    reason: RefundReason
    amount: int
    tax_amount: int
    currency: str
    organization_id: UUID4
    order_id: UUID4
    subscription_id: UUID4 | None
    customer_id: UUID4
    revoke_benefits: bool


class RefundCreate(Schema):
    metadata: MetadataInput = Field(default_factory=dict)
    order_id: UUID4
    reason: RefundReason = Field(description="Reason for the refund.")
    amount: int = Field(description="Amount to refund in cents. Minimum is 1.", gt=0)
    comment: Annotated[StorableStr, StringConstraints(max_length=10_000)] | None = Field(
        default=None, description="An internal comment about the refund."
    )
    revoke_benefits: bool = Field(
        default=False,
        description=(
            "Whether the benefits the order granted should be revoked.\n\n"
            "Only for one-time purchases: the benefits of a subscription are revoked when the "
            "subscription itself ends."
        ),
    )
