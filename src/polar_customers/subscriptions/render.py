"""The one way subscriptions leave the server, in the response version of the request
(kit/versions.py); their customer, product, prices and meters render through the domains
that own them."""

from collections.abc import Mapping, Sequence
from typing import Any

from polar_customers.customers import render as customers_render
from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion
from polar_customers.meters import render as meters_render
from polar_customers.products import render as products_render
from polar_customers.subscriptions.schemas import Subscription, SubscriptionMeter
from polar_customers.subscriptions.service import SubscriptionDetails

# One shape for every version, as customers (docs/decisions.md#d31).
_SUBSCRIPTION: dict[ApiVersion, type[Subscription]] = dict.fromkeys(ApiVersion, Subscription)


def subscription(
    row: Mapping[str, Any], details: SubscriptionDetails, version: ApiVersion
) -> Subscription:
    id = row["id"]
    return _SUBSCRIPTION[version].model_validate(
        {
            **row,
            "metadata": row["user_metadata"],
            "customer": customers_render.customer(details.customers[row["customer_id"]], version),
            "product": products_render.product(details.products[row["product_id"]], version),
            "prices": [
                products_render.product_price(price, version) for price in details.prices[id]
            ],
            "meters": [
                SubscriptionMeter.model_validate(
                    {**meter, "meter": meters_render.meter(meter["meter"], version)}
                )
                for meter in details.meters.get(id, [])
            ],
        }
    )


def subscription_page(
    rows: Sequence[Mapping[str, Any]],
    details: SubscriptionDetails,
    version: ApiVersion,
    *,
    total: int,
    pagination: PaginationParams,
) -> ListResource[Subscription]:
    return ListResource[Subscription].of(
        [subscription(row, details, version) for row in rows],
        total_count=total,
        limit=pagination.limit,
    )
