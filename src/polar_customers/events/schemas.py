"""Events as the API takes and shows them, named as in Polar's OpenAPI."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    UUID4,
    AfterValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    StringConstraints,
    Tag,
)

from polar_customers.customers.schemas import Customer
from polar_customers.kit.metadata import METADATA_DESCRIPTION, MetadataInput, MetadataOutput
from polar_customers.kit.schemas import OrganizationID, Schema, StorableStr
from polar_customers.kit.sorting import sort_enum
from polar_customers.kit.time import UtcDatetime, utc_now
from polar_customers.models import EventSource

EventID = Annotated[UUID4, Path(description="The event ID.")]
EventSortProperty = sort_enum("EventSortProperty", ["timestamp"])
EventNamesSortProperty = sort_enum(
    "EventNamesSortProperty", ["name", "occurrences", "first_seen", "last_seen"]
)

# Polar's own limit on names; a batch larger than this one is refused (Polar sets none:
# docs/decisions.md#d42).
MAX_NAME_LENGTH = 128
MAX_EVENTS = 10_000
# The longest external id a customer can be found by here: longer ones are refused.
MAX_EXTERNAL_ID_LENGTH = 1000

_NAME_DESCRIPTION = "The name of the event."
_SOURCE_DESCRIPTION = (
    "The source of the event. `system` events are created by Polar. `user` events are the one "
    "you create through our ingestion API."
)
_CUSTOMER_ID_DESCRIPTION = (
    "ID of the customer in your Polar organization associated with the event."
)
_EXTERNAL_CUSTOMER_ID_DESCRIPTION = "ID of the customer in your system associated with the event."


def _in_the_past(timestamp: datetime) -> datetime:
    if timestamp > utc_now():
        raise ValueError("Timestamp must be in the past.")
    return timestamp


class _EventCreate(Schema):
    metadata: MetadataInput = Field(default_factory=dict, description=METADATA_DESCRIPTION)
    timestamp: Annotated[UtcDatetime, AfterValidator(_in_the_past)] = Field(
        default_factory=utc_now, description="The timestamp of the event."
    )
    name: Annotated[StorableStr, StringConstraints(max_length=MAX_NAME_LENGTH)] = Field(
        description=_NAME_DESCRIPTION
    )
    organization_id: OrganizationID | None = Field(
        default=None,
        description=(
            "The ID of the organization owning the event. "
            "**Required unless you use an organization token.**"
        ),
    )


class EventCreateCustomer(_EventCreate):
    customer_id: UUID4 = Field(description=_CUSTOMER_ID_DESCRIPTION)


class EventCreateExternalCustomer(_EventCreate):
    external_customer_id: Annotated[
        StorableStr, StringConstraints(max_length=MAX_EXTERNAL_ID_LENGTH)
    ] = Field(description=_EXTERNAL_CUSTOMER_ID_DESCRIPTION)


EventCreate = EventCreateCustomer | EventCreateExternalCustomer


def _kind(value: Any) -> str:
    # An event naming `customer_id` is one of a customer; any other, of an external customer.
    if isinstance(value, dict):
        customer = "customer_id" in value
    else:
        customer = type(value) is EventCreateCustomer
    return "EventCreateCustomer" if customer else "EventCreateExternalCustomer"


def _any_of_events(schema: dict[str, Any]) -> None:
    # Validated by its keys (one branch per event, 3 times faster on large batches), shown
    # as Polar's document shows it.
    items = schema["properties"]["events"]["items"]
    items["anyOf"] = items.pop("oneOf")


class EventsIngest(Schema):
    model_config = ConfigDict(json_schema_extra=_any_of_events)

    events: list[
        Annotated[
            Annotated[EventCreateCustomer, Tag("EventCreateCustomer")]
            | Annotated[EventCreateExternalCustomer, Tag("EventCreateExternalCustomer")],
            Discriminator(_kind),
        ]
    ] = Field(max_length=MAX_EVENTS, description="List of events to ingest.")


class EventsIngestResponse(Schema):
    inserted: int = Field(description="Number of events inserted.")


class _Event(Schema):
    id: UUID4 = Field(description="The ID of the object.")
    timestamp: datetime = Field(description="The timestamp of the event.")
    organization_id: UUID4 = Field(
        description="The ID of the organization owning the event.",
        examples=["1dbfc517-0bbf-4301-9ba8-555ca42b9737"],
    )
    customer_id: UUID4 | None = Field(description=_CUSTOMER_ID_DESCRIPTION)
    customer: Customer | None = Field(description="The customer associated with the event.")
    external_customer_id: str | None = Field(description=_EXTERNAL_CUSTOMER_ID_DESCRIPTION)


class UserEvent(_Event):
    """An event you created through the ingestion API."""

    name: str = Field(description=_NAME_DESCRIPTION)
    source: Literal[EventSource.user] = Field(description=_SOURCE_DESCRIPTION)
    metadata: MetadataOutput


class MeterCreditedMetadata(Schema):
    meter_id: str
    units: int
    rollover: bool


class MeterResetMetadata(Schema):
    meter_id: str


class MeterCreditEvent(_Event):
    """An event created by Polar when credits are added to a customer meter."""

    source: Literal[EventSource.system] = Field(description=_SOURCE_DESCRIPTION)
    name: Literal["meter.credited"] = Field(description=_NAME_DESCRIPTION)
    metadata: MeterCreditedMetadata


class MeterResetEvent(_Event):
    """An event created by Polar when a customer meter is reset."""

    source: Literal[EventSource.system] = Field(description=_SOURCE_DESCRIPTION)
    name: Literal["meter.reset"] = Field(description=_NAME_DESCRIPTION)
    metadata: MeterResetMetadata


class SystemEvent(RootModel[Annotated[MeterCreditEvent | MeterResetEvent, Discriminator("name")]]):
    """An event created by Polar (this server creates the meter ones)."""


def _source(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("source"))
    if isinstance(value, SystemEvent):
        return EventSource.system
    return str(getattr(value, "source", ""))


class Event(
    RootModel[
        Annotated[
            Annotated[SystemEvent, Tag(EventSource.system)]
            | Annotated[UserEvent, Tag(EventSource.user)],
            Discriminator(_source),
        ]
    ]
):
    """An event: one you ingested (`user`) or one the server created (`system`)."""


class EventName(Schema):
    name: str = Field(description="The name of the event.")
    source: EventSource = Field(description=_SOURCE_DESCRIPTION)
    occurrences: int = Field(description="Number of times the event has occurred.")
    first_seen: datetime = Field(description="The first time the event occurred.")
    last_seen: datetime = Field(description="The last time the event occurred.")
