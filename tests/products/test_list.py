"""GET /v1/products/"""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Benefit, Meter, Organization
from tests.factories import (
    bearer,
    create_benefit_with_properties,
    create_organization_token,
    create_personal_token,
    create_user,
)
from tests.products.conftest import (
    FREE,
    PRODUCT_KEYS,
    URL,
    CreateProduct,
    errors,
    metered,
)


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], params: Any = None
) -> list[str]:
    response = await client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def fixed(amount: int) -> dict[str, Any]:
    return {"amount_type": "fixed", "price_amount": amount}


@pytest.fixture
async def catalog(create_product: CreateProduct, meter: Meter) -> list[dict[str, Any]]:
    """Four products, created in this order: Basic ($5/month), Team ($50/year, archived later
    by tests that need it), E-book (one-time, $20) and Usage (free + metered, monthly)."""
    return [
        await create_product(name="Basic", prices=[fixed(500)], metadata={"tier": "low"}),
        await create_product(
            name="Team", prices=[fixed(5000)], recurring_interval="year", metadata={"tier": 2}
        ),
        await create_product(name="E-book", prices=[fixed(2000)], recurring_interval=None),
        await create_product(name="Usage", prices=[FREE, metered(meter)]),
    ]


class TestListProducts:
    async def test_default_order_and_shape(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        other_headers: dict[str, str],
        catalog: list[dict[str, Any]],
        create_product: CreateProduct,
    ) -> None:
        await client.post(URL, json={"name": "Foreign", "prices": [FREE]}, headers=other_headers)
        response = await client.get(URL, headers=headers)
        body = response.json()
        assert list(body) == ["items", "pagination"]
        assert body["pagination"] == {"total_count": 4, "max_page": 1}
        assert [item["name"] for item in body["items"]] == ["Usage", "E-book", "Team", "Basic"]
        assert list(body["items"][0]) == PRODUCT_KEYS
        assert body["items"][3] == catalog[0]

    async def test_pagination(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalog: list[dict[str, Any]]
    ) -> None:
        response = await client.get(URL, params={"limit": 3, "page": 2}, headers=headers)
        body = response.json()
        assert [item["name"] for item in body["items"]] == ["Basic"]
        assert body["pagination"] == {"total_count": 4, "max_page": 2}
        past = await client.get(URL, params={"limit": 3, "page": 5}, headers=headers)
        assert past.json() == {"items": [], "pagination": {"total_count": 4, "max_page": 2}}

    @pytest.mark.parametrize(
        ("sorting", "names"),
        [
            (["created_at"], ["Basic", "Team", "E-book", "Usage"]),
            (["name"], ["Basic", "E-book", "Team", "Usage"]),
            (["-name"], ["Usage", "Team", "E-book", "Basic"]),
            # By the first price: fixed amounts, then products without one (free, metered).
            (["price_amount"], ["Basic", "E-book", "Team", "Usage"]),
            (["-price_amount"], ["Usage", "Team", "E-book", "Basic"]),
            (["price_amount_type", "name"], ["Basic", "E-book", "Team", "Usage"]),
            (["-price_amount_type", "-name"], ["Usage", "Team", "E-book", "Basic"]),
        ],
    )
    async def test_sorting(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        catalog: list[dict[str, Any]],
        sorting: list[str],
        names: list[str],
    ) -> None:
        assert await listed(client, headers, {"sorting": sorting}) == names

    async def test_sorting_by_price_counts_each_product_once(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalog: list[dict[str, Any]]
    ) -> None:
        response = await client.get(
            URL, params={"sorting": "price_amount", "limit": 2}, headers=headers
        )
        assert response.json()["pagination"] == {"total_count": 4, "max_page": 2}

    async def test_invalid_sorting(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get(URL, params={"sorting": "price"}, headers=headers)
        [(loc, _)] = errors(response, "RequestValidationError")
        assert loc == ["query", "sorting", 0]

    async def test_id_filter(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalog: list[dict[str, Any]]
    ) -> None:
        one = await listed(client, headers, {"id": catalog[1]["id"]})
        assert one == ["Team"]
        two = await listed(client, headers, {"id": [catalog[0]["id"], catalog[2]["id"]]})
        assert two == ["E-book", "Basic"]
        assert await listed(client, headers, {"id": str(uuid.uuid4())}) == []
        invalid = await client.get(URL, params={"id": "nope"}, headers=headers)
        assert invalid.status_code == 422

    async def test_query_filter(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalog: list[dict[str, Any]]
    ) -> None:
        assert await listed(client, headers, {"query": "BOO"}) == ["E-book"]
        assert await listed(client, headers, {"query": "a"}) == ["Usage", "Team", "Basic"]
        assert await listed(client, headers, {"query": "%"}) == []
        assert await listed(client, headers, {"query": "_"}) == []

    async def test_archived_and_recurring_filters(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalog: list[dict[str, Any]]
    ) -> None:
        archive = await client.patch(
            f"{URL}{catalog[1]['id']}", json={"is_archived": True}, headers=headers
        )
        assert archive.status_code == 200, archive.text
        assert await listed(client, headers, {"is_archived": "true"}) == ["Team"]
        assert await listed(client, headers, {"is_archived": "false"}) == [
            "Usage",
            "E-book",
            "Basic",
        ]
        assert await listed(client, headers, {"is_recurring": "false"}) == ["E-book"]
        assert await listed(client, headers, {"is_recurring": "true"}) == [
            "Usage",
            "Team",
            "Basic",
        ]

    async def test_metadata_filter(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalog: list[dict[str, Any]]
    ) -> None:
        assert await listed(client, headers, {"metadata[tier]": "low"}) == ["Basic"]
        assert await listed(client, headers, {"metadata[tier]": "2"}) == ["Team"]
        assert await listed(client, headers, {"metadata[tier]": ["2", "low"]}) == [
            "Team",
            "Basic",
        ]
        assert await listed(client, headers, {"metadata[other]": "low"}) == []
        assert await listed(client, headers, {"metadata[tier]": "x\x00"}) == []

    async def test_benefit_filter(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        catalog: list[dict[str, Any]],
    ) -> None:
        first = await create_benefit_with_properties(session, organization=organization)
        second = await create_benefit_with_properties(session, organization=organization)
        await attach(client, headers, catalog[0], [first, second])
        await attach(client, headers, catalog[2], [second])
        assert await listed(client, headers, {"benefit_id": str(first.id)}) == ["Basic"]
        both = {"benefit_id": [str(first.id), str(second.id)]}
        assert await listed(client, headers, both) == ["E-book", "Basic"]
        response = await client.get(URL, params=both, headers=headers)
        assert response.json()["pagination"]["total_count"] == 2

    async def test_organization_filter(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_headers: dict[str, str],
        organization: Organization,
        other_organization: Organization,
        catalog: list[dict[str, Any]],
    ) -> None:
        await client.post(URL, json={"name": "Foreign", "prices": [FREE]}, headers=other_headers)
        own = {"organization_id": str(organization.id)}
        assert len(await listed(client, headers, own)) == 4
        other = {"organization_id": str(other_organization.id)}
        assert await listed(client, headers, other) == []
        user = await create_user(session, member_of=[organization, other_organization])
        token = await create_personal_token(session, user=user, scopes=[Scope.products_read])
        assert len(await listed(client, bearer(token))) == 5
        assert await listed(client, bearer(token), other) == ["Foreign"]


async def attach(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    product: dict[str, Any],
    benefits: list[Benefit],
) -> None:
    response = await client.post(
        f"{URL}{product['id']}/benefits",
        json={"benefits": [str(benefit.id) for benefit in benefits]},
        headers=headers,
    )
    assert response.status_code == 200, response.text


class TestListAuthorization:
    async def test_anonymous(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(URL)).status_code == 401

    async def test_missing_scope(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        token = await create_organization_token(session, organization=organization)
        response = await client.get(URL, headers=bearer(token))
        assert response.status_code == 403
        assert (
            'scope="products:read products:write web:read web:write"'
            in response.headers["www-authenticate"]
        )

    async def test_read_scope(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        catalog: list[dict[str, Any]],
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.products_read]
        )
        assert len(await listed(client, bearer(token))) == 4
