"""Meters: create, list, get, update (archiving included), tenancy and authorization."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Customer, Organization, Product, ProductPrice
from tests.factories import (
    bearer,
    create_benefit,
    create_organization_token,
    create_personal_token,
    create_user,
)
from tests.meters.support import EVERYTHING, SCOPES, create_meter, event, ingest_ok, named

METER_KEYS = [
    "metadata",
    "created_at",
    "modified_at",
    "id",
    "name",
    "filter",
    "aggregation",
    "organization_id",
    "archived_at",
]


class TestCreateMeter:
    async def test_valid(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        body = {
            "name": "Tokens",
            "filter": {
                "conjunction": "or",
                "clauses": [
                    {"property": "metadata.model", "operator": "like", "value": "gpt"},
                    {
                        "conjunction": "and",
                        "clauses": [{"property": "name", "operator": "eq", "value": "x"}],
                    },
                ],
            },
            "aggregation": {"func": "sum", "property": "metadata.tokens"},
            "metadata": {"team": "ai"},
        }
        response = await client.post("/v1/meters/", json=body, headers=headers)
        assert response.status_code == 201, response.text
        meter = response.json()
        assert list(meter) == METER_KEYS
        assert meter["filter"]["clauses"][0] == {
            "property": "model",
            "operator": "like",
            "value": "gpt",
        }
        assert meter["filter"]["clauses"][1] == body["filter"]["clauses"][1]  # type: ignore[index]
        assert meter["aggregation"] == {"func": "sum", "property": "tokens"}
        assert (meter["metadata"], meter["organization_id"], meter["archived_at"]) == (
            {"team": "ai"},
            str(organization.id),
            None,
        )
        response = await client.get(f"/v1/meters/{meter['id']}", headers=headers)
        assert response.json() == meter

    @pytest.mark.parametrize(
        "aggregation",
        [
            {"func": "count"},
            {"func": "unique", "property": "user"},
            {"func": "avg", "property": "latency"},
            {"func": "max", "property": "timestamp"},
        ],
    )
    async def test_aggregations(
        self, client: httpx.AsyncClient, headers: dict[str, str], aggregation: dict[str, Any]
    ) -> None:
        meter = await create_meter(client, headers, aggregation=aggregation)
        assert meter["aggregation"] == aggregation

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("name", "ab"),
            ("name", "n" * 401),
            ("aggregation", {"func": "sum"}),
            ("aggregation", {"func": "median", "property": "x"}),
            ("aggregation", {}),
            ("filter", None),
            ("metadata", {"k": "v" * 501}),
        ],
    )
    async def test_invalid(
        self, client: httpx.AsyncClient, headers: dict[str, str], field: str, value: Any
    ) -> None:
        body = {"name": "Meter", "filter": EVERYTHING, "aggregation": {"func": "count"}}
        response = await client.post("/v1/meters/", json={**body, field: value}, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:2] == ["body", field]

    async def test_organization_id_with_organization_token(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        body = {"name": "Meter", "filter": EVERYTHING, "aggregation": {"func": "count"}}
        body["organization_id"] = str(organization.id)
        response = await client.post("/v1/meters/", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "organization_token"

    async def test_personal_token(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        user = await create_user(session, member_of=[organization])
        headers = bearer(await create_personal_token(session, user=user, scopes=SCOPES))
        body = {"name": "Meter", "filter": EVERYTHING, "aggregation": {"func": "count"}}
        response = await client.post("/v1/meters/", json=body, headers=headers)
        assert response.json()["detail"][0]["msg"] == "organization_id is required."
        other = {**body, "organization_id": str(other_organization.id)}
        response = await client.post("/v1/meters/", json=other, headers=headers)
        assert response.json()["detail"][0]["msg"] == "Organization not found."
        mine = {**body, "organization_id": str(organization.id)}
        response = await client.post("/v1/meters/", json=mine, headers=headers)
        assert response.status_code == 201
        assert response.json()["organization_id"] == str(organization.id)


class TestListMeters:
    async def test_sorted_by_name_by_default(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        for name in ("Gamma", "alpha", "Beta"):
            await create_meter(client, headers, name=name)
        response = await client.get("/v1/meters/", headers=headers)
        body = response.json()
        assert [item["name"] for item in body["items"]] == ["Beta", "Gamma", "alpha"]
        assert body["pagination"] == {"total_count": 3, "max_page": 1}
        response = await client.get(
            "/v1/meters/", params={"sorting": "-created_at", "limit": 2}, headers=headers
        )
        body = response.json()
        assert [item["name"] for item in body["items"]] == ["Beta", "alpha"]
        assert body["pagination"] == {"total_count": 3, "max_page": 2}

    async def test_filters(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        api = await create_meter(client, headers, name="API calls", metadata={"tier": "pro"})
        await create_meter(client, headers, name="Storage", metadata={"tier": "free"})
        archived = await create_meter(client, headers, name="Old 100%")
        response = await client.patch(
            f"/v1/meters/{archived['id']}", json={"is_archived": True}, headers=headers
        )
        assert response.status_code == 200

        async def names(**params: Any) -> list[str]:
            response = await client.get("/v1/meters/", params=params, headers=headers)
            assert response.status_code == 200, response.text
            return [item["name"] for item in response.json()["items"]]

        assert await names(query="CALL") == ["API calls"]
        assert await names(query="0%") == ["Old 100%"]
        assert await names(query="_") == []
        assert await names(is_archived="true") == ["Old 100%"]
        assert await names(is_archived="false") == ["API calls", "Storage"]
        assert await names(**{"metadata[tier]": "pro"}) == [api["name"]]

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        other_headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        await create_meter(client, other_headers)
        response = await client.get("/v1/meters/", headers=headers)
        assert response.json()["items"] == []
        response = await client.get(
            "/v1/meters/", params={"organization_id": str(other_organization.id)}, headers=headers
        )
        assert response.json()["items"] == []

    async def test_invalid_sorting(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get("/v1/meters/", params={"sorting": "id"}, headers=headers)
        assert response.status_code == 422


class TestGetMeter:
    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(
            "/v1/meters/2b58e1fc-5ba6-4a74-9c0a-b5d5a2e3a2c1", headers=headers
        )
        assert response.status_code == 404
        assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}

    async def test_other_organization(
        self, client: httpx.AsyncClient, headers: dict[str, str], other_headers: dict[str, str]
    ) -> None:
        meter = await create_meter(client, other_headers)
        response = await client.get(f"/v1/meters/{meter['id']}", headers=headers)
        assert response.status_code == 404
        assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}
        response = await client.patch(
            f"/v1/meters/{meter['id']}", json={"name": "Mine"}, headers=headers
        )
        assert response.status_code == 404


class TestUpdateMeter:
    async def test_fields(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        meter = await create_meter(client, headers)
        body = {
            "name": "Renamed",
            "metadata": {"k": 1},
            "filter": named("x"),
            "aggregation": {"func": "sum", "property": "metadata.n"},
        }
        response = await client.patch(f"/v1/meters/{meter['id']}", json=body, headers=headers)
        assert response.status_code == 200, response.text
        updated = response.json()
        assert (updated["name"], updated["metadata"], updated["filter"]) == (
            "Renamed",
            {"k": 1},
            named("x"),
        )
        assert updated["aggregation"] == {"func": "sum", "property": "n"}
        assert updated["modified_at"] is not None
        response = await client.patch(
            f"/v1/meters/{meter['id']}", json={"name": None}, headers=headers
        )
        assert response.json()["name"] == "Renamed"

    async def test_archive_and_unarchive(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        meter = await create_meter(client, headers)
        url = f"/v1/meters/{meter['id']}"
        archived = (await client.patch(url, json={"is_archived": True}, headers=headers)).json()
        assert archived["archived_at"] is not None
        again = (await client.patch(url, json={"is_archived": True}, headers=headers)).json()
        assert again["archived_at"] == archived["archived_at"]
        restored = (await client.patch(url, json={"is_archived": False}, headers=headers)).json()
        assert restored["archived_at"] is None

    async def test_definition_fixed_once_counting(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        meter = await create_meter(client, headers)
        await ingest_ok(client, headers, [event(customer)])
        response = await client.patch(
            f"/v1/meters/{meter['id']}",
            json={"filter": named("x"), "aggregation": {"func": "count"}, "name": "Still ok"},
            headers=headers,
        )
        assert response.status_code == 422
        errors = response.json()["detail"]
        assert [(e["type"], e["loc"]) for e in errors] == [
            ("forbidden", ["body", "filter"]),
            ("forbidden", ["body", "aggregation"]),
        ]
        response = await client.patch(
            f"/v1/meters/{meter['id']}", json={"name": "Renamed"}, headers=headers
        )
        assert response.status_code == 200

    async def test_archive_refused_while_priced(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        organization: Organization,
    ) -> None:
        meter = await create_meter(client, headers)
        product = Product(organization_id=organization.id, name="Usage")
        session.add(product)
        await session.flush()
        price = ProductPrice(
            organization_id=organization.id,
            product_id=product.id,
            amount_type="metered_unit",
            meter_id=uuid.UUID(meter["id"]),
            unit_amount=1,
        )
        session.add(price)
        await session.flush()
        url = f"/v1/meters/{meter['id']}"
        response = await client.patch(url, json={"is_archived": True}, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == (
            "Cannot archive meter that is still attached to active products"
        )
        price.is_archived = True
        await session.flush()
        response = await client.patch(url, json={"is_archived": True}, headers=headers)
        assert response.status_code == 200

    async def test_archive_refused_while_credited_by_a_benefit(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        organization: Organization,
    ) -> None:
        meter = await create_meter(client, headers)
        benefit = await create_benefit(session, organization=organization, type="meter_credit")
        benefit.properties = {"meter_id": meter["id"], "units": 10, "rollover": False}
        await session.flush()
        response = await client.patch(
            f"/v1/meters/{meter['id']}", json={"is_archived": True}, headers=headers
        )
        assert response.status_code == 422
        assert "active benefits" in response.json()["detail"][0]["msg"]


class TestAuthorization:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", "/v1/meters/"),
            ("POST", "/v1/meters/"),
            ("GET", "/v1/meters/2b58e1fc-5ba6-4a74-9c0a-b5d5a2e3a2c1"),
            ("PATCH", "/v1/meters/2b58e1fc-5ba6-4a74-9c0a-b5d5a2e3a2c1"),
            ("GET", "/v1/customer-meters/"),
            ("GET", "/v1/events/"),
        ],
    )
    async def test_anonymous(self, client: httpx.AsyncClient, method: str, path: str) -> None:
        response = await client.request(method, path, json={})
        assert response.status_code == 401

    @pytest.mark.parametrize(
        ("method", "path", "challenge"),
        [
            ("GET", "/v1/meters/", "meters:read meters:write web:read web:write"),
            ("POST", "/v1/meters/", "meters:write web:write"),
            ("GET", "/v1/customer-meters/", "customer_meters:read web:read web:write"),
            ("GET", "/v1/events/names", "events:read events:write web:read web:write"),
        ],
    )
    async def test_missing_scope(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        method: str,
        path: str,
        challenge: str,
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.customers_read]
        )
        response = await client.request(method, path, json={}, headers=bearer(token))
        assert response.status_code == 403
        assert f'scope="{challenge}"' in response.headers["WWW-Authenticate"]

    async def test_write_implies_read(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.meters_write]
        )
        response = await client.get("/v1/meters/", headers=bearer(token))
        assert response.status_code == 200
