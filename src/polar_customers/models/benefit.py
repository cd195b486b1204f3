from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from polar_customers.kit.db_types import JSONDocument
from polar_customers.models.base import RecordModel, TenantMixin, one_of


class BenefitType(StrEnum):
    custom = "custom"
    discord = "discord"
    github_repository = "github_repository"
    downloadables = "downloadables"
    license_keys = "license_keys"
    meter_credit = "meter_credit"


class Benefit(TenantMixin, RecordModel):
    """Something a customer is granted with a purchase (a license key, meter credits...).
    `properties` holds the type's settings (its `*Properties` schema)."""

    __tablename__ = "benefits"

    type: Mapped[str] = mapped_column(String)
    description: Mapped[str] = mapped_column(String)
    properties: Mapped[dict[str, Any]] = mapped_column(
        JSONDocument, default=dict, server_default="{}"
    )
    user_metadata: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)

    __table_args__ = (one_of("type", BenefitType),)
