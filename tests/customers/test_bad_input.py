"""Inputs the databases cannot store or JSON cannot express give 4xx, never 500 (D1)."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Organization
from tests.factories import create_customer

UNSTORABLE = "Value error, NUL characters and unpaired surrogates are not allowed"
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "loc", "msg"),
    [
        (b'{"email":"ab@example.com","name":"a\\u0000b"}', ["body", "name"], UNSTORABLE),
        (b'{"email":"ab@example.com","name":"a\\ud800b"}', ["body", "name"], UNSTORABLE),
        (b'{"email":"a\\ud800b@example.com"}', ["body", "email"], UNSTORABLE),
        (
            b'{"email":"ab@example.com","external_id":"\\u0000"}',
            ["body", "external_id"],
            UNSTORABLE,
        ),
        (
            b'{"email":"ab@example.com","metadata":{"a\\u0000":"x"}}',
            ["body", "metadata"],
            UNSTORABLE,
        ),
        (
            b'{"email":"ab@example.com","metadata":{"a":"x\\udc00"}}',
            ["body", "metadata", "a", "constrained-str"],
            "Input should be a valid string, unable to parse raw data as a unicode string",
        ),
        (
            b'{"email":"ab@example.com","billing_address":{"country":"FR","city":"\\u0000"}}',
            ["body", "billing_address", "city"],
            UNSTORABLE,
        ),
        (
            b'{"email":"ab@example.com","tax_id":["x\\u0000","eu_vat"]}',
            ["body", "tax_id", 0],
            UNSTORABLE,
        ),
        (
            b'{"email":"ab@example.com","metadata":{"a":1e400}}',
            ["body", "metadata"],
            "Input should be a finite number",
        ),
        (
            b'{"email":"ab@example.com","metadata":{"a":NaN}}',
            ["body", "metadata"],
            "Input should be a finite number",
        ),
    ],
)
class TestUnstorableBody:
    async def test_create(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        body: bytes,
        loc: list[Any],
        msg: str,
    ) -> None:
        response = await client.post("/v1/customers/", content=body, headers={**headers, **JSON})
        assert response.status_code == 422, response.text
        first = response.json()["detail"][0]
        assert (first["loc"], first["msg"]) == (loc, msg)

    async def test_update(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        body: bytes,
        loc: list[Any],
        msg: str,
    ) -> None:
        customer = await create_customer(session, organization=organization)
        response = await client.patch(
            f"/v1/customers/{customer.id}", content=body, headers={**headers, **JSON}
        )
        assert response.status_code == 422, response.text
        first = response.json()["detail"][0]
        assert (first["loc"], first["msg"]) == (loc, msg)


class TestUnstorableLookups:
    async def test_big_integer_metadata_round_trips(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = b'{"email":"big@example.com","metadata":{"n":123456789012345678901234567890}}'
        response = await client.post("/v1/customers/", content=body, headers={**headers, **JSON})
        assert response.status_code == 201
        assert response.json()["metadata"] == {"n": 123456789012345678901234567890}

    async def test_external_id_with_nul(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get("/v1/customers/external/a%00b", headers=headers)
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "query",
        ["query=a%00", "email=a%00", "metadata[a%00]=b", "metadata[a]=b%00"],
    )
    async def test_list_filters_with_nul(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        query: str,
    ) -> None:
        await create_customer(session, organization=organization, metadata={"a": "b"})
        response = await client.get(f"/v1/customers/?{query}", headers=headers)
        assert response.status_code == 200
        assert response.json()["pagination"]["total_count"] == 0

    async def test_huge_page(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization)
        response = await client.get(
            "/v1/customers/?page=99999999999999999999&limit=100", headers=headers
        )
        assert response.status_code == 200
        assert response.json() == {
            "items": [],
            "pagination": {"total_count": 1, "max_page": 1},
        }
