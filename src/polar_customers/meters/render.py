"""The one way meters, their quantities and customer meters leave the server, in the response
version of the request (kit/versions.py)."""

from collections.abc import Sequence
from datetime import datetime

from polar_customers.customers import render as customers_render
from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion
from polar_customers.meters.customer_meter_schemas import CustomerMeter
from polar_customers.meters.repository import CustomerMeterFull, MeterRow
from polar_customers.meters.schemas import Meter, MeterQuantities, MeterQuantity

# One shape for every version, as customers (docs/decisions.md#d31).
_METER: dict[ApiVersion, type[Meter]] = dict.fromkeys(ApiVersion, Meter)
_CUSTOMER_METER: dict[ApiVersion, type[CustomerMeter]] = dict.fromkeys(ApiVersion, CustomerMeter)


def meter(row: MeterRow, version: ApiVersion) -> Meter:
    return _METER[version].model_validate(row)


def meter_page(
    rows: Sequence[MeterRow], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[Meter]:
    return ListResource[Meter].of(
        [meter(row, version) for row in rows], total_count=total, limit=pagination.limit
    )


def quantities(
    periods: Sequence[tuple[datetime, float]], version: ApiVersion, *, total: float
) -> MeterQuantities:
    return MeterQuantities(
        quantities=[MeterQuantity(timestamp=moment, quantity=value) for moment, value in periods],
        total=total,
    )


def customer_meter(full: CustomerMeterFull, version: ApiVersion) -> CustomerMeter:
    return _CUSTOMER_METER[version].model_validate(
        {
            **full,
            "customer": customers_render.customer(full["customer"], version),
            "meter": meter(full["meter"], version),
        }
    )


def customer_meter_page(
    rows: Sequence[CustomerMeterFull],
    version: ApiVersion,
    *,
    total: int,
    pagination: PaginationParams,
) -> ListResource[CustomerMeter]:
    return ListResource[CustomerMeter].of(
        [customer_meter(row, version) for row in rows], total_count=total, limit=pagination.limit
    )
