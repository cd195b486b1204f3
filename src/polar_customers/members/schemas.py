"""Read, create and update schemas of members, named as in Polar's OpenAPI."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import UUID4, AfterValidator, Field

from polar_customers.kit.email import EmailStrDNS
from polar_customers.kit.schemas import (
    CREATED_AT_DESCRIPTION,
    MODIFIED_AT_DESCRIPTION,
    ExternalIDStr,
    NameStr,
    Schema,
    empty_to_none,
)
from polar_customers.kit.sorting import sort_enum
from polar_customers.models import MemberRole

MemberSortProperty = sort_enum("MemberSortProperty", ["created_at"])

EMAIL_DESCRIPTION = "The email address of the member."
EXTERNAL_ID_DESCRIPTION = (
    "The ID of the member in your system. This must be unique within the customer. "
)


MemberNameInput = Annotated[
    NameStr | None, Field(description="The name of the member.", examples=["Jane Doe"])
]
MemberExternalIDInput = Annotated[
    ExternalIDStr | None,
    AfterValidator(empty_to_none),
    Field(description=EXTERNAL_ID_DESCRIPTION, examples=["usr_1337"]),
]


class Member(Schema):
    """A member of a customer."""

    id: UUID4 = Field(description="The ID of the member.")
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    customer_id: UUID4 = Field(description="The ID of the customer this member belongs to.")
    email: str = Field(description=EMAIL_DESCRIPTION, examples=["member@example.com"])
    name: str | None = Field(description="The name of the member.", examples=["Jane Doe"])
    external_id: str | None = Field(description=EXTERNAL_ID_DESCRIPTION, examples=["usr_1337"])
    role: MemberRole = Field(
        description="The role of the member within the customer.", examples=["owner"]
    )


class MemberCreateFromCustomer(Schema):
    """A new member of the customer named in the path."""

    email: EmailStrDNS = Field(description=EMAIL_DESCRIPTION, examples=["member@example.com"])
    name: MemberNameInput = None
    external_id: MemberExternalIDInput = None
    # Ownership is given when the customer is created, and moved with an update.
    role: Literal[MemberRole.member, MemberRole.billing_manager] = Field(
        default=MemberRole.member,
        description=(
            "The role of the member within the customer. To assign or transfer ownership, use "
            "the member update endpoint."
        ),
        examples=["member"],
    )


class MemberUpdate(Schema):
    """Fields absent from the body, or null, are left unchanged."""

    name: MemberNameInput = None
    email: EmailStrDNS | None = None
    role: MemberRole | None = Field(
        default=None, description="The role of the member within the customer."
    )
