"""The one way events leave the server, in the response version of the request."""

from collections.abc import Sequence
from typing import Any

from polar_customers.customers import render as customers_render
from polar_customers.events.repository import EventFull
from polar_customers.events.schemas import (
    Event,
    EventName,
    MeterCreditEvent,
    MeterResetEvent,
    SystemEvent,
    UserEvent,
)
from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion
from polar_customers.models import EventSource

_SYSTEM: dict[str, type[MeterCreditEvent] | type[MeterResetEvent]] = {
    "meter.credited": MeterCreditEvent,
    "meter.reset": MeterResetEvent,
}


def event(full: EventFull, version: ApiVersion) -> Event:
    customer = full["customer"]
    document: dict[str, Any] = {
        **full,
        "metadata": full["user_metadata"],
        "customer": None if customer is None else customers_render.customer(customer, version),
    }
    if full["source"] == EventSource.user:
        return Event(UserEvent.model_validate(document))
    return Event(SystemEvent(_SYSTEM[full["name"]].model_validate(document)))


def event_page(
    rows: Sequence[EventFull], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[Event]:
    return ListResource[Event].of(
        [event(row, version) for row in rows], total_count=total, limit=pagination.limit
    )


def name_page(
    rows: Sequence[dict[str, Any]],
    version: ApiVersion,
    *,
    total: int,
    pagination: PaginationParams,
) -> ListResource[EventName]:
    return ListResource[EventName].of(
        [EventName.model_validate(row) for row in rows], total_count=total, limit=pagination.limit
    )
