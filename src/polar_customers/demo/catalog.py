"""The demo's catalog, as the bodies of the API calls that create it, by key: meters,
benefits (one of each type this server creates) and products. Each is created with the
`MARKER` metadata, by which (and its name) a later run finds it."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import Principal
from polar_customers.benefits import service as benefits_service
from polar_customers.benefits.schemas import BenefitCreate
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.sorting import SortCriterion
from polar_customers.meters import service as meters_service
from polar_customers.meters.schemas import MeterCreate
from polar_customers.products import service as products_service
from polar_customers.products.schemas import ProductCreate

MARKER = {"demo": "polar-customers"}
PRO_PRICE, YEARLY_PRICE, WORKSHOP_PRICE = 2_900, 29_000, 14_900
_MARKED = {key: [value] for key, value in MARKER.items()}
_ALL = PaginationParams(1, 100)
_OLDEST_FIRST = [SortCriterion("created_at", descending=False)]


def _name_is(value: str) -> dict[str, Any]:
    clause = {"property": "name", "operator": "eq", "value": value}
    return {"conjunction": "and", "clauses": [clause]}


METERS: dict[str, dict[str, Any]] = {
    "api_calls": {
        "name": "API calls",
        "filter": _name_is("api_call"),
        "aggregation": {"func": "count"},
    },
    "data_transfer": {
        "name": "Data transfer (GB)",
        "filter": _name_is("data_transfer"),
        "aggregation": {"func": "sum", "property": "gb"},
    },
}


def benefits(meters: dict[str, uuid.UUID]) -> dict[str, dict[str, Any]]:
    """The benefits, once the meters (by key) have ids."""
    return {
        "support": {
            "type": "custom",
            "description": "Priority support",
            "properties": {"note": "Write to support@example.com: we answer within 4 hours."},
        },
        "license": {
            "type": "license_keys",
            "description": "Desktop app license key",
            "properties": {
                "prefix": "DEMO",
                "activations": {"limit": 3, "enable_customer_admin": True},
            },
        },
        "credits": {
            "type": "meter_credit",
            "description": "10,000 API calls per month",
            "properties": {
                "units": 10_000,
                "rollover": False,
                "meter_id": str(meters["api_calls"]),
            },
        },
    }


def _fixed(amount: int) -> dict[str, Any]:
    return {"amount_type": "fixed", "price_amount": amount, "price_currency": "usd"}


def products(meters: dict[str, uuid.UUID]) -> dict[str, tuple[dict[str, Any], list[str]]]:
    """Each product, and the keys of the benefits it grants, once the meters have ids."""
    overage = {
        "amount_type": "metered_unit",
        "meter_id": str(meters["api_calls"]),
        "unit_amount": "0.05",  # cents per call beyond the credited ones
    }
    return {
        "pro": (
            {
                "name": "Pro",
                "description": "Priority support, a desktop license and 10,000 API calls a month.",
                "recurring_interval": "month",
                "prices": [_fixed(PRO_PRICE), overage],
            },
            ["support", "license", "credits"],
        ),
        "pro_yearly": (
            {
                "name": "Pro (yearly)",
                "description": "Priority support and a desktop license, billed yearly.",
                "recurring_interval": "year",
                "prices": [_fixed(YEARLY_PRICE)],
            },
            ["support", "license"],
        ),
        "free": (
            {"name": "Free", "recurring_interval": "month", "prices": [{"amount_type": "free"}]},
            [],
        ),
        "workshop": (
            {
                "name": "Onboarding workshop",
                "description": "Two hours with an engineer to set up your integration.",
                "prices": [_fixed(WORKSHOP_PRICE)],
            },
            [],
        ),
    }


# Finding or creating it ------------------------------------------------------------------------


@dataclass
class Catalog:
    """The ids of the demo's meters, benefits and products, by key."""

    meters: dict[str, uuid.UUID] = field(default_factory=dict)
    benefits: dict[str, uuid.UUID] = field(default_factory=dict)
    products: dict[str, uuid.UUID] = field(default_factory=dict)
    created: bool = False
    """Whether any of it was created (else it was all found)."""


async def ensure_catalog(session: AsyncSession, principal: Principal, *, now: datetime) -> Catalog:
    """The organization's demo catalog: what it has of it, found by name among the marked
    objects, and the rest created (a new product granting its benefits)."""
    catalog = Catalog()
    await _meters(session, principal, catalog)
    await _benefits(session, principal, catalog)
    await _products(session, principal, catalog, now=now)
    return catalog


async def _meters(session: AsyncSession, principal: Principal, catalog: Catalog) -> None:
    rows, _ = await meters_service.list_meters(
        session, principal.organization_ids, query=None, is_archived=None, metadata=_MARKED,
        pagination=_ALL, sorting=_OLDEST_FIRST,
    )  # fmt: skip
    found = {row["name"]: row["id"] for row in rows}
    for key, spec in METERS.items():
        if spec["name"] not in found:
            create = MeterCreate.model_validate({**spec, "metadata": MARKER})
            row = await meters_service.create_meter(session, principal, create=create)
            found[row["name"]], catalog.created = row["id"], True
        catalog.meters[key] = found[spec["name"]]


async def _benefits(session: AsyncSession, principal: Principal, catalog: Catalog) -> None:
    rows, _ = await benefits_service.list_benefits(
        session, principal.organization_ids, types=None, query=None, metadata=_MARKED,
        pagination=_ALL, sorting=_OLDEST_FIRST,
    )  # fmt: skip
    found = {row["description"]: row["id"] for row in rows}
    for key, spec in benefits(catalog.meters).items():
        if spec["description"] not in found:
            create = BenefitCreate.model_validate({**spec, "metadata": MARKER}).root
            row = await benefits_service.create_benefit(session, principal, create=create)
            found[row["description"]], catalog.created = row["id"], True
        catalog.benefits[key] = found[spec["description"]]


async def _products(
    session: AsyncSession, principal: Principal, catalog: Catalog, *, now: datetime
) -> None:
    rows, _ = await products_service.list_products(
        session, principal.organization_ids, ids=None, query=None, is_archived=None,
        is_recurring=None, benefit_ids=None, metadata=_MARKED, pagination=_ALL,
        sorting=_OLDEST_FIRST,
    )  # fmt: skip
    found = {full.product["name"]: full.product["id"] for full in rows}
    for key, (spec, benefit_keys) in products(catalog.meters).items():
        if spec["name"] not in found:
            benefit_ids = [catalog.benefits[benefit] for benefit in benefit_keys]
            product_id = await _new_product(session, principal, spec, benefit_ids, now=now)
            found[spec["name"]], catalog.created = product_id, True
        catalog.products[key] = found[spec["name"]]


async def _new_product(
    session: AsyncSession,
    principal: Principal,
    spec: dict[str, Any],
    benefit_ids: list[uuid.UUID],
    *,
    now: datetime,
) -> uuid.UUID:
    create = ProductCreate.model_validate({**spec, "metadata": MARKER}).root
    full = await products_service.create_product(session, principal, create=create)
    product_id = full.product["id"]
    if benefit_ids:
        product = await products_service.lock(session, principal, product_id)
        await products_service.update_benefits(
            session, principal, product, benefit_ids=benefit_ids, now=now
        )
    return product_id
