"""The one way orders, payments and refunds leave the server, in the response version of the
request (kit/versions.py). Embedded customers render through `customers.render`."""

from collections.abc import Sequence
from typing import Any

from polar_customers.customers import render as customers_render
from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion
from polar_customers.models import OrderStatus
from polar_customers.orders.ledger_repository import PaymentRow, RefundRow
from polar_customers.orders.ledger_schemas import Payment, Refund, RefundStatus
from polar_customers.orders.repository import OrderRow, Related
from polar_customers.orders.schemas import (
    Order,
    OrderItemSchema,
    OrderProduct,
    OrderSubscription,
)

# One shape serves every version (docs/decisions.md#d31).
_ORDER: dict[ApiVersion, type[Order]] = dict.fromkeys(ApiVersion, Order)
_PAYMENT: dict[ApiVersion, type[Payment]] = dict.fromkeys(ApiVersion, Payment)
_REFUND: dict[ApiVersion, type[Refund]] = dict.fromkeys(ApiVersion, Refund)

PAID_STATUSES = frozenset({OrderStatus.paid, OrderStatus.partially_refunded, OrderStatus.refunded})


def _product(row: dict[str, Any] | None) -> OrderProduct | None:
    if row is None:
        return None
    return OrderProduct.model_validate(
        {
            **row,
            "metadata": row["user_metadata"],
            "is_recurring": row["recurring_interval"] is not None,
        }
    )


def _subscription(row: dict[str, Any] | None) -> OrderSubscription | None:
    if row is None:
        return None
    return OrderSubscription.model_validate({**row, "metadata": row["user_metadata"]})


def _amounts(row: OrderRow) -> dict[str, Any]:
    net = row["subtotal_amount"] - row["discount_amount"]
    total = net + row["tax_amount"]
    return {
        "paid": row["status"] in PAID_STATUSES,
        "net_amount": net,
        "total_amount": total,
        "applied_balance_amount": 0,  # balances are not applied to orders here
        "due_amount": max(0, total),
    }


def order(row: OrderRow, related: Related, version: ApiVersion) -> Order:
    customer = related.customers[row["customer_id"]]
    product_id = row["product_id"]
    subscription_id = row["subscription_id"]
    return _ORDER[version].model_validate(
        {
            **row,
            **_amounts(row),
            # An order made before invoice numbers were assigned shows its id instead.
            "invoice_number": row["invoice_number"] or str(row["id"]),
            "is_invoice_generated": False,
            "discount_id": None,
            "metadata": row["user_metadata"],
            "platform_fee_amount": 0,
            "customer": customers_render.customer(customer, version),
            "user_id": row["customer_id"],
            "product": _product(related.products.get(product_id) if product_id else None),
            "discount": None,
            "subscription": _subscription(
                related.subscriptions.get(subscription_id) if subscription_id else None
            ),
            "items": [OrderItemSchema.model_validate(item) for item in related.items[row["id"]]],
        }
    )


def order_page(
    rows: Sequence[OrderRow],
    related: Related,
    version: ApiVersion,
    *,
    total: int,
    pagination: PaginationParams,
) -> ListResource[Order]:
    return ListResource[Order].of(
        [order(row, related, version) for row in rows], total_count=total, limit=pagination.limit
    )


def payment(row: PaymentRow, version: ApiVersion) -> Payment:
    return _PAYMENT[version].model_validate(row)


def payment_page(
    rows: Sequence[PaymentRow], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[Payment]:
    return ListResource[Payment].of(
        [payment(row, version) for row in rows], total_count=total, limit=pagination.limit
    )


def refund(row: RefundRow, version: ApiVersion) -> Refund:
    # A refund is recorded once the money went back: it has succeeded.
    return _REFUND[version].model_validate(
        {**row, "metadata": row["user_metadata"], "status": RefundStatus.succeeded}
    )


def refund_page(
    rows: Sequence[RefundRow], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[Refund]:
    return ListResource[Refund].of(
        [refund(row, version) for row in rows], total_count=total, limit=pagination.limit
    )
