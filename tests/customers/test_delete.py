"""DELETE /v1/customers/{id} and /v1/customers/external/{external_id}"""

import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Organization
from tests.factories import create_customer


class TestDeleteCustomer:
    async def test_valid(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(
            session, organization=organization, external_id="ext", metadata={"k": "v"}
        )
        response = await client.delete(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 204
        assert response.content == b""
        assert "content-type" not in response.headers
        row = await session.scalar(
            select(Customer)
            .where(Customer.id == customer.id)
            .execution_options(populate_existing=True)
        )
        assert row is not None
        assert row.deleted_at is not None
        assert row.modified_at == row.deleted_at
        assert row.external_id is None
        assert row.user_metadata == {"k": "v"}
        again = await client.delete(f"/v1/customers/{customer.id}", headers=headers)
        assert again.status_code == 404

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.delete(f"/v1/customers/{uuid.uuid4()}", headers=headers)
        assert response.status_code == 404

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=other_organization)
        response = await client.delete(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 404


class TestDeleteCustomerExternal:
    async def test_valid_frees_external_id(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, external_id="ext")
        response = await client.delete("/v1/customers/external/ext", headers=headers)
        assert response.status_code == 204
        assert (await client.get("/v1/customers/external/ext", headers=headers)).status_code == 404
        created = await client.post(
            "/v1/customers/", json={"email": "n@example.com", "external_id": "ext"}, headers=headers
        )
        assert created.status_code == 201

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.delete("/v1/customers/external/nobody", headers=headers)
        assert response.status_code == 404
