"""Base schema and field types reused across resources."""

from typing import Annotated

from pydantic import UUID4, BaseModel, BeforeValidator, ConfigDict, Field


class Schema(BaseModel):
    """Base of every API schema: reads ORM objects, ignores unknown input keys."""

    model_config = ConfigDict(from_attributes=True, extra="ignore")


def _empty_str_to_none(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


EmptyStrToNone = Annotated[str | None, BeforeValidator(_empty_str_to_none)]
"""A string trimmed of surrounding whitespace; empty becomes null."""

ORGANIZATION_ID_EXAMPLE = "1dbfc517-0bbf-4301-9ba8-555ca42b9737"

OrganizationID = Annotated[
    UUID4, Field(description="The organization ID.", examples=[ORGANIZATION_ID_EXAMPLE])
]
