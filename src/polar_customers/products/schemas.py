"""Read, create and update schemas of products, named as in Polar's OpenAPI (their prices in
`price_schemas.py`).

Bodies that are unions (a product to create, a price to create) pick their branch by one key
before validating it, so that errors point at the body's own fields
(`body.prices.0.price_amount`), not at a branch name."""

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    UUID4,
    AfterValidator,
    Field,
    RootModel,
    StringConstraints,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import PydanticCustomError

from polar_customers.benefits.schemas import Benefit
from polar_customers.kit.metadata import MetadataInput, MetadataOutput
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    MODIFIED_AT_DESCRIPTION,
    OrganizationID,
    Schema,
    storable,
)
from polar_customers.kit.sorting import sort_enum
from polar_customers.models import SubscriptionRecurringInterval

# Re-exported: a subscription embeds its prices.
from polar_customers.products.price_schemas import ProductPrice as ProductPrice
from polar_customers.products.price_schemas import ProductPriceCreate, ProductPriceUpdate

ProductSortProperty = sort_enum(
    "ProductSortProperty", ["created_at", "name", "price_amount_type", "price_amount"]
)
ProductID = Annotated[UUID4, Path(description="The product ID.")]

NAME_MIN_LENGTH = 3
NAME_MAX_LENGTH = 64  # Polar's own limit
DESCRIPTION_MAX_LENGTH = 10_000
MAX_PRICES = 50
MAX_BENEFITS = 100
NO_MEDIAS = "This server stores no files: medias must be empty."
NO_CUSTOM_FIELDS = "This server stores no custom fields: attached_custom_fields must be empty."
TRIAL_INCOMPLETE = "Both trial_interval and trial_interval_count must be set together."


class TrialInterval(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    year = "year"


def _empty_to_none(value: str | None) -> str | None:
    return value or None


ProductName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=NAME_MIN_LENGTH, max_length=NAME_MAX_LENGTH
    ),
    AfterValidator(storable),
    Field(description="The name of the product."),
]
ProductDescription = Annotated[
    Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH), AfterValidator(storable)]
    | None,
    AfterValidator(_empty_to_none),
    Field(description="The description of the product."),
]


def _must_be_empty(message: str) -> Callable[[list[Any] | None], list[Any] | None]:
    def check(value: list[Any] | None) -> list[Any] | None:
        if value:
            raise PydanticCustomError("value_error", message)
        return value

    return check


# Products to create and update ----------------------------------------------------------------

PRICES_DESCRIPTION = (
    "List of available prices for this product. It should contain at most one static price "
    "(fixed or free), and any number of metered prices. Metered prices are not supported on "
    "one-time purchase products."
)
MEDIAS_DESCRIPTION = (
    "List of file IDs. This server stores no files: only an empty list is accepted."
)
CUSTOM_FIELDS_DESCRIPTION = (
    "List of custom fields to attach. This server stores no custom fields: only an empty list "
    "is accepted."
)


class AttachedCustomFieldCreate(Schema):
    """Schema to attach a custom field to a resource."""

    custom_field_id: UUID4 = Field(description="ID of the custom field to attach.")
    required: bool = Field(description="Whether the value is required for this custom field.")


Medias = Annotated[
    list[UUID4] | None,
    AfterValidator(_must_be_empty(NO_MEDIAS)),
    Field(description=MEDIAS_DESCRIPTION),
]
AttachedCustomFields = Annotated[
    list[AttachedCustomFieldCreate],
    AfterValidator(_must_be_empty(NO_CUSTOM_FIELDS)),
    Field(description=CUSTOM_FIELDS_DESCRIPTION),
]
TrialIntervalCount = Annotated[
    int,
    Field(ge=1, le=1000, description="The number of interval units for the trial period."),
]


class _TrialConfiguration(Schema):
    trial_interval: TrialInterval | None = Field(
        default=None, description="The interval unit for the trial period."
    )
    trial_interval_count: TrialIntervalCount | None = None

    @model_validator(mode="after")
    def _complete(self) -> "_TrialConfiguration":
        if (self.trial_interval is None) != (self.trial_interval_count is None):
            raise PydanticCustomError("missing", TRIAL_INCOMPLETE)
        return self


class _ProductCreateBase(Schema):
    metadata: MetadataInput = Field(default_factory=dict)
    name: ProductName
    description: ProductDescription = None
    prices: list[ProductPriceCreate] = Field(
        min_length=1,
        max_length=MAX_PRICES,
        title="ProductPriceCreateList",
        description=PRICES_DESCRIPTION,
    )
    medias: Medias = None
    attached_custom_fields: AttachedCustomFields = Field(default_factory=list)
    organization_id: OrganizationID | None = Field(
        default=None,
        description=(
            "The ID of the organization owning the product. "
            "**Required unless you use an organization token.**"
        ),
    )


class ProductCreateRecurring(_TrialConfiguration, _ProductCreateBase):
    recurring_interval: SubscriptionRecurringInterval = Field(
        description=(
            "The recurring interval of the product. Note that the `day` and `week` values are "
            "for internal Polar staff use only."
        )
    )


class ProductCreateOneTime(_ProductCreateBase):
    recurring_interval: None = Field(
        default=None, description="States that the product is a one-time purchase."
    )


class ProductCreate(RootModel[ProductCreateRecurring | ProductCreateOneTime]):
    """A recurring product (with a `recurring_interval`) or a one-time product."""

    @model_validator(mode="wrap")
    @classmethod
    def _by_recurring_interval(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if isinstance(value, cls):
            return handler(value)
        recurring = isinstance(value, Mapping) and value.get("recurring_interval") is not None
        branch = ProductCreateRecurring if recurring else ProductCreateOneTime
        return cls.model_construct(branch.model_validate(value))


class ProductUpdate(_TrialConfiguration):
    """Schema to update a product."""

    # `metadata` cannot be cleared: its default only marks it as absent (null is a 422).
    metadata: MetadataInput = Field(default=None)  # type: ignore[arg-type]
    name: ProductName | None = None
    description: ProductDescription = None
    recurring_interval: SubscriptionRecurringInterval | None = Field(
        default=None,
        description=(
            "The recurring interval of the product. If `None`, the product is a one-time "
            "purchase. **Can only be set on legacy recurring products. Once set, it can't be "
            "changed.**"
        ),
    )
    is_archived: bool | None = Field(
        default=None,
        description=(
            "Whether the product is archived. If `true`, the product won't be available for "
            "purchase anymore. Existing customers will still have access to their benefits, and "
            "subscriptions will continue normally."
        ),
    )
    prices: list[ProductPriceUpdate] | None = Field(
        default=None,
        max_length=MAX_PRICES,
        description=(
            "List of available prices for this product. If you want to keep existing prices, "
            "include them in the list as an `ExistingProductPrice` object."
        ),
    )
    medias: Medias = None
    attached_custom_fields: Annotated[
        list[AttachedCustomFieldCreate] | None, AfterValidator(_must_be_empty(NO_CUSTOM_FIELDS))
    ] = Field(default=None, description=CUSTOM_FIELDS_DESCRIPTION)


class ProductBenefitsUpdate(Schema):
    """Schema to update the benefits granted by a product."""

    benefits: list[Annotated[UUID4, Field(description="The benefit ID.")]] = Field(
        max_length=MAX_BENEFITS,
        description=(
            "List of benefit IDs. Each one must be on the same organization as the product."
        ),
    )


# Products as read -----------------------------------------------------------------------------


class ProductMediaFileRead(Schema):
    """File to be used as a product media file. This server stores none."""

    id: UUID4 = Field(description="The ID of the object.")
    organization_id: UUID4
    name: str
    path: str
    mime_type: str
    size: int
    storage_version: str | None
    checksum_etag: str | None
    checksum_sha256_base64: str | None
    checksum_sha256_hex: str | None
    last_modified_at: datetime | None
    version: str | None
    service: Literal["product_media"]
    is_uploaded: bool
    created_at: datetime
    size_readable: str
    public_url: str


class AttachedCustomField(Schema):
    """Schema of a custom field attached to a resource. This server stores none."""

    custom_field_id: UUID4 = Field(description="ID of the custom field.")
    custom_field: dict[str, Any]
    order: int = Field(description="Order of the custom field in the resource.")
    required: bool = Field(description="Whether the value is required for this custom field.")


class Product(Schema):
    """A product."""

    id: UUID4 = Field(description="The ID of the object.")
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    trial_interval: TrialInterval | None = Field(
        description="The interval unit for the trial period."
    )
    trial_interval_count: int | None = Field(
        description="The number of interval units for the trial period."
    )
    name: str = Field(description="The name of the product.")
    description: str | None = Field(description="The description of the product.")
    recurring_interval: SubscriptionRecurringInterval | None = Field(
        description=(
            "The recurring interval of the product. If `None`, the product is a one-time "
            "purchase.Note that the `day` and `week` values are for internal Polar staff use "
            "only."
        )
    )
    is_recurring: bool = Field(description="Whether the product is a subscription.")
    is_archived: bool = Field(
        description="Whether the product is archived and no longer available."
    )
    organization_id: UUID4 = Field(description="The ID of the organization owning the product.")
    metadata: MetadataOutput
    prices: list[ProductPrice] = Field(description="List of prices for this product.")
    benefits: list[Benefit] = Field(description="List of benefits granted by the product.")
    medias: list[ProductMediaFileRead] = Field(
        description="List of medias associated to the product."
    )
    attached_custom_fields: list[AttachedCustomField] = Field(
        description="List of custom fields attached to the product."
    )
