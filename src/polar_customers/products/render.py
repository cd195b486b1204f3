"""The one way products leave the server, with their prices and benefits, in the response
version of the request. Other domains that embed products (subscriptions, orders) render
them here too, from `repository.load_products`. Embedded benefits render through
`benefits.render`, as the benefits API shows them."""

from collections.abc import Sequence
from decimal import Context, Decimal
from typing import Any

from polar_customers.benefits import render as benefits_render
from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion
from polar_customers.models import ProductPriceAmountType
from polar_customers.products.price_schemas import ProductPrice
from polar_customers.products.repository import PriceRow, ProductFull
from polar_customers.products.schemas import Product

# One shape serves every version.
_PRODUCT: dict[ApiVersion, type[Product]] = dict.fromkeys(ApiVersion, Product)

_UNIT_AMOUNT_PLACES = Decimal("1e-12")
_UNIT_AMOUNT_CONTEXT = Context(prec=40)


def unit_amount(value: float) -> str:
    """A unit amount as Polar writes it: the decimal the client sent (read back from its
    float), with twelve decimal places."""
    exact = Decimal(repr(value)).quantize(_UNIT_AMOUNT_PLACES, context=_UNIT_AMOUNT_CONTEXT)
    return format(exact, "f")


def _price_document(row: PriceRow) -> dict[str, Any]:
    document: dict[str, Any] = {
        "created_at": row["created_at"],
        "modified_at": row["modified_at"],
        "id": row["id"],
        "amount_type": row["amount_type"],
        "is_archived": row["is_archived"],
        "product_id": row["product_id"],
        "type": row["type"],
        "recurring_interval": row["recurring_interval"],
    }
    if row["amount_type"] == ProductPriceAmountType.fixed:
        document.update(price_currency=row["price_currency"], price_amount=row["price_amount"])
    elif row["amount_type"] == ProductPriceAmountType.metered_unit:
        assert row["unit_amount"] is not None
        document.update(
            price_currency=row["price_currency"],
            unit_amount=unit_amount(row["unit_amount"]),
            cap_amount=row["cap_amount"],
            meter_id=row["meter_id"],
            meter={"id": row["meter_id"], "name": row["meter_name"]},
        )
    return document


def product_price(row: PriceRow, version: ApiVersion) -> ProductPrice:
    """One price (archived or not), as products and subscriptions list them."""
    return ProductPrice.model_validate(_price_document(row))


def product(full: ProductFull, version: ApiVersion) -> Product:
    """A product with its live prices and its benefits, in their order."""
    row = full.product
    return _PRODUCT[version].model_validate(
        {
            "id": row["id"],
            "created_at": row["created_at"],
            "modified_at": row["modified_at"],
            "trial_interval": row["trial_interval"],
            "trial_interval_count": row["trial_interval_count"],
            "name": row["name"],
            "description": row["description"],
            "recurring_interval": row["recurring_interval"],
            "is_recurring": row["recurring_interval"] is not None,
            "is_archived": row["is_archived"],
            "organization_id": row["organization_id"],
            "metadata": row["user_metadata"],
            "prices": [_price_document(price) for price in full.prices],
            "benefits": [benefits_render.benefit(row, version) for row in full.benefits],
            "medias": [],
            "attached_custom_fields": [],
        }
    )


def products(fulls: Sequence[ProductFull], version: ApiVersion) -> list[Product]:
    return [product(full, version) for full in fulls]


def product_page(
    fulls: Sequence[ProductFull], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[Product]:
    return ListResource[Product].of(
        products(fulls, version), total_count=total, limit=pagination.limit
    )
