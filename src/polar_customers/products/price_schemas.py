"""Prices of products: the ones to create (a union picked by `amount_type`, see
`_price_create`), the existing ones an update keeps, and prices as read, named as in Polar's
OpenAPI. This server creates fixed, free and metered unit prices; custom and seat-based ones
are refused at their `amount_type`."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    UUID4,
    AfterValidator,
    BaseModel,
    Discriminator,
    Field,
    RootModel,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError, PydanticKnownError

from polar_customers.kit.schemas import CREATED_AT_DESCRIPTION, MODIFIED_AT_DESCRIPTION, Schema
from polar_customers.models import ProductPriceType, SubscriptionRecurringInterval

# The prices a subscription here can bill (docs/decisions.md#d40).
SUPPORTED_AMOUNT_TYPES = ("fixed", "free", "metered_unit")
AMOUNT_TYPES = ("fixed", "custom", "free", "seat_based", "metered_unit")
UNSUPPORTED_AMOUNT_TYPE = (
    "This price amount type is not supported by this server. "
    "Supported amount types: fixed, free, metered_unit."
)


def _only_usd(value: str) -> str:
    # Polar's pattern matches any text containing "usd"; only "usd" itself is a currency.
    if value != "usd":
        raise PydanticCustomError("string_pattern_mismatch", "Only `usd` is supported.")
    return value


PriceCurrency = Annotated[
    str,
    Field(
        pattern="usd",
        description="The currency. Currently, only `usd` is supported.",
    ),
    AfterValidator(_only_usd),
]


def _no_more_than_five_whole_digits(value: Decimal) -> Decimal:
    # Polar stores unit amounts as numeric(17, 12): five digits before the point.
    if value.adjusted() >= 5:
        raise PydanticKnownError("decimal_whole_digits", {"whole_digits": 5})
    return value


# Prices to create -----------------------------------------------------------------------------


class ProductPriceFixedCreate(Schema):
    """Schema to create a fixed price."""

    amount_type: Literal["fixed"]
    price_amount: int = Field(ge=50, le=99_999_999, description="The price in cents.")
    price_currency: PriceCurrency = "usd"


class ProductPriceCustomCreate(Schema):
    """Schema to create a pay-what-you-want price. Not supported by this server."""

    amount_type: Literal["custom"]
    price_currency: PriceCurrency = "usd"
    minimum_amount: int | None = Field(
        default=None, ge=50, le=99_999_999, description="The minimum amount the customer can pay."
    )
    maximum_amount: int | None = Field(
        default=None, ge=50, le=1_000_000, description="The maximum amount the customer can pay."
    )
    preset_amount: int | None = Field(
        default=None, ge=50, le=1_000_000, description="The initial amount shown to the customer."
    )


class ProductPriceFreeCreate(Schema):
    """Schema to create a free price."""

    amount_type: Literal["free"]


class ProductPriceSeatBasedCreate(Schema):
    """Schema to create a seat-based price. Not supported by this server."""

    amount_type: Literal["seat_based"]
    price_currency: PriceCurrency = "usd"
    price_per_seat: int = Field(ge=50, le=99_999_999, description="The price per seat in cents.")


class ProductPriceMeteredUnitCreate(Schema):
    """Schema to create a metered price with a fixed unit price."""

    amount_type: Literal["metered_unit"]
    meter_id: UUID4 = Field(description="The ID of the meter associated to the price.")
    price_currency: PriceCurrency = "usd"
    unit_amount: Annotated[
        Decimal,
        Field(
            gt=0,
            max_digits=17,
            decimal_places=12,
            description="The price per unit in cents. Supports up to 12 decimal places.",
        ),
        AfterValidator(_no_more_than_five_whole_digits),
    ]
    cap_amount: int | None = Field(
        default=None,
        ge=0,
        le=2_147_483_647,
        description=(
            "Optional maximum amount in cents that can be charged, regardless of the number of "
            "units consumed."
        ),
    )


class ExistingProductPrice(Schema):
    """A price that already exists for this product.

    Useful when updating a product if you want to keep an existing price."""

    id: UUID4


PriceCreate = ProductPriceFixedCreate | ProductPriceFreeCreate | ProductPriceMeteredUnitCreate
"""The prices this server creates: `ProductPriceCreate` refuses the others."""

_PRICE_CREATES: dict[str, type[BaseModel]] = {
    "fixed": ProductPriceFixedCreate,
    "free": ProductPriceFreeCreate,
    "metered_unit": ProductPriceMeteredUnitCreate,
}
_EXPECTED_TAGS = ", ".join(f"'{tag}'" for tag in AMOUNT_TYPES)


def _price_create(value: Any) -> BaseModel:
    """The price `value` describes, by its `amount_type`; custom and seat-based prices are
    refused at their `amount_type`."""
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, dict):
        raise PydanticKnownError("dict_type")
    if "amount_type" not in value:
        raise PydanticKnownError("union_tag_not_found", {"discriminator": "'amount_type'"})
    amount_type = value["amount_type"]
    schema = _PRICE_CREATES.get(amount_type) if isinstance(amount_type, str) else None
    if schema is not None:
        return schema.model_validate(value)
    if amount_type in AMOUNT_TYPES:
        error = PydanticCustomError("value_error", UNSUPPORTED_AMOUNT_TYPE)
        raise ValidationError.from_exception_data(
            "ProductPriceCreate", [{"type": error, "loc": ("amount_type",), "input": amount_type}]
        )
    raise PydanticKnownError(
        "union_tag_invalid",
        {
            "discriminator": "'amount_type'",
            "tag": str(amount_type),
            "expected_tags": _EXPECTED_TAGS,
        },
    )


def _dispatch_price_create(value: Any, _handler: ValidatorFunctionWrapHandler) -> BaseModel:
    return _price_create(value)


def _dispatch_price_update(value: Any, _handler: ValidatorFunctionWrapHandler) -> BaseModel:
    # As Polar's left-to-right union: an object with an `id` keeps an existing price.
    if isinstance(value, dict) and "id" in value:
        return ExistingProductPrice.model_validate(value)
    return _price_create(value)


ProductPriceCreate = Annotated[
    ProductPriceFixedCreate
    | ProductPriceCustomCreate
    | ProductPriceFreeCreate
    | ProductPriceSeatBasedCreate
    | ProductPriceMeteredUnitCreate,
    WrapValidator(_dispatch_price_create),
]
ProductPriceUpdate = Annotated[
    ExistingProductPrice
    | ProductPriceFixedCreate
    | ProductPriceCustomCreate
    | ProductPriceFreeCreate
    | ProductPriceSeatBasedCreate
    | ProductPriceMeteredUnitCreate,
    WrapValidator(_dispatch_price_update),
]


# Prices as read ---------------------------------------------------------------------------


_DEPRECATED: JsonDict = {"deprecated": True}


class ProductPriceMeter(Schema):
    """A meter associated to a metered price."""

    id: UUID4 = Field(description="The ID of the object.")
    name: str = Field(description="The name of the meter.")


class _ProductPriceBase(Schema):
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description="The ID of the price.")
    amount_type: str
    is_archived: bool = Field(description="Whether the price is archived and no longer available.")
    product_id: UUID4 = Field(description="The ID of the product owning the price.")
    # Kept by Polar for older clients: the product's own billing kind and interval.
    type: ProductPriceType = Field(json_schema_extra=_DEPRECATED)
    recurring_interval: SubscriptionRecurringInterval | None = Field(json_schema_extra=_DEPRECATED)


class ProductPriceFixed(_ProductPriceBase):
    """A fixed price for a product."""

    amount_type: Literal["fixed"]
    price_currency: str = Field(description="The currency.")
    price_amount: int = Field(description="The price in cents.")


class ProductPriceFree(_ProductPriceBase):
    """A free price for a product."""

    amount_type: Literal["free"]


class ProductPriceMeteredUnit(_ProductPriceBase):
    """A metered, usage-based, price for a product, with a fixed unit price."""

    amount_type: Literal["metered_unit"]
    price_currency: str = Field(description="The currency.")
    unit_amount: str = Field(description="The price per unit in cents.")
    cap_amount: int | None = Field(
        description=(
            "The maximum amount in cents that can be charged, regardless of the number of "
            "units consumed."
        )
    )
    meter_id: UUID4 = Field(description="The ID of the meter associated to the price.")
    meter: ProductPriceMeter = Field(description="The meter associated to the price.")


class ProductPrice(
    RootModel[
        Annotated[
            ProductPriceFixed | ProductPriceFree | ProductPriceMeteredUnit,
            Discriminator("amount_type"),
        ]
    ]
):
    """A price of a product, by its amount type."""
