"""`GET /v1/benefits/`: filters, sorting, pagination and tenancy."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import moved_clock
from polar_customers.models import Meter, Organization
from tests.benefits.conftest import SCOPES, CreateBenefit
from tests.factories import bearer, create_organization, create_organization_token

SUPPORT, LICENSE, CREDITS, STICKERS = (
    "Priority support",
    "App license",
    "API credits",
    "100% off_stickers",
)


@pytest.fixture
async def population(create_benefit: CreateBenefit, meter: Meter) -> list[dict[str, Any]]:
    """Four benefits created a minute apart, in this order."""
    bodies: list[dict[str, Any]] = [
        {"description": "Priority support", "metadata": {"tier": "gold", "seats": 3}},
        {"type": "license_keys", "description": "App license", "metadata": {"tier": "silver"}},
        {
            "type": "meter_credit",
            "description": "API credits",
            "properties": {"units": 10, "rollover": False, "meter_id": str(meter.id)},
            "metadata": {"tier": "gold", "vip": True},
        },
        {"description": "100% off_stickers"},
    ]
    created = []
    for minutes, body in enumerate(bodies):
        with moved_clock(timedelta(minutes=minutes)):
            created.append(await create_benefit(**body))
    return created


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], params: Any = None
) -> list[str]:
    response = await client.get("/v1/benefits/", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [benefit["description"] for benefit in response.json()["items"]]


class TestList:
    async def test_defaults(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        population: list[dict[str, Any]],
    ) -> None:
        response = await client.get("/v1/benefits/", headers=headers)
        body = response.json()
        assert list(body) == ["items", "pagination"]
        assert body["pagination"] == {"total_count": 4, "max_page": 1}
        assert body["items"] == list(reversed(population))

    async def test_type(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        population: list[dict[str, Any]],
    ) -> None:
        assert await listed(client, headers, {"type": "license_keys"}) == ["App license"]
        both = await listed(client, headers, [("type", "meter_credit"), ("type", "custom")])
        assert both == ["100% off_stickers", "API credits", "Priority support"]
        assert await listed(client, headers, {"type": "discord"}) == []
        response = await client.get("/v1/benefits/", params={"type": "nope"}, headers=headers)
        assert response.status_code == 422

    async def test_query(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        population: list[dict[str, Any]],
    ) -> None:
        assert await listed(client, headers, {"query": "LICENSE"}) == ["App license"]
        assert await listed(client, headers, {"query": "p"}) == [
            "API credits",
            "App license",
            "Priority support",
        ]
        # LIKE wildcards are taken literally.
        assert await listed(client, headers, {"query": "100%"}) == ["100% off_stickers"]
        assert await listed(client, headers, {"query": "f_s"}) == ["100% off_stickers"]
        assert await listed(client, headers, {"query": "%"}) == ["100% off_stickers"]
        assert await listed(client, headers, {"query": "nul\x00"}) == []

    async def test_metadata(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        population: list[dict[str, Any]],
    ) -> None:
        assert await listed(client, headers, {"metadata[tier]": "gold"}) == [
            "API credits",
            "Priority support",
        ]
        both = {"metadata[tier]": "gold", "metadata[vip]": "true"}
        assert await listed(client, headers, both) == ["API credits"]
        either = [("metadata[tier]", "silver"), ("metadata[tier]", "gold")]
        assert len(await listed(client, headers, either)) == 3
        assert await listed(client, headers, {"metadata[seats]": "3"}) == ["Priority support"]

    @pytest.mark.parametrize(
        ("sorting", "expected"),
        [
            (["description"], [STICKERS, CREDITS, LICENSE, SUPPORT]),
            (["-type", "description"], [CREDITS, LICENSE, STICKERS, SUPPORT]),
            (["created_at"], [SUPPORT, LICENSE, CREDITS, STICKERS]),
        ],
    )
    async def test_sorting(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        population: list[dict[str, Any]],
        sorting: list[str],
        expected: list[str],
    ) -> None:
        params = [("sorting", value) for value in sorting]
        assert await listed(client, headers, params) == expected

    async def test_unknown_sorting(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get("/v1/benefits/", params={"sorting": "name"}, headers=headers)
        assert response.status_code == 422

    async def test_pagination(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        population: list[dict[str, Any]],
    ) -> None:
        params: dict[str, Any] = {"limit": 3, "page": 2, "sorting": "created_at"}
        response = await client.get("/v1/benefits/", params=params, headers=headers)
        body = response.json()
        assert [item["description"] for item in body["items"]] == ["100% off_stickers"]
        assert body["pagination"] == {"total_count": 4, "max_page": 2}
        params = {"limit": 3, "page": 9}
        body = (await client.get("/v1/benefits/", params=params, headers=headers)).json()
        assert body == {"items": [], "pagination": {"total_count": 4, "max_page": 2}}

    async def test_other_organizations(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        organization: Organization,
        population: list[dict[str, Any]],
    ) -> None:
        other = await create_organization(session, name="Other")
        token = bearer(await create_organization_token(session, organization=other, scopes=SCOPES))
        assert await listed(client, token) == []
        params = {"organization_id": str(organization.id)}
        assert await listed(client, token, params) == []
        assert len(await listed(client, headers, params)) == 4
        assert await listed(client, headers, {"organization_id": str(other.id)}) == []
