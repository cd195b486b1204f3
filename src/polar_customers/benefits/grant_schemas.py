"""A benefit grant as `/v1/benefit-grants` and `/v1/benefits/{id}/grants` show it: with its
customer and its benefit. Apart from `schemas.py`, which customers' schemas import."""

from datetime import datetime
from typing import Any

from pydantic import UUID4, Field, model_validator

from polar_customers.benefits.schemas import (
    Benefit,
    BenefitGrantCustomProperties,
    BenefitGrantDiscordProperties,
    BenefitGrantDownloadablesProperties,
    BenefitGrantGitHubRepositoryProperties,
    BenefitGrantLicenseKeysProperties,
)
from polar_customers.customers.schemas import Customer
from polar_customers.kit.schemas import CREATED_AT_DESCRIPTION, MODIFIED_AT_DESCRIPTION, Schema


class BenefitGrantError(Schema):
    message: str
    type: str
    timestamp: str


class BenefitGrant(Schema):
    """A grant of a benefit to a customer."""

    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    id: UUID4 = Field(description="The ID of the grant.")
    granted_at: datetime | None = Field(
        default=None,
        description=(
            "The timestamp when the benefit was granted. If `None`, the benefit is not granted."
        ),
    )
    is_granted: bool = Field(description="Whether the benefit is granted.")
    revoked_at: datetime | None = Field(
        default=None,
        description=(
            "The timestamp when the benefit was revoked. If `None`, the benefit is not revoked."
        ),
    )
    is_revoked: bool = Field(description="Whether the benefit is revoked.")
    subscription_id: UUID4 | None = Field(
        description="The ID of the subscription that granted this benefit."
    )
    order_id: UUID4 | None = Field(description="The ID of the order that granted this benefit.")
    customer_id: UUID4 = Field(description="The ID of the customer concerned by this grant.")
    benefit_id: UUID4 = Field(description="The ID of the benefit concerned by this grant.")
    # Grants here never fail: nothing they do waits on a third party.
    error: BenefitGrantError | None = Field(
        default=None,
        description=(
            "The error information if the benefit grant failed with an unrecoverable error."
        ),
    )
    customer: Customer
    benefit: Benefit
    properties: (
        BenefitGrantDiscordProperties
        | BenefitGrantGitHubRepositoryProperties
        | BenefitGrantDownloadablesProperties
        | BenefitGrantLicenseKeysProperties
        | BenefitGrantCustomProperties
    )

    @model_validator(mode="before")
    @classmethod
    def _states_from_timestamps(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {
                **data,
                "is_granted": data.get("granted_at") is not None,
                "is_revoked": data.get("revoked_at") is not None,
            }
        return data
