"""Read, create and update schemas of customers, and of their state and balance, named as
in Polar's OpenAPI."""

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    UUID4,
    AfterValidator,
    Discriminator,
    Field,
    RootModel,
    Tag,
    computed_field,
    model_validator,
)

from polar_customers.benefits.schemas import CustomerStateBenefitGrant
from polar_customers.kit.address import Address, AddressInput
from polar_customers.kit.email import EmailStrDNS
from polar_customers.kit.locale import valid_locale
from polar_customers.kit.metadata import MetadataInput, MetadataOutput
from polar_customers.kit.schemas import (
    ExternalIDStr,
    NameStr,
    OrganizationID,
    Schema,
    empty_to_none,
)
from polar_customers.kit.sorting import sort_enum
from polar_customers.kit.tax_id import TaxID
from polar_customers.meters.schemas import CustomerStateMeter
from polar_customers.models import CustomerType
from polar_customers.subscriptions.state_schemas import CustomerStateSubscription

CustomerSortProperty = sort_enum("CustomerSortProperty", ["created_at", "email", "name"])
CustomerID = Annotated[UUID4, Path(description="The customer ID.")]
ExternalID = Annotated[str, Path(description="The customer external ID.")]

EXTERNAL_ID_DESCRIPTION = (
    "The ID of the customer in your system. This must be unique within the organization. "
    "Once set, it can't be updated."
)
EMAIL_DESCRIPTION = (
    "The email address of the customer. This must be unique within the organization."
)


ExternalIDInput = Annotated[
    ExternalIDStr | None,
    AfterValidator(empty_to_none),
    Field(description=EXTERNAL_ID_DESCRIPTION, examples=["usr_1337"]),
]
EmailInput = Annotated[
    EmailStrDNS, Field(description=EMAIL_DESCRIPTION, examples=["customer@example.com"])
]
NameInput = Annotated[
    NameStr | None, Field(description="The name of the customer.", examples=["John Doe"])
]


def gravatar_url(email: str) -> str:
    digest = hashlib.sha256(email.lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=404"


class Customer(Schema):
    """A customer in an organization.

    One shape for every client (the 2025 keys in their order, and today's among them): the
    2025 clients ignore the keys they do not know, today's need them."""

    id: UUID4 = Field(
        description="The ID of the customer.", examples=["992fae2a-2a17-4b7a-8d9e-e287cf90131b"]
    )
    created_at: datetime = Field(description="Creation timestamp of the object.")
    modified_at: datetime | None = Field(description="Last modification timestamp of the object.")
    metadata: MetadataOutput = Field(validation_alias="user_metadata")
    external_id: str | None = Field(description=EXTERNAL_ID_DESCRIPTION, examples=["usr_1337"])
    # Null only for a team customer created without one.
    email: str | None = Field(description=EMAIL_DESCRIPTION, examples=["customer@example.com"])
    email_verified: bool = Field(
        description=(
            "Whether the customer email address is verified. The address is automatically "
            "verified when the customer accesses the customer portal using their email address."
        ),
        examples=[True],
    )
    type: CustomerType = Field(
        description=(
            "The type of customer: 'individual' for single users, 'team' for customers with "
            "multiple members."
        ),
        examples=["individual"],
    )
    name: str | None = Field(description="The name of the customer.", examples=["John Doe"])
    billing_name: str | None = Field(
        description=(
            "The name that should appear on the customer's invoices. Falls back to the "
            "customer name when not explicitly set."
        ),
        examples=["John Doe"],
    )
    billing_address: Address | None
    tax_id: TaxID | None
    locale: str | None = None
    organization_id: UUID4 = Field(
        description="The ID of the organization owning the customer.",
        examples=["1dbfc517-0bbf-4301-9ba8-555ca42b9737"],
    )
    default_payment_method_id: UUID4 | None = Field(
        default=None,
        description=(
            "The ID of the customer's default payment method, if any. Use the payment methods "
            "endpoint to retrieve its details."
        ),
    )
    deleted_at: datetime | None = Field(
        description="Timestamp for when the customer was soft deleted."
    )
    first_user_event_at: datetime | None = Field(
        description=(
            "Timestamp of the first event ingested for this customer. Can predate "
            "`created_at`, and is null if no event was ever ingested."
        )
    )

    @model_validator(mode="before")
    @classmethod
    def _billing_name_falls_back_to_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("billing_name") is None:
            return {**data, "billing_name": data.get("name")}
        return data

    @computed_field(examples=["https://www.gravatar.com/avatar/xxx?d=404"])  # type: ignore[prop-decorator]
    @property
    def avatar_url(self) -> str | None:
        return None if self.email is None else gravatar_url(self.email)


LocaleInput = Annotated[
    str,
    AfterValidator(valid_locale),
    Field(
        description=(
            "Locale of the customer, given as an IETF BCP 47 language tag, e.g. `en`, `en-US` "
            "or `en-GB-oxendict`. If `null` or unsupported, the locale will default to `en`."
        ),
        examples=["en", "en-US", "fr", "fr-CA"],
    ),
]


class MemberOwnerCreate(Schema):
    """The owner member to create with a customer."""

    email: EmailStrDNS = Field(description="The email address of the member.")
    name: NameInput = None
    external_id: ExternalIDInput = None


class _CustomerCreate(Schema):
    metadata: MetadataInput = Field(default_factory=dict)
    external_id: ExternalIDInput = None
    name: NameInput = None
    billing_address: AddressInput | None = None
    tax_id: TaxID | None = None
    locale: LocaleInput | None = None
    organization_id: OrganizationID | None = Field(
        default=None,
        description=(
            "The ID of the organization owning the customer. "
            "**Required unless you use an organization token.**"
        ),
    )
    owner: MemberOwnerCreate | None = Field(
        default=None,
        description=(
            "Optional owner member to create with the customer. If not provided, an owner "
            "member will be automatically created using the customer's email and name."
        ),
    )


class CustomerIndividualCreate(_CustomerCreate):
    type: Literal[CustomerType.individual] = CustomerType.individual
    email: EmailInput


class CustomerTeamCreate(_CustomerCreate):
    type: Literal[CustomerType.team]
    email: EmailInput | None = None

    @model_validator(mode="after")
    def _owner_has_an_email(self) -> "CustomerTeamCreate":
        if self.email is None and self.owner is None:
            raise ValueError(
                "An owner with an email address is required when creating a team customer "
                "without an email."
            )
        return self


def _create_type(value: Any) -> str:
    # Without `type`, as every 2025 client sends it: an individual.
    if isinstance(value, dict):
        return str(value.get("type", CustomerType.individual))
    return str(getattr(value, "type", CustomerType.individual))


class CustomerCreate(
    RootModel[
        Annotated[
            Annotated[CustomerIndividualCreate, Tag(CustomerType.individual)]
            | Annotated[CustomerTeamCreate, Tag(CustomerType.team)],
            Discriminator(_create_type),
        ]
    ]
):
    """An individual customer (the default when `type` is absent) or a team customer."""

    # Validation errors do not show the branch in their `loc` (errors.py): 2025 clients, which
    # send no `type`, get the errors of the one shape they know.


class CustomerUpdateExternalID(Schema):
    """Fields absent from the body are left unchanged; `null` clears a nullable field."""

    # `metadata` and `email` cannot be cleared: their default only marks them as absent, and
    # `"email": null` is a 422 (docs/decisions.md#d1).
    metadata: MetadataInput = Field(default=None)  # type: ignore[arg-type]
    email: EmailInput = None  # type: ignore[assignment]
    name: NameInput = None
    billing_address: AddressInput | None = None
    tax_id: TaxID | None = None
    locale: LocaleInput | None = None


class CustomerUpdate(CustomerUpdateExternalID):
    external_id: ExternalIDInput = None
    type: CustomerType | None = Field(
        default=None,
        description=(
            "The customer type. Can only be upgraded from 'individual' to 'team', never downgraded."
        ),
        examples=["team"],
    )


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
