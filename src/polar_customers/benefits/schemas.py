"""Read, create and update schemas of benefits, named as in Polar's OpenAPI, and how a benefit
grant appears in its customer's state. A grant as `/v1/benefit-grants` shows it embeds a
customer: it is in `grant_schemas.py` (customers' schemas import this module)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import Path
from pydantic import (
    UUID4,
    AfterValidator,
    BeforeValidator,
    Field,
    RootModel,
    StringConstraints,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from polar_customers.kit.metadata import MetadataInput, MetadataOutput
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    METER_ID_EXAMPLE,
    MODIFIED_AT_DESCRIPTION,
    OrganizationID,
    Schema,
    storable,
)
from polar_customers.kit.sorting import sort_enum
from polar_customers.models import BenefitType

BenefitSortProperty = sort_enum("BenefitSortProperty", ["created_at", "description", "type"])
BenefitGrantSortProperty = sort_enum(
    "BenefitGrantSortProperty", ["created_at", "granted_at", "revoked_at"]
)
BenefitID = Annotated[UUID4, Path(description="The benefit ID.")]

# The types that work end to end (docs/decisions.md#d41).
SUPPORTED_TYPES = (BenefitType.custom, BenefitType.license_keys, BenefitType.meter_credit)
"""The types this server creates; the others need a third party (Discord, GitHub, file
storage) that it does not talk to."""
REFUSED_TYPES = (BenefitType.discord, BenefitType.github_repository, BenefitType.downloadables)

INT32_MAX = 2_147_483_647
DESCRIPTION_MIN_LENGTH = 3
DESCRIPTION_MAX_LENGTH = 42
# Polar sets no limit on these two; a server holding what clients send needs one.
NOTE_MAX_LENGTH = 10_000
PREFIX_MAX_LENGTH = 64
# The longest key lifetime per timeframe, as Polar (about 100 years, far from year 9999).
TTL_MAX = {"year": 457, "month": 1200, "day": 36500}

DESCRIPTION_DESCRIPTION = (
    "The description of the benefit. Will be displayed on products having this benefit."
)
NOTE_DESCRIPTION = "Private note to be shared with customers who have this benefit granted."

Description = Annotated[
    str,
    StringConstraints(min_length=DESCRIPTION_MIN_LENGTH, max_length=DESCRIPTION_MAX_LENGTH),
    AfterValidator(storable),
    Field(description=DESCRIPTION_DESCRIPTION),
]
NoteInput = Annotated[
    Annotated[str, StringConstraints(max_length=NOTE_MAX_LENGTH), AfterValidator(storable)] | None,
    Field(description=NOTE_DESCRIPTION),
]


def _blank_to_none(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    return value


PrefixInput = Annotated[
    Annotated[str, StringConstraints(max_length=PREFIX_MAX_LENGTH), AfterValidator(storable)]
    | None,
    BeforeValidator(_blank_to_none),
]


# Properties of each type -----------------------------------------------------------------------


class BenefitCustomCreateProperties(Schema):
    """Properties for creating a benefit of type `custom`."""

    note: NoteInput = None


class BenefitCustomProperties(Schema):
    """Properties for a benefit of type `custom`."""

    note: NoteInput


class BenefitLicenseKeyExpirationProperties(Schema):
    ttl: int = Field(gt=0)
    timeframe: Literal["year", "month", "day"]

    @model_validator(mode="after")
    def _ttl_within_range(self) -> Self:
        longest = TTL_MAX[self.timeframe]
        if self.ttl > longest:
            raise ValueError(
                f"ttl value {self.ttl} exceeds the maximum of {longest} for timeframe "
                f"'{self.timeframe}'."
            )
        return self


class BenefitLicenseKeyActivationCreateProperties(Schema):
    limit: int = Field(gt=0, le=50)
    enable_customer_admin: bool


class BenefitLicenseKeyActivationProperties(Schema):
    limit: int
    enable_customer_admin: bool


class BenefitLicenseKeysCreateProperties(Schema):
    prefix: PrefixInput = None
    expires: BenefitLicenseKeyExpirationProperties | None = None
    activations: BenefitLicenseKeyActivationCreateProperties | None = None
    limit_usage: int | None = Field(default=None, gt=0, le=INT32_MAX)


class BenefitLicenseKeysProperties(Schema):
    prefix: str | None
    expires: BenefitLicenseKeyExpirationProperties | None
    activations: BenefitLicenseKeyActivationProperties | None
    limit_usage: int | None


class BenefitMeterCreditCreateProperties(Schema):
    """Properties for creating a benefit of type `meter_unit`."""

    units: int = Field(gt=0, le=INT32_MAX)
    rollover: bool
    meter_id: UUID4 = Field(examples=[METER_ID_EXAMPLE])


class BenefitMeterCreditProperties(Schema):
    """Properties for a benefit of type `meter_unit`."""

    units: int
    rollover: bool
    meter_id: UUID4


# Read --------------------------------------------------------------------------------------------


class _BenefitBase(Schema):
    id: UUID4 = Field(description="The ID of the benefit.")
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    type: str  # each type's `Literal`, here for the keys' order
    description: str = Field(description="The description of the benefit.")
    # Every benefit of this server is both (Polar's are not when it makes them itself).
    selectable: bool = Field(
        description="Whether the benefit is selectable when creating a product."
    )
    deletable: bool = Field(description="Whether the benefit is deletable.")
    organization_id: UUID4 = Field(description="The ID of the organization owning the benefit.")
    metadata: MetadataOutput = Field(validation_alias="user_metadata")


class BenefitCustom(_BenefitBase):
    """A benefit of type `custom`.

    Use it to grant any kind of benefit that doesn't fit in the other types."""

    type: Literal["custom"]
    properties: BenefitCustomProperties


class BenefitLicenseKeys(_BenefitBase):
    """A benefit of type `license_keys`: a license key for each customer granted it."""

    type: Literal["license_keys"]
    properties: BenefitLicenseKeysProperties


class BenefitMeterCredit(_BenefitBase):
    """A benefit of type `meter_unit`.

    Use it to grant a number of units on a specific meter."""

    type: Literal["meter_credit"]
    properties: BenefitMeterCreditProperties


# The types this server does not create (`REFUSED_TYPES`) can only be rows written by hand;
# their settings are shown as stored.
_STORED_PROPERTIES = Field(
    description="The settings of the benefit as stored: this server does not create this type."
)


class BenefitDiscord(_BenefitBase):
    """A benefit of type `discord`, which this server does not create."""

    type: Literal["discord"]
    properties: dict[str, Any] = _STORED_PROPERTIES


class BenefitGitHubRepository(_BenefitBase):
    """A benefit of type `github_repository`, which this server does not create."""

    type: Literal["github_repository"]
    properties: dict[str, Any] = _STORED_PROPERTIES


class BenefitDownloadables(_BenefitBase):
    """A benefit of type `downloadables`, which this server does not create."""

    type: Literal["downloadables"]
    properties: dict[str, Any] = _STORED_PROPERTIES


class Benefit(
    RootModel[
        Annotated[
            BenefitCustom
            | BenefitDiscord
            | BenefitGitHubRepository
            | BenefitDownloadables
            | BenefitLicenseKeys
            | BenefitMeterCredit,
            Field(discriminator="type"),
        ]
    ]
):
    """A benefit, by its type."""


# Create and update -------------------------------------------------------------------------------


class _BenefitCreateBase(Schema):
    metadata: MetadataInput = Field(default_factory=dict)
    type: str  # each type's `Literal`, here for the keys' order
    description: Description
    organization_id: OrganizationID | None = Field(
        default=None,
        description=(
            "The ID of the organization owning the benefit. "
            "**Required unless you use an organization token.**"
        ),
    )


class BenefitCustomCreate(_BenefitCreateBase):
    """Schema to create a benefit of type `custom`."""

    type: Literal["custom"]
    properties: BenefitCustomCreateProperties


class BenefitLicenseKeysCreate(_BenefitCreateBase):
    type: Literal["license_keys"]
    properties: BenefitLicenseKeysCreateProperties


class BenefitMeterCreditCreate(_BenefitCreateBase):
    """Schema to create a benefit of type `meter_unit`."""

    type: Literal["meter_credit"]
    properties: BenefitMeterCreditCreateProperties


@dataclass(frozen=True, slots=True)
class RefusedType:
    """A create or update body of a type this server does not create. Only its type is kept,
    so that the refusal (`service.refuse_type`) is the one error the body gets."""

    type: str


def _keep_refused_type(cls: Any, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(data, dict) and data.get("type") in REFUSED_TYPES:
        return cls.model_construct(RefusedType(str(data["type"])))
    return handler(data)


class BenefitCreate(
    RootModel[
        Annotated[
            BenefitCustomCreate | BenefitLicenseKeysCreate | BenefitMeterCreditCreate,
            Field(discriminator="type"),
        ]
    ]
):
    """A benefit to create, of one of the types this server creates: `custom`,
    `license_keys` or `meter_credit`."""

    _refused = model_validator(mode="wrap")(_keep_refused_type)


class _BenefitUpdateBase(Schema):
    # Absent, `metadata` is left unchanged; null is a 422, as in customer updates.
    metadata: MetadataInput = Field(default=None)  # type: ignore[arg-type]
    description: Description | None = None


class BenefitCustomUpdate(_BenefitUpdateBase):
    type: Literal["custom"]
    properties: BenefitCustomProperties | None = None


class BenefitLicenseKeysUpdate(_BenefitUpdateBase):
    type: Literal["license_keys"]
    properties: BenefitLicenseKeysCreateProperties | None = None


class BenefitMeterCreditUpdate(_BenefitUpdateBase):
    type: Literal["meter_credit"]
    properties: BenefitMeterCreditCreateProperties | None = None


class BenefitUpdate(
    RootModel[
        Annotated[
            BenefitCustomUpdate | BenefitLicenseKeysUpdate | BenefitMeterCreditUpdate,
            Field(discriminator="type"),
        ]
    ]
):
    """The fields to change, for the benefit's `type` (which cannot change). Absent fields, and
    a null description or properties, are left unchanged."""

    _refused = model_validator(mode="wrap")(_keep_refused_type)


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


# The keys each benefit type exposes in `properties`; others (meter_credit's bookkeeping,
# anything unknown) are dropped, and custom and meter_credit grants show `{}`.
GRANT_PROPERTY_KEYS: dict[str, tuple[str, ...]] = {
    BenefitType.discord: ("account_id", "guild_id", "role_id", "granted_account_id"),
    BenefitType.github_repository: (
        "account_id",
        "repository_owner",
        "repository_name",
        "permission",
        "granted_account_id",
    ),
    BenefitType.downloadables: ("files",),
    BenefitType.license_keys: ("license_key_id", "display_key"),
}


def grant_properties(benefit_type: str, properties: Any) -> dict[str, Any]:
    """The stored properties of a grant as the state shows them for its benefit type."""
    if not isinstance(properties, Mapping):
        return {}
    keys = GRANT_PROPERTY_KEYS.get(benefit_type, ())
    return {key: properties[key] for key in keys if key in properties}
