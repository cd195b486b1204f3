"""User metadata: the input and output types, and the `metadata[key]=value` list filter."""

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import Request
from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError
from sqlalchemy import ColumnElement, String, and_, case, cast, exists, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import type_coerce

from polar_customers.kit.schemas import UNSTORABLE_MESSAGE, is_storable

MAX_KEYS = 50
METADATA_DESCRIPTION = (
    "Key-value object allowing you to store additional information.\n\n"
    "The key must be a string with a maximum length of **40 characters**.\n"
    "The value must be either:\n\n"
    "* A string with a maximum length of **500 characters**\n"
    "* An integer\n* A floating-point number\n* A boolean\n\n"
    f"You can store up to **{MAX_KEYS} key-value pairs**."
)

MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
MetadataValue = Annotated[str, StringConstraints(min_length=1, max_length=500)] | int | float | bool


def _storable_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    # Checked on the whole object so that member errors keep Polar's union labels.
    for key, value in metadata.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise PydanticCustomError("finite_number", "Input should be a finite number")
        if not is_storable(key) or (isinstance(value, str) and not is_storable(value)):
            raise ValueError(UNSTORABLE_MESSAGE)
    return metadata


MetadataInput = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(max_length=MAX_KEYS, description=METADATA_DESCRIPTION),
    AfterValidator(_storable_metadata),
]
MetadataOutput = dict[str, str | int | float | bool]

METADATA_QUERY_OPENAPI: dict[str, Any] = {
    "name": "metadata",
    "in": "query",
    "required": False,
    "style": "deepObject",
    "schema": {"$ref": "#/components/schemas/MetadataQuery"},
    "description": (
        "Filter by metadata key-value pairs. It uses the `deepObject` style, "
        "e.g. `?metadata[key]=value`."
    ),
}
METADATA_QUERY_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "integer"},
                    {"type": "boolean"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "array", "items": {"type": "integer"}},
                    {"type": "array", "items": {"type": "boolean"}},
                ]
            },
        },
        {"type": "null"},
    ],
    "title": "MetadataQuery",
}

_QUERY_KEY = re.compile(r"^metadata\[([^\]]+)\]")
_JSON_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")


async def get_metadata_query(request: Request) -> dict[str, list[str]]:
    """The `metadata[key]=value` pairs of the query string; repeated keys collect values."""
    filters: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        match = _QUERY_KEY.match(name)
        if match is not None:
            filters.setdefault(match.group(1), []).append(value)
    return filters


def _json_candidates(value: str) -> list[Any]:
    """JSON values whose unquoted text rendering can equal `value`."""
    candidates: list[Any] = [value]
    if value in ("true", "false"):
        candidates.append(value == "true")
    elif _JSON_NUMBER.fullmatch(value):
        candidates.append(json.loads(value))
    return candidates


def metadata_matches(
    column: Any, key: str, values: Sequence[str], *, dialect: str
) -> ColumnElement[bool]:
    """True where the value at `key`, rendered as unquoted JSON text, is one of `values`."""
    if dialect == "postgresql":
        # Containment can use the GIN index; the text comparison keeps the exact semantics.
        document = type_coerce(column, JSONB)
        contained = or_(*(document.contains({key: c}) for v in values for c in _json_candidates(v)))
        return and_(contained, column[key].as_string().in_(values))
    entry = func.json_each(column).table_valued("key", "value", "type").alias("metadata_entry")
    rendered = case(
        (entry.c.type.in_(("true", "false")), entry.c.type),
        (entry.c.type == "text", entry.c.value),
        else_=cast(entry.c.value, String),
    )
    return exists(select(1).select_from(entry).where(entry.c.key == key, rendered.in_(values)))


def metadata_filters(
    column: Any, metadata: Mapping[str, Sequence[str]], *, dialect: str
) -> ColumnElement[bool]:
    """Rows whose metadata matches every `metadata[key]=value` filter (any value of a key)."""
    return and_(
        *(
            metadata_matches(column, key, values, dialect=dialect)
            for key, values in metadata.items()
        )
    )
