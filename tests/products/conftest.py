from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Meter, Organization
from tests.factories import bearer, create_meter, create_organization, create_organization_token

PRODUCT_SCOPES = (Scope.products_read, Scope.products_write)
URL = "/v1/products/"
CreateProduct = Callable[..., Awaitable[dict[str, Any]]]
PRODUCT_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "trial_interval",
    "trial_interval_count",
    "name",
    "description",
    "recurring_interval",
    "is_recurring",
    "is_archived",
    "organization_id",
    "metadata",
    "prices",
    "benefits",
    "medias",
    "attached_custom_fields",
]
PRICE_KEYS = [
    "created_at",
    "modified_at",
    "id",
    "amount_type",
    "is_archived",
    "product_id",
    "type",
    "recurring_interval",
]
FIXED = {"amount_type": "fixed", "price_amount": 1000}
FREE = {"amount_type": "free"}


def product_url(product: dict[str, Any]) -> str:
    return f"{URL}{product['id']}"


def metered(meter: Meter, unit_amount: Any = "0.5", **fields: Any) -> dict[str, Any]:
    return {
        "amount_type": "metered_unit",
        "meter_id": str(meter.id),
        "unit_amount": unit_amount,
        **fields,
    }


def errors(response: httpx.Response, family: str) -> list[tuple[list[Any], str]]:
    """The (loc, msg) of a 422's items, checking which error family it is."""
    assert response.status_code == 422, response.text
    assert response.json()["error"] == family
    return [(error["loc"], error["msg"]) for error in response.json()["detail"]]


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def other_organization(session: AsyncSession) -> Organization:
    return await create_organization(session, name="Other")


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    """An organization token of `organization` with the product scopes."""
    return bearer(
        await create_organization_token(session, organization=organization, scopes=PRODUCT_SCOPES)
    )


@pytest.fixture
async def other_headers(session: AsyncSession, other_organization: Organization) -> dict[str, str]:
    token = await create_organization_token(
        session, organization=other_organization, scopes=PRODUCT_SCOPES
    )
    return bearer(token)


@pytest.fixture
async def meter(session: AsyncSession, organization: Organization) -> Meter:
    return await create_meter(session, organization=organization, name="API calls")


@pytest.fixture
def create_product(client: httpx.AsyncClient, headers: dict[str, str]) -> CreateProduct:
    """`await create_product(**body)`: a product made through the API (a monthly product
    with a fixed price of $10 unless the body says otherwise)."""

    async def create(**body: Any) -> dict[str, Any]:
        body.setdefault("name", "Pro plan")
        body.setdefault("prices", [FIXED])
        if "recurring_interval" not in body:
            body["recurring_interval"] = "month"
        elif body["recurring_interval"] is None:
            del body["recurring_interval"]
        response = await client.post(URL, json=body, headers=headers)
        assert response.status_code == 201, response.text
        product: dict[str, Any] = response.json()
        return product

    return create
