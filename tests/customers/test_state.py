"""GET /v1/customers/{id}/state and /v1/customers/external/{external_id}/state"""

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import Customer, Organization
from tests.customers.state_support import get_state
from tests.factories import (
    CUSTOMER_KEYS,
    create_customer,
    create_subscription,
)

NOT_FOUND = {"error": "ResourceNotFound", "detail": "Not found"}
STATE_KEYS = [
    *CUSTOMER_KEYS[:-1],
    "active_subscriptions",
    "granted_benefits",
    "active_meters",
    "avatar_url",
]


class TestGetCustomerState:
    async def test_valid_empty(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert list(body) == STATE_KEYS
        customer_body = await client.get(f"/v1/customers/{customer.id}", headers=headers)
        assert {key: body[key] for key in CUSTOMER_KEYS} == customer_body.json()
        assert body["active_subscriptions"] == []
        assert body["granted_benefits"] == []
        assert body["active_meters"] == []

    async def test_computed_fresh(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        assert (await get_state(client, customer, headers))["name"] is None
        path = f"/v1/customers/{customer.id}"
        await client.patch(path, json={"name": "Jane"}, headers=headers)
        assert (await get_state(client, customer, headers))["name"] == "Jane"

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(f"/v1/customers/{uuid.uuid4()}/state", headers=headers)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    async def test_deleted(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=organization, deleted_at=utc_now())
        response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
        assert response.status_code == 404

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=other_organization)
        await create_subscription(session, customer=customer)
        response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    async def test_invalid_id(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get("/v1/customers/abc/state", headers=headers)
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert (error["type"], error["loc"], error["input"]) == (
            "uuid_parsing",
            ["path", "id"],
            "abc",
        )

    async def test_uuid_version(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        value = str(uuid.uuid1())
        response = await client.get(f"/v1/customers/{value}/state", headers=headers)
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert (error["type"], error["loc"]) == ("uuid_version", ["path", "id"])

    async def test_trailing_slash_redirects(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await client.get(f"/v1/customers/{customer.id}/state/", headers=headers)
        assert response.status_code == 307
        assert response.headers["location"].endswith(f"/v1/customers/{customer.id}/state")


class TestGetCustomerStateExternal:
    async def test_valid(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
    ) -> None:
        subscription = await create_subscription(session, customer=customer)
        response = await client.get("/v1/customers/external/usr_1/state", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert list(body) == STATE_KEYS
        assert body["id"] == str(customer.id)
        assert [item["id"] for item in body["active_subscriptions"]] == [str(subscription.id)]
        by_id = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
        assert body == by_id.json()

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get("/v1/customers/external/nobody/state", headers=headers)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    async def test_case_sensitive(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await client.get("/v1/customers/external/USR_1/state", headers=headers)
        assert response.status_code == 404

    async def test_deleted(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
    ) -> None:
        assert (await client.delete("/v1/customers/external/usr_1", headers=headers)).is_success
        response = await client.get("/v1/customers/external/usr_1/state", headers=headers)
        assert response.status_code == 404

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        await create_customer(session, organization=other_organization, external_id="theirs")
        response = await client.get("/v1/customers/external/theirs/state", headers=headers)
        assert response.status_code == 404
