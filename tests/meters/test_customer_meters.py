"""GET /v1/customer-meters/ and /v1/customer-meters/{id}: the running totals, with their
customer and meter embedded."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Customer, Organization
from tests.factories import CUSTOMER_KEYS, bearer, create_customer, create_organization_token
from tests.meters.support import create_meter, customer_meters, event, ingest_ok, named

KEYS = [
    "id",
    "created_at",
    "modified_at",
    "customer_id",
    "meter_id",
    "consumed_units",
    "credited_units",
    "balance",
    "customer",
    "meter",
]


@pytest.fixture
async def meters(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    customer: Customer,
    customer2: Customer,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Calls: 1 for the first customer, 3 for the second; uploads: 2 for the first."""
    calls = await create_meter(client, headers, name="Calls", filter=named("call"))
    uploads = await create_meter(client, headers, name="Uploads", filter=named("upload"))
    await ingest_ok(
        client,
        headers,
        [event(customer), event(customer, "upload"), event(customer, "upload")]
        + [event(customer2)] * 3,
    )
    return calls, uploads


class TestListCustomerMeters:
    async def test_shape(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        meters: tuple[dict[str, Any], dict[str, Any]],
    ) -> None:
        calls, _ = meters
        [item] = await customer_meters(
            client, headers, customer_id=str(customer.id), meter_id=calls["id"]
        )
        assert list(item) == KEYS
        assert list(item["customer"]) == CUSTOMER_KEYS
        assert item["customer"]["id"] == str(customer.id)
        assert item["meter"] == calls
        assert (item["consumed_units"], item["credited_units"], item["balance"]) == (1, 0, -1)
        response = await client.get(f"/v1/customer-meters/{item['id']}", headers=headers)
        assert response.status_code == 200
        assert response.json() == item

    async def test_filters(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        customer2: Customer,
        meters: tuple[dict[str, Any], dict[str, Any]],
    ) -> None:
        calls, uploads = meters

        async def pairs(**params: Any) -> set[tuple[str, str]]:
            items = await customer_meters(client, headers, **params)
            return {(item["customer"]["external_id"], item["meter"]["name"]) for item in items}

        assert await pairs() == {
            ("usr_1", "Calls"),
            ("usr_1", "Uploads"),
            ("usr_2", "Calls"),
        }
        assert await pairs(customer_id=str(customer2.id)) == {("usr_2", "Calls")}
        assert await pairs(external_customer_id="usr_1", meter_id=uploads["id"]) == {
            ("usr_1", "Uploads")
        }
        assert await pairs(external_customer_id=["usr_1", "usr_2"], meter_id=calls["id"]) == {
            ("usr_1", "Calls"),
            ("usr_2", "Calls"),
        }

    async def test_archived_meters_only_when_named(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        meters: tuple[dict[str, Any], dict[str, Any]],
    ) -> None:
        _, uploads = meters
        response = await client.patch(
            f"/v1/meters/{uploads['id']}", json={"is_archived": True}, headers=headers
        )
        assert response.status_code == 200
        assert {item["meter_id"] for item in await customer_meters(client, headers)} == {
            meters[0]["id"]
        }
        assert len(await customer_meters(client, headers, meter_id=uploads["id"])) == 1

    @pytest.mark.parametrize(
        ("sorting", "expected"),
        [
            (["consumed_units"], [1, 2, 3]),
            (["-consumed_units"], [3, 2, 1]),
            (["-balance"], [-1, -2, -3]),
            (["meter_name", "consumed_units"], [1, 3, 2]),
            (["-meter_name", "-consumed_units"], [2, 3, 1]),
        ],
    )
    async def test_sorting(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        meters: tuple[dict[str, Any], dict[str, Any]],
        sorting: list[str],
        expected: list[float],
    ) -> None:
        items = await customer_meters(client, headers, sorting=sorting)
        key = "balance" if sorting == ["-balance"] else "consumed_units"
        assert [item[key] for item in items] == expected

    async def test_sorting_by_customer_name(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        organization: Organization,
    ) -> None:
        meter = await create_meter(client, headers)
        for name in ("Zed", "Amy", None):
            await ingest_ok(
                client,
                headers,
                [event(await create_customer(session, organization=organization, name=name))],
            )
        items = await customer_meters(client, headers, sorting="customer_name")
        assert [item["customer"]["name"] for item in items] == ["Amy", "Zed", None]
        items = await customer_meters(client, headers, sorting="-customer_name")
        assert [item["customer"]["name"] for item in items] == [None, "Zed", "Amy"]
        assert {item["meter_id"] for item in items} == {meter["id"]}

    async def test_pagination(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        meters: tuple[dict[str, Any], dict[str, Any]],
    ) -> None:
        response = await client.get(
            "/v1/customer-meters/", params={"limit": 2, "page": 2}, headers=headers
        )
        body = response.json()
        assert len(body["items"]) == 1
        assert body["pagination"] == {"total_count": 3, "max_page": 2}

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        other_headers: dict[str, str],
        headers: dict[str, str],
        meters: tuple[dict[str, Any], dict[str, Any]],
    ) -> None:
        assert await customer_meters(client, other_headers) == []
        [item, *_] = await customer_meters(client, headers)
        response = await client.get(f"/v1/customer-meters/{item['id']}", headers=other_headers)
        assert response.status_code == 404
        assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}


class TestAuthorization:
    async def test_customer_meters_scope(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.meters_write]
        )
        response = await client.get(
            "/v1/customer-meters/2b58e1fc-5ba6-4a74-9c0a-b5d5a2e3a2c1", headers=bearer(token)
        )
        assert response.status_code == 403
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.customer_meters_read]
        )
        response = await client.get(
            "/v1/customer-meters/2b58e1fc-5ba6-4a74-9c0a-b5d5a2e3a2c1", headers=bearer(token)
        )
        assert response.status_code == 404
