"""How a benefit grant appears in its customer's state, named as in Polar's OpenAPI."""

from datetime import datetime
from typing import Literal

from pydantic import UUID4, Field
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from polar_customers.kit.metadata import MetadataOutput
from polar_customers.kit.schemas import CREATED_AT_DESCRIPTION, MODIFIED_AT_DESCRIPTION, Schema
from polar_customers.models import BenefitType


# `properties` of a grant, by benefit type; keys absent from the stored properties are absent.
class BenefitGrantDiscordProperties(TypedDict, total=False):
    account_id: str | None
    guild_id: str
    role_id: str
    granted_account_id: str


class BenefitGrantGitHubRepositoryProperties(TypedDict, total=False):
    account_id: str | None
    repository_owner: str
    repository_name: str
    permission: Literal["pull", "triage", "push", "maintain", "admin"]
    granted_account_id: str


class BenefitGrantDownloadablesProperties(TypedDict, total=False):
    files: list[str]


class BenefitGrantLicenseKeysProperties(TypedDict, total=False):
    license_key_id: str
    display_key: str


class BenefitGrantCustomProperties(TypedDict, total=False):
    pass


class CustomerStateBenefitGrant(Schema):
    """An active benefit grant for a customer."""

    id: UUID4 = Field(
        description="The ID of the grant.", examples=["d322132c-a9d0-4e0d-b8d3-d81ad021a3a9"]
    )
    created_at: datetime = Field(description=CREATED_AT_DESCRIPTION)
    modified_at: datetime | None = Field(description=MODIFIED_AT_DESCRIPTION)
    granted_at: datetime = Field(
        description="The timestamp when the benefit was granted.",
        examples=["2025-01-03T13:37:00Z"],
    )
    benefit_id: UUID4 = Field(
        description="The ID of the benefit concerned by this grant.",
        examples=["397a17aa-15cf-4cb4-9333-18040203cf98"],
    )
    benefit_type: BenefitType = Field(
        description="The type of the benefit concerned by this grant.", examples=["custom"]
    )
    benefit_metadata: MetadataOutput = Field(
        description="The metadata of the benefit concerned by this grant.",
        examples=[{"key": "value"}],
    )
    properties: (
        BenefitGrantDiscordProperties
        | BenefitGrantGitHubRepositoryProperties
        | BenefitGrantDownloadablesProperties
        | BenefitGrantLicenseKeysProperties
        | BenefitGrantCustomProperties
    )
