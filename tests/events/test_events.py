"""GET /v1/events/, /v1/events/{id} and /v1/events/names."""

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import Customer, Organization
from tests.factories import CUSTOMER_KEYS, create_customer
from tests.meters.support import clause, create_meter, event, ingest_ok, iso, named

USER_EVENT_KEYS = [
    "id",
    "timestamp",
    "organization_id",
    "customer_id",
    "customer",
    "external_customer_id",
    "name",
    "source",
    "metadata",
]
NOW = utc_now().replace(microsecond=0)


def ago(hours: float) -> str:
    return iso(NOW - timedelta(hours=hours))


@pytest.fixture
async def events(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    customer: Customer,
    customer2: Customer,
) -> None:
    await ingest_ok(
        client,
        headers,
        [
            event(customer, "call", timestamp=ago(5), metadata={"n": 1, "tier": "pro"}),
            event(customer, "upload", timestamp=ago(4), metadata={"n": 2}),
            event("usr_2", "call", timestamp=ago(3), metadata={"n": 3, "tier": "free"}),
            event(customer2, "call", timestamp=ago(2), metadata={"n": 4}),
            event("ghost", "call", timestamp=ago(1), metadata={"n": 5}),
        ],
    )


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[int]:
    """The `n` of the events listed."""
    response = await client.get("/v1/events/", params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["metadata"]["n"] for item in response.json()["items"]]


@pytest.mark.usefixtures("events")
class TestListEvents:
    async def test_shape_and_order(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await client.get("/v1/events/", headers=headers)
        body = response.json()
        assert body["pagination"] == {"total_count": 5, "max_page": 1}
        assert [item["metadata"]["n"] for item in body["items"]] == [5, 4, 3, 2, 1]
        first = body["items"][-1]
        assert list(first) == USER_EVENT_KEYS
        assert (first["name"], first["source"], first["timestamp"]) == ("call", "user", ago(5))
        assert (first["customer_id"], first["external_customer_id"]) == (str(customer.id), None)
        assert list(first["customer"]) == CUSTOMER_KEYS
        assert await listed(client, headers, sorting="timestamp") == [1, 2, 3, 4, 5]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"name": "upload"}, [2]),
            ({"name": ["upload", "call"]}, [5, 4, 3, 2, 1]),
            ({"source": "system"}, []),
            ({"external_customer_id": "usr_2"}, [4, 3]),
            ({"external_customer_id": "ghost"}, [5]),
            ({"metadata[tier]": "pro"}, [1]),
            ({"metadata[n]": ["1", "2"]}, [2, 1]),
            ({"filter": json.dumps(named("upload"))}, [2]),
            (
                {
                    "filter": json.dumps(
                        {"conjunction": "and", "clauses": [clause("metadata.n", "gte", 4)]}
                    )
                },
                [5, 4],
            ),
        ],
    )
    async def test_filters(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        params: dict[str, Any],
        expected: list[int],
    ) -> None:
        assert await listed(client, headers, **params) == expected

    async def test_customer(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        customer2: Customer,
    ) -> None:
        assert await listed(client, headers, customer_id=str(customer.id)) == [2, 1]
        # By id, also the events ingested with its external id.
        assert await listed(client, headers, customer_id=str(customer2.id)) == [4, 3]

    async def test_timestamps(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        # Strictly after the start and before the end, as Polar.
        assert await listed(client, headers, start_timestamp=ago(4), end_timestamp=ago(1)) == [4, 3]

    async def test_meter(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        meter = await create_meter(
            client,
            headers,
            filter=named("call"),
            aggregation={"func": "sum", "property": "n"},
        )
        assert await listed(client, headers, meter_id=meter["id"]) == [5, 4, 3, 1]

    async def test_meter_of_another_organization(
        self, client: httpx.AsyncClient, headers: dict[str, str], other_headers: dict[str, str]
    ) -> None:
        meter = await create_meter(client, other_headers)
        response = await client.get(
            "/v1/events/", params={"meter_id": meter["id"]}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {
                "type": "meter_id",
                "loc": ["query", "meter_id"],
                "msg": "Meter not found.",
                "input": meter["id"],
            }
        ]

    @pytest.mark.parametrize(
        "text",
        [
            "not json",
            json.dumps({"conjunction": "and"}),
            json.dumps({"conjunction": "and", "clauses": [clause("x", "in", 1)]}),
        ],
    )
    async def test_invalid_filter(
        self, client: httpx.AsyncClient, headers: dict[str, str], text: str
    ) -> None:
        response = await client.get("/v1/events/", params={"filter": text}, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][:2] == ["query", "filter"]

    async def test_pagination(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get("/v1/events/", params={"limit": 2, "page": 3}, headers=headers)
        body = response.json()
        assert [item["metadata"]["n"] for item in body["items"]] == [1]
        assert body["pagination"] == {"total_count": 5, "max_page": 3}

    async def test_other_organization(
        self, client: httpx.AsyncClient, other_headers: dict[str, str]
    ) -> None:
        assert await listed(client, other_headers) == []


class TestGetEvent:
    async def test_valid(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        await ingest_ok(client, headers, [event("usr_1", timestamp=ago(1), metadata={"x": True})])
        response = await client.get("/v1/events/", headers=headers)
        [item] = response.json()["items"]
        response = await client.get(f"/v1/events/{item['id']}", headers=headers)
        assert response.status_code == 200
        assert response.json() == item
        assert (item["customer"]["id"], item["external_customer_id"], item["metadata"]) == (
            str(customer.id),
            "usr_1",
            {"x": True},
        )

    async def test_customer_created_after_its_events(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        organization: Organization,
    ) -> None:
        await ingest_ok(client, headers, [event("later", metadata={"n": 9})])
        late = await create_customer(session, organization=organization, external_id="later")
        [item] = (await client.get("/v1/events/", headers=headers)).json()["items"]
        # As Polar relates them: the customer by its external id, the id as ingested.
        assert (item["customer_id"], item["customer"]["id"]) == (None, str(late.id))
        assert await listed(client, headers, customer_id=str(late.id)) == [9]

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(
            "/v1/events/2b58e1fc-5ba6-4a74-9c0a-b5d5a2e3a2c1", headers=headers
        )
        assert response.status_code == 404
        assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        other_headers: dict[str, str],
        customer: Customer,
    ) -> None:
        await ingest_ok(client, headers, [event(customer)])
        [item] = (await client.get("/v1/events/", headers=headers)).json()["items"]
        response = await client.get(f"/v1/events/{item['id']}", headers=other_headers)
        assert response.status_code == 404


@pytest.mark.usefixtures("events")
class TestListEventNames:
    async def test_names(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get("/v1/events/names", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body == {
            "items": [
                {
                    "name": "call",
                    "source": "user",
                    "occurrences": 4,
                    "first_seen": ago(5),
                    "last_seen": ago(1),
                },
                {
                    "name": "upload",
                    "source": "user",
                    "occurrences": 1,
                    "first_seen": ago(4),
                    "last_seen": ago(4),
                },
            ],
            "pagination": {"total_count": 2, "max_page": 1},
        }

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"sorting": "name"}, ["call", "upload"]),
            ({"sorting": "-name"}, ["upload", "call"]),
            ({"sorting": "occurrences"}, ["upload", "call"]),
            ({"sorting": "first_seen"}, ["call", "upload"]),
            ({"query": "LOA"}, ["upload"]),
            ({"query": "%"}, []),
            ({"source": "system"}, []),
            ({"external_customer_id": "usr_1"}, ["upload", "call"]),
            ({"limit": 1, "page": 2}, ["upload"]),
        ],
    )
    async def test_filters_and_sorting(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        params: dict[str, Any],
        expected: list[str],
    ) -> None:
        response = await client.get("/v1/events/names", params=params, headers=headers)
        assert response.status_code == 200, response.text
        assert [item["name"] for item in response.json()["items"]] == expected

    async def test_customer_id(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer2: Customer
    ) -> None:
        response = await client.get(
            "/v1/events/names", params={"customer_id": str(customer2.id)}, headers=headers
        )
        [item] = response.json()["items"]
        assert (item["name"], item["occurrences"]) == ("call", 2)
