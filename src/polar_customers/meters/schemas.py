"""Meters, their filters and aggregations, their quantities and the customer meters, named as
in Polar's OpenAPI; and how a customer's meter appears in its state."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    UUID4,
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    TypeAdapter,
)

from polar_customers.kit.metadata import MetadataInput, MetadataOutput
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    METER_ID_EXAMPLE,
    MODIFIED_AT_DESCRIPTION,
    OrganizationID,
    Schema,
    StorableStr,
)
from polar_customers.kit.sorting import sort_enum

MeterID = Annotated[UUID4, Path(description="The meter ID.")]
CustomerMeterID = Annotated[UUID4, Path(description="The customer meter ID.")]
MeterSortProperty = sort_enum("MeterSortProperty", ["created_at", "name"])
CustomerMeterSortProperty = sort_enum(
    "CustomerMeterSortProperty",
    [
        "created_at",
        "modified_at",
        "customer_id",
        "customer_name",
        "meter_id",
        "meter_name",
        "consumed_units",
        "credited_units",
        "balance",
    ],
)

# Polar sets no bounds on filters; these keep a filter small enough to evaluate per event
# on ingestion.
MAX_FILTER_DEPTH = 5
MAX_FILTER_CLAUSES = 100
MAX_PROPERTY_LENGTH = 200
MAX_FILTER_STRING_LENGTH = 1000  # Polar's
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
METADATA_PREFIX = "metadata."


class FilterOperator(StrEnum):
    eq = "eq"
    ne = "ne"
    gt = "gt"
    gte = "gte"
    lt = "lt"
    lte = "lte"
    like = "like"
    not_like = "not_like"


class FilterConjunction(StrEnum):
    and_ = "and"
    or_ = "or"


def _without_metadata_prefix(value: str) -> str:
    return value.removeprefix(METADATA_PREFIX)


Property = Annotated[
    StorableStr,
    StringConstraints(min_length=1, max_length=MAX_PROPERTY_LENGTH),
    AfterValidator(_without_metadata_prefix),
]
"""An event property: `name`, `source`, `timestamp`, or a metadata key (`metadata.` is
optional and not kept)."""
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]


class FilterClause(Schema):
    property: Property
    operator: FilterOperator
    value: (
        Annotated[StorableStr, StringConstraints(max_length=MAX_FILTER_STRING_LENGTH)]
        | Int32
        | bool
    )


class Filter(Schema):
    # One schema for input and output, as in Polar's document.
    model_config = ConfigDict(json_schema_mode_override="serialization")

    conjunction: FilterConjunction
    clauses: list["FilterClause | Filter"]


def _bounded_filter(value: Any) -> Any:
    """Refuse, before validating it, a filter nested too deep or with too many clauses."""
    clauses = 0
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if not isinstance(node, dict) or not isinstance(node.get("clauses"), list):
            continue
        if depth > MAX_FILTER_DEPTH:
            raise ValueError(f"A filter can nest at most {MAX_FILTER_DEPTH} levels.")
        clauses += len(node["clauses"])
        if clauses > MAX_FILTER_CLAUSES:
            raise ValueError(f"A filter can hold at most {MAX_FILTER_CLAUSES} clauses.")
        pending.extend((child, depth + 1) for child in node["clauses"])
    return value


FilterInput = Annotated[Filter, BeforeValidator(_bounded_filter)]


class AggregationFunction(StrEnum):
    cnt = "count"  # `count` is a method of str
    sum = "sum"
    max = "max"
    min = "min"
    avg = "avg"
    unique = "unique"


class CountAggregation(Schema):
    func: Literal[AggregationFunction.cnt] = AggregationFunction.cnt


class PropertyAggregation(Schema):
    func: Literal[
        AggregationFunction.sum,
        AggregationFunction.max,
        AggregationFunction.min,
        AggregationFunction.avg,
    ]
    property: Property


class UniqueAggregation(Schema):
    func: Literal[AggregationFunction.unique] = AggregationFunction.unique
    property: Property


Aggregation = Annotated[
    CountAggregation | PropertyAggregation | UniqueAggregation, Discriminator("func")
]

NAME_DESCRIPTION = "The name of the meter. Will be shown on customer's invoices and usage."
FILTER_DESCRIPTION = "The filter to apply on events that'll be used to calculate the meter."
AGGREGATION_DESCRIPTION = "The aggregation to apply on the filtered events to calculate the meter."
MeterName = Annotated[StorableStr, StringConstraints(min_length=3, max_length=400)]


class Meter(Schema):
    metadata: MetadataOutput = Field(validation_alias="user_metadata")
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description="The ID of the object.")
    name: str = Field(description=NAME_DESCRIPTION)
    filter: Filter = Field(description=FILTER_DESCRIPTION)
    aggregation: Aggregation = Field(description=AGGREGATION_DESCRIPTION)
    organization_id: UUID4 = Field(description="The ID of the organization owning the meter.")
    archived_at: datetime | None = Field(
        default=None, description="Whether the meter is archived and the time it was archived."
    )


class MeterCreate(Schema):
    metadata: MetadataInput = Field(default_factory=dict)
    name: MeterName = Field(description=NAME_DESCRIPTION)
    filter: FilterInput = Field(description=FILTER_DESCRIPTION)
    aggregation: Aggregation = Field(description=AGGREGATION_DESCRIPTION)
    organization_id: OrganizationID | None = Field(
        default=None,
        description=(
            "The ID of the organization owning the meter. "
            "**Required unless you use an organization token.**"
        ),
    )


class MeterUpdate(Schema):
    """Fields absent from the body (or null) are left unchanged."""

    metadata: MetadataInput | None = None
    name: MeterName | None = Field(default=None, description=NAME_DESCRIPTION)
    filter: FilterInput | None = Field(default=None, description=FILTER_DESCRIPTION)
    aggregation: Aggregation | None = Field(default=None, description=AGGREGATION_DESCRIPTION)
    is_archived: bool | None = Field(
        default=None,
        description=(
            "Whether the meter is archived. Archived meters are no longer used for billing."
        ),
    )


class TimeInterval(StrEnum):
    year = "year"
    month = "month"
    week = "week"
    day = "day"
    hour = "hour"


class MeterQuantity(Schema):
    timestamp: datetime = Field(description="The timestamp for the current period.")
    quantity: float = Field(description="The quantity for the current period.", examples=[10.0])


class MeterQuantities(Schema):
    quantities: list[MeterQuantity]
    total: float = Field(description="The total quantity for the period.", examples=[100.0])


# Customer meters ------------------------------------------------------------------------------

BALANCE_DESCRIPTION = (
    "The balance of the meter, i.e. the difference between credited and consumed units."
)


class CustomerStateMeter(Schema):
    """An active meter for a customer, with latest consumed and credited units."""

    id: UUID4 = Field(description="The ID of the object.")
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    meter_id: UUID4 = Field(description="The ID of the meter.", examples=[METER_ID_EXAMPLE])
    consumed_units: float = Field(description="The number of consumed units.", examples=[25.0])
    credited_units: int = Field(description="The number of credited units.", examples=[100])
    balance: float = Field(description=BALANCE_DESCRIPTION, examples=[75.0])


AGGREGATION: TypeAdapter[CountAggregation | PropertyAggregation | UniqueAggregation] = TypeAdapter(
    Aggregation
)
"""Reads a stored aggregation."""
