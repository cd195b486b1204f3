"""Read, create and update schemas of customers, and of their state and balance, named as
in Polar's OpenAPI."""

import hashlib
from datetime import datetime
from typing import Annotated, Literal

from pydantic import UUID4, AfterValidator, Field, computed_field
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from polar_customers.kit.address import Address, AddressInput
from polar_customers.kit.email import EmailStrDNS
from polar_customers.kit.metadata import MetadataInput, MetadataOutput
from polar_customers.kit.schemas import OrganizationID, Schema, StorableStr
from polar_customers.kit.sorting import sort_enum
from polar_customers.kit.tax_id import TaxID
from polar_customers.models import BenefitType, SubscriptionRecurringInterval

CustomerSortProperty = sort_enum("CustomerSortProperty", ["created_at", "email", "name"])

EXTERNAL_ID_DESCRIPTION = (
    "The ID of the customer in your system. This must be unique within the organization. "
    "Once set, it can't be updated."
)
EMAIL_DESCRIPTION = (
    "The email address of the customer. This must be unique within the organization."
)


def _empty_to_none(value: str | None) -> str | None:
    return value or None


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

    # `metadata` and `email` cannot be cleared: their default only marks them as absent.
    metadata: MetadataInput = Field(default=None)  # type: ignore[arg-type]
    email: EmailInput = None  # type: ignore[assignment]
    name: NameInput = None
    billing_address: AddressInput | None = None
    tax_id: TaxID | None = None


class CustomerUpdate(CustomerUpdateExternalID):
    external_id: ExternalIDInput = None


# Customer state and balance -------------------------------------------------------------------

CREATED_AT_DESCRIPTION = "Creation timestamp of the object."
MODIFIED_AT_DESCRIPTION = "Last modification timestamp of the object."
METER_ID_EXAMPLE = "d498a884-e2cd-4d3e-8002-f536468a8b22"
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
    # Deprecated and left out of the document, as in Polar's, but still sent: the first price.
    price_id: SkipJsonSchema[UUID4 | None]
    meters: list[CustomerStateSubscriptionMeter] = Field(
        description="List of meters associated with the subscription."
    )


# `properties` of a grant, by benefit type; keys absent from the stored properties are absent.
class BenefitGrantDiscordProperties(TypedDict, total=False):
    account_id: str | None
    guild_id: str
    role_id: str
    granted_account_id: str


class BenefitGrantGitHubRepositoryProperties(TypedDict, total=False):
    account_id: str | None
    repository_owner: str
    repository_name: str
    permission: Literal["pull", "triage", "push", "maintain", "admin"]
    granted_account_id: str


class BenefitGrantDownloadablesProperties(TypedDict, total=False):
    files: list[str]


class BenefitGrantLicenseKeysProperties(TypedDict, total=False):
    license_key_id: str
    display_key: str


class BenefitGrantCustomProperties(TypedDict, total=False):
    pass


class CustomerStateBenefitGrant(Schema):
    """An active benefit grant for a customer."""

    id: UUID4 = Field(
        description="The ID of the grant.", examples=["d322132c-a9d0-4e0d-b8d3-d81ad021a3a9"]
    )
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    granted_at: datetime = Field(
        description="The timestamp when the benefit was granted.",
        examples=["2025-01-03T13:37:00Z"],
    )
    benefit_id: UUID4 = Field(
        description="The ID of the benefit concerned by this grant.",
        examples=["397a17aa-15cf-4cb4-9333-18040203cf98"],
    )
    benefit_type: BenefitType = Field(
        description="The type of the benefit concerned by this grant.", examples=["custom"]
    )
    benefit_metadata: MetadataOutput = Field(
        description="The metadata of the benefit concerned by this grant.",
        examples=[{"key": "value"}],
    )
    properties: (
        BenefitGrantDiscordProperties
        | BenefitGrantGitHubRepositoryProperties
        | BenefitGrantDownloadablesProperties
        | BenefitGrantLicenseKeysProperties
        | BenefitGrantCustomProperties
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
