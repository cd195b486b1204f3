"""Read, create and update schemas of customers, and of their state and balance, named as
in Polar's OpenAPI."""

import hashlib
from datetime import datetime
from typing import Annotated

from pydantic import UUID4, AfterValidator, Field, computed_field

from polar_customers.benefits.schemas import CustomerStateBenefitGrant
from polar_customers.kit.address import Address, AddressInput
from polar_customers.kit.email import EmailStrDNS
from polar_customers.kit.metadata import MetadataInput, MetadataOutput
from polar_customers.kit.schemas import OrganizationID, Schema, StorableStr
from polar_customers.kit.sorting import sort_enum
from polar_customers.kit.tax_id import TaxID
from polar_customers.meters.schemas import CustomerStateMeter
from polar_customers.subscriptions.schemas import CustomerStateSubscription

CustomerSortProperty = sort_enum("CustomerSortProperty", ["created_at", "email", "name"])

EXTERNAL_ID_DESCRIPTION = (
    "The ID of the customer in your system. This must be unique within the organization. "
    "Once set, it can't be updated."
)
EMAIL_DESCRIPTION = (
    "The email address of the customer. This must be unique within the organization."
)


def _empty_to_none(value: str | None) -> str | None:
    return value or None  # docs/decisions.md#d3


ExternalIDInput = Annotated[
    StorableStr | None,
    AfterValidator(_empty_to_none),
    Field(description=EXTERNAL_ID_DESCRIPTION, examples=["usr_1337"]),
]
EmailInput = Annotated[
    EmailStrDNS, Field(description=EMAIL_DESCRIPTION, examples=["customer@example.com"])
]
NameInput = Annotated[
    StorableStr | None, Field(description="The name of the customer.", examples=["John Doe"])
]


def gravatar_url(email: str) -> str:
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=404"


class Customer(Schema):
    """A customer in an organization."""

    id: UUID4 = Field(
        description="The ID of the customer.", examples=["992fae2a-2a17-4b7a-8d9e-e287cf90131b"]
    )
    created_at: datetime = Field(description="Creation timestamp of the object.")
    modified_at: datetime | None = Field(description="Last modification timestamp of the object.")
    metadata: MetadataOutput = Field(validation_alias="user_metadata")
    external_id: str | None = Field(description=EXTERNAL_ID_DESCRIPTION, examples=["usr_1337"])
    email: str = Field(description=EMAIL_DESCRIPTION, examples=["customer@example.com"])
    email_verified: bool = Field(
        description=(
            "Whether the customer email address is verified. The address is automatically "
            "verified when the customer accesses the customer portal using their email address."
        ),
        examples=[True],
    )
    name: str | None = Field(description="The name of the customer.", examples=["John Doe"])
    billing_address: Address | None
    tax_id: TaxID | None
    organization_id: UUID4 = Field(
        description="The ID of the organization owning the customer.",
        examples=["1dbfc517-0bbf-4301-9ba8-555ca42b9737"],
    )
    deleted_at: datetime | None = Field(
        description="Timestamp for when the customer was soft deleted."
    )

    @computed_field(examples=["https://www.gravatar.com/avatar/xxx?d=404"])  # type: ignore[prop-decorator]
    @property
    def avatar_url(self) -> str:
        return gravatar_url(self.email)


class CustomerCreate(Schema):
    metadata: MetadataInput = Field(default_factory=dict)
    external_id: ExternalIDInput = None
    email: EmailInput
    name: NameInput = None
    billing_address: AddressInput | None = None
    tax_id: TaxID | None = None
    organization_id: OrganizationID | None = Field(
        default=None,
        description=(
            "The ID of the organization owning the customer. "
            "**Required unless you use an organization token.**"
        ),
    )


class CustomerUpdateExternalID(Schema):
    """Fields absent from the body are left unchanged; `null` clears a nullable field."""

    # `metadata` and `email` cannot be cleared: their default only marks them as absent, and
    # `"email": null` is a 422 (docs/decisions.md#d1).
    metadata: MetadataInput = Field(default=None)  # type: ignore[arg-type]
    email: EmailInput = None  # type: ignore[assignment]
    name: NameInput = None
    billing_address: AddressInput | None = None
    tax_id: TaxID | None = None


class CustomerUpdate(CustomerUpdateExternalID):
    external_id: ExternalIDInput = None


# Customer state and balance -------------------------------------------------------------------


class CustomerState(Customer):
    """A customer along with additional state information:

    * Active subscriptions
    * Granted benefits
    * Active meters
    """

    active_subscriptions: list[CustomerStateSubscription] = Field(
        description="The customer's active subscriptions."
    )
    granted_benefits: list[CustomerStateBenefitGrant] = Field(
        description="The customer's active benefit grants."
    )
    active_meters: list[CustomerStateMeter] = Field(description="The customer's active meters.")


class CustomerBalance(Schema):
    """Customer balance information."""

    balance: int = Field(
        description=(
            "Customer balance in cents. Positive values represent credit (customer is owed "
            "money), negative values represent debit (customer owes money)."
        )
    )
    currency: str = Field(
        description="The currency code (ISO 4217) for the balance amount.", examples=["USD"]
    )
