"""The one way payment methods leave the server, in the response version of the request."""

import uuid
from collections.abc import Sequence

from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion
from polar_customers.payment_methods.repository import PaymentMethodRow
from polar_customers.payment_methods.schemas import (
    CustomerPaymentMethodCard,
    CustomerPaymentMethodGeneric,
    CustomerPaymentMethodKrCard,
    PaymentMethod,
)

_KNOWN_TYPES: dict[str, type[CustomerPaymentMethodCard | CustomerPaymentMethodKrCard]] = {
    "card": CustomerPaymentMethodCard,
    "kr_card": CustomerPaymentMethodKrCard,
}


def payment_method(
    row: PaymentMethodRow, version: ApiVersion, *, is_default: bool
) -> PaymentMethod:
    data = {**row, "is_default": is_default}
    known = _KNOWN_TYPES.get(row["type"])
    if known is None:
        return PaymentMethod(CustomerPaymentMethodGeneric.model_validate(data))
    return PaymentMethod(known.model_validate(data))


def payment_method_page(
    rows: Sequence[PaymentMethodRow],
    version: ApiVersion,
    *,
    default_id: uuid.UUID | None,
    total: int,
    pagination: PaginationParams,
) -> ListResource[PaymentMethod]:
    items = [payment_method(row, version, is_default=row["id"] == default_id) for row in rows]
    return ListResource[PaymentMethod].of(items, total_count=total, limit=pagination.limit)
