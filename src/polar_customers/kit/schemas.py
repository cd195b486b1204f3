"""Base schema and field types reused across resources."""

from collections.abc import Sequence
from typing import Annotated

from pydantic import (
    UUID4,
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)


class Schema(BaseModel):
    """Base of every API schema: reads ORM objects, ignores unknown input keys."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")


UNSTORABLE_MESSAGE = "NUL characters and unpaired surrogates are not allowed"


def is_storable(value: str) -> bool:
    """Whether both databases can store `value`: no NUL, encodable as UTF-8."""
    if "\x00" in value:
        return False
    if value.isascii():  # no surrogate: skips the copy `encode` makes
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def matchable(values: Sequence[str]) -> list[str]:
    """The filter values that a stored string can equal: a NUL or lone surrogate matches
    nothing, and PostgreSQL refuses it as a parameter (docs/decisions.md#d12)."""
    return [value for value in values if is_storable(value)]


def storable(value: str) -> str:
    if not is_storable(value):
        raise ValueError(UNSTORABLE_MESSAGE)
    return value


def storable_if_str(value: object) -> object:
    return storable(value) if isinstance(value, str) else value


def empty_to_none(value: str | None) -> str | None:
    """An empty identifier is no identifier (docs/decisions.md#d3)."""
    return value or None


StorableStr = Annotated[str, AfterValidator(storable)]
"""A string the databases can store: JSON allows NUL and lone surrogates, they do not
(docs/decisions.md#d12)."""

# Customer names and the external ids of customers and members are kept in btree (and
# trigram) indexes, whose entries PostgreSQL caps at 2704 bytes: 256 characters of up to 4
# bytes each fit with room to spare. Member names share the limit: an owner member takes
# its customer's name (docs/decisions.md#d45).
MAX_NAME_LENGTH = 256
MAX_EXTERNAL_ID_LENGTH = 256

# Storability is checked first, on the raw input: pydantic's length check would fail on an
# unpaired surrogate with its own `string_unicode` error instead (docs/decisions.md#d12).
NameStr = Annotated[
    str, StringConstraints(max_length=MAX_NAME_LENGTH), BeforeValidator(storable_if_str)
]
"""The name of a customer or a member."""
ExternalIDStr = Annotated[
    str, StringConstraints(max_length=MAX_EXTERNAL_ID_LENGTH), BeforeValidator(storable_if_str)
]
"""The ID of a customer or a member in the caller's system."""


def _empty_str_to_none(value: object) -> object:
    if isinstance(value, str):
        value = storable(value).strip()
        return value or None
    return value


EmptyStrToNone = Annotated[str | None, BeforeValidator(_empty_str_to_none)]
"""A string trimmed of surrounding whitespace; empty becomes null."""

ORGANIZATION_ID_EXAMPLE = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"

OrganizationID = Annotated[
    UUID4, Field(description="The organization ID.", examples=[ORGANIZATION_ID_EXAMPLE])
]

CREATED_AT_DESCRIPTION = "Creation timestamp of the object."
MODIFIED_AT_DESCRIPTION = "Last modification timestamp of the object."
METER_ID_EXAMPLE = "d498a884-e2cd-4d3e-8002-f536468a8b22"
