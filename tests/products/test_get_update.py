"""GET and PATCH /v1/products/{id}"""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Meter, Organization, ProductPrice
from tests.factories import bearer, create_organization_token
from tests.products.conftest import (
    FIXED,
    FREE,
    URL,
    CreateProduct,
    errors,
    metered,
    product_url,
)

NOT_FOUND = {"error": "ResourceNotFound", "detail": "Not found"}


async def patch(
    client: httpx.AsyncClient, headers: dict[str, str], product: dict[str, Any], body: Any
) -> httpx.Response:
    return await client.patch(product_url(product), json=body, headers=headers)


async def price_rows(session: AsyncSession, product: dict[str, Any]) -> dict[str, bool]:
    """Every price of the product, archived or not: id -> is_archived."""
    statement = select(ProductPrice.id, ProductPrice.is_archived).where(
        ProductPrice.product_id == uuid.UUID(product["id"])
    )
    return {str(id): archived for id, archived in (await session.execute(statement)).tuples()}


class TestGetProduct:
    async def test_valid(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product(metadata={"k": "v"})
        response = await client.get(product_url(product), headers=headers)
        assert response.status_code == 200
        assert response.json() == product

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(f"{URL}{uuid.uuid4()}", headers=headers)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        other_headers: dict[str, str],
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        response = await client.get(product_url(product), headers=other_headers)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
        body = {"name": "Mine"}
        patched = await client.patch(product_url(product), json=body, headers=other_headers)
        assert (patched.status_code, patched.json()) == (404, NOT_FOUND)
        benefits = await client.post(
            f"{product_url(product)}/benefits", json={"benefits": []}, headers=other_headers
        )
        assert (benefits.status_code, benefits.json()) == (404, NOT_FOUND)
        assert (await client.get(product_url(product), headers=headers)).json() == product

    async def test_malformed_id(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(f"{URL}not-a-uuid", headers=headers)
        [(loc, _)] = errors(response, "RequestValidationError")
        assert loc == ["path", "id"]

    async def test_archived_product(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        await patch(client, headers, product, {"is_archived": True})
        response = await client.get(product_url(product), headers=headers)
        assert response.status_code == 200
        assert response.json()["is_archived"] is True

    async def test_anonymous_and_missing_scope(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        assert (await client.get(product_url(product))).status_code == 401
        token = await create_organization_token(session, organization=organization)
        response = await client.get(product_url(product), headers=bearer(token))
        assert response.status_code == 403
        assert "insufficient_scope" in response.headers["www-authenticate"]


class TestUpdateProduct:
    async def test_fields(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product(description="Old", metadata={"a": 1})
        body = {"name": " Pro plus ", "description": "New", "metadata": {"b": True}}
        response = await patch(client, headers, product, body)
        assert response.status_code == 200, response.text
        updated = response.json()
        assert (updated["name"], updated["description"], updated["metadata"]) == (
            "Pro plus",
            "New",
            {"b": True},
        )
        assert updated["modified_at"] is not None
        assert updated["prices"] == product["prices"]
        assert (await client.get(product_url(product), headers=headers)).json() == updated

    async def test_absent_and_null_fields(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product(description="Old", metadata={"a": 1})
        body = {"name": None, "is_archived": None, "prices": None, "recurring_interval": None}
        response = await patch(client, headers, product, {**body, "description": None})
        assert response.status_code == 200, response.text
        updated = response.json()
        assert updated["description"] is None
        unchanged = ("name", "metadata", "is_archived", "prices", "recurring_interval")
        assert {key: updated[key] for key in unchanged} == {key: product[key] for key in unchanged}

    async def test_empty_body(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        response = await patch(client, headers, product, {})
        assert response.status_code == 200
        assert response.json() == product

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"name": "ab"}, ["body", "name"]),
            ({"metadata": None}, ["body", "metadata"]),
            ({"medias": [str(uuid.uuid4())]}, ["body", "medias"]),
            (
                {"attached_custom_fields": [{"custom_field_id": str(uuid.uuid4()), "required": 1}]},
                ["body", "attached_custom_fields"],
            ),
            ({"trial_interval_count": 3}, ["body"]),
            ({"prices": [{"amount_type": "custom"}]}, ["body", "prices", 0, "amount_type"]),
            ({"prices": [{"id": "nope"}]}, ["body", "prices", 0, "id"]),
            ({"is_archived": "maybe"}, ["body", "is_archived"]),
        ],
    )
    async def test_invalid_body(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        create_product: CreateProduct,
        body: dict[str, Any],
        loc: list[Any],
    ) -> None:
        product = await create_product()
        response = await patch(client, headers, product, body)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == loc

    async def test_empty_medias_and_custom_fields(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        body: dict[str, list[Any]] = {"medias": [], "attached_custom_fields": []}
        response = await patch(client, headers, product, body)
        assert response.status_code == 200, response.text

    async def test_recurring_interval_cannot_change(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        same = await patch(client, headers, product, {"recurring_interval": "month"})
        assert same.status_code == 200, same.text
        response = await patch(client, headers, product, {"recurring_interval": "year"})
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "recurring_interval"], "Recurring interval cannot be changed.")
        ]
        one_time = await create_product(recurring_interval=None)
        response = await patch(client, headers, one_time, {"recurring_interval": "month"})
        assert response.status_code == 422

    async def test_trial(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        body = {"trial_interval": "day", "trial_interval_count": 14}
        response = await patch(client, headers, product, body)
        assert response.status_code == 200, response.text
        assert (response.json()["trial_interval"], response.json()["trial_interval_count"]) == (
            "day",
            14,
        )
        cleared = await patch(client, headers, product, {"trial_interval": None})
        assert (cleared.json()["trial_interval"], cleared.json()["trial_interval_count"]) == (
            None,
            None,
        )

    async def test_trial_on_a_one_time_product(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product(recurring_interval=None)
        body = {"trial_interval": "day", "trial_interval_count": 14}
        response = await patch(client, headers, product, body)
        message = "Trial configuration is only supported on recurring products."
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "trial_interval"], message),
            (["body", "trial_interval_count"], message),
        ]

    async def test_archive_and_unarchive(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        archived = await patch(client, headers, product, {"is_archived": True})
        assert archived.status_code == 200, archived.text
        assert archived.json()["is_archived"] is True
        assert archived.json()["prices"] == product["prices"]
        restored = await patch(client, headers, product, {"is_archived": False})
        assert restored.json()["is_archived"] is False

    async def test_anonymous_and_read_scope(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        assert (await client.patch(product_url(product), json={})).status_code == 401
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.products_read]
        )
        response = await client.patch(product_url(product), json={}, headers=bearer(token))
        assert response.status_code == 403
        assert 'scope="products:write web:write"' in response.headers["www-authenticate"]

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.patch(f"{URL}{uuid.uuid4()}", json={}, headers=headers)
        assert (response.status_code, response.json()) == (404, NOT_FOUND)


class TestUpdatePrices:
    async def test_replace_the_price(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        [old] = product["prices"]
        new_price = {"amount_type": "fixed", "price_amount": 1500}
        response = await patch(client, headers, product, {"prices": [new_price]})
        assert response.status_code == 200, response.text
        [new] = response.json()["prices"]
        assert new["id"] != old["id"]
        assert (new["price_amount"], new["type"], new["recurring_interval"]) == (
            1500,
            "recurring",
            "month",
        )
        assert await price_rows(session, product) == {old["id"]: True, new["id"]: False}

    async def test_keep_and_add(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        create_product: CreateProduct,
        meter: Meter,
    ) -> None:
        product = await create_product()
        [kept] = product["prices"]
        body = {"prices": [metered(meter, "1.25"), {"id": kept["id"]}]}
        response = await patch(client, headers, product, body)
        assert response.status_code == 200, response.text
        fixed, usage = response.json()["prices"]
        assert fixed == kept
        assert (usage["amount_type"], usage["unit_amount"]) == ("metered_unit", "1.250000000000")
        assert await price_rows(session, product) == {kept["id"]: False, usage["id"]: False}

    async def test_drop_a_price(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        create_product: CreateProduct,
        meter: Meter,
    ) -> None:
        product = await create_product(prices=[FIXED, metered(meter)])
        fixed, usage = product["prices"]
        response = await patch(client, headers, product, {"prices": [{"id": fixed["id"]}]})
        assert response.status_code == 200, response.text
        assert response.json()["prices"] == [fixed]
        assert await price_rows(session, product) == {fixed["id"]: False, usage["id"]: True}

    async def test_unknown_archived_foreign_and_repeated_prices(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        [first] = product["prices"]
        await patch(client, headers, product, {"prices": [FREE]})
        [current] = (await client.get(product_url(product), headers=headers)).json()["prices"]
        other = await create_product()
        ids = [first["id"], other["prices"][0]["id"], str(uuid.uuid4()), current["id"]]
        body = {"prices": [{"id": id} for id in [*ids, current["id"]]]}
        response = await patch(client, headers, product, body)
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "prices", 0], "Price does not exist."),
            (["body", "prices", 1], "Price does not exist."),
            (["body", "prices", 2], "Price does not exist."),
            (["body", "prices", 4], "Price is listed more than once."),
        ]

    async def test_no_price(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        response = await patch(client, headers, product, {"prices": []})
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "prices"], "At least one price is required.")
        ]

    async def test_two_static_prices(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_product: CreateProduct
    ) -> None:
        product = await create_product()
        body = {"prices": [{"id": product["prices"][0]["id"]}, FREE]}
        response = await patch(client, headers, product, body)
        assert errors(response, "PolarRequestValidationError") == [
            (["body", "prices"], "Only one static price (fixed or free) is allowed.")
        ]

    async def test_nothing_changes_on_error(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        create_product: CreateProduct,
    ) -> None:
        product = await create_product()
        body = {"name": "Renamed", "prices": [FREE, FREE]}
        response = await patch(client, headers, product, body)
        assert response.status_code == 422
        assert (await client.get(product_url(product), headers=headers)).json() == product
