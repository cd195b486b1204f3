"""The one way benefits and their grants leave the server, in the response version of the
request. A grant's customer renders with `customers.render`, in the same version."""

from collections.abc import Sequence
from typing import Any

from polar_customers.benefits.grant_schemas import BenefitGrant
from polar_customers.benefits.repository import BenefitRow, GrantRow
from polar_customers.benefits.schemas import Benefit, grant_properties
from polar_customers.customers import render as customers_render
from polar_customers.kit.pagination import ListResource, PaginationParams
from polar_customers.kit.versions import ApiVersion
from polar_customers.models import BenefitType

_BENEFIT: dict[ApiVersion, type[Benefit]] = dict.fromkeys(ApiVersion, Benefit)
_GRANT: dict[ApiVersion, type[BenefitGrant]] = dict.fromkeys(ApiVersion, BenefitGrant)

# What a type's properties show when a stored document lacks a key (rows written by hand).
_PROPERTY_DEFAULTS: dict[str, dict[str, Any]] = {
    BenefitType.custom: {"note": None},
    BenefitType.license_keys: dict.fromkeys(("prefix", "expires", "activations", "limit_usage")),
}


def benefit(row: BenefitRow, version: ApiVersion) -> Benefit:
    properties = {**_PROPERTY_DEFAULTS.get(row["type"], {}), **row["properties"]}
    return _BENEFIT[version].model_validate(
        {**row, "properties": properties, "selectable": True, "deletable": True}
    )


def benefit_page(
    rows: Sequence[BenefitRow], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[Benefit]:
    return ListResource[Benefit].of(
        [benefit(row, version) for row in rows], total_count=total, limit=pagination.limit
    )


def benefit_grant(row: GrantRow, version: ApiVersion) -> BenefitGrant:
    return _GRANT[version].model_validate(
        {
            **row,
            "customer": customers_render.customer(row["customer"], version),
            "benefit": benefit(row["benefit"], version),
            "properties": grant_properties(row["benefit"]["type"], row["properties"]),
        }
    )


def benefit_grant_page(
    rows: Sequence[GrantRow], version: ApiVersion, *, total: int, pagination: PaginationParams
) -> ListResource[BenefitGrant]:
    return ListResource[BenefitGrant].of(
        [benefit_grant(row, version) for row in rows], total_count=total, limit=pagination.limit
    )
