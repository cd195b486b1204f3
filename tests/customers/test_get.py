"""GET /v1/customers/{id} and /v1/customers/external/{external_id}"""

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import Organization
from tests.factories import bearer, create_customer, create_personal_token, create_user

NOT_FOUND = {"error": "ResourceNotFound", "detail": "Not found"}


class TestGetCustomer:
    async def test_valid(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=organization)
        response = await client.get(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 200
        assert response.json()["id"] == str(customer.id)

    async def test_same_document_as_list_and_create(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        # Reads by id skip the ORM and FastAPI's serializer (kit/raw_sql.py): every field must
        # still come out as the other operations render it.
        body = {
            "email": "Ünïcode.Person@Example.com",
            "external_id": "ext-ü-1",
            "name": "Zoë «quoted» \\ name",
            "metadata": {"b": 1.5, "a": "x", "n": -3, "t": True},
            "billing_address": {"country": "FR", "line1": "1 rue", "city": "Paris"},
            "tax_id": ["FR40303265045", "eu_vat"],
        }
        created = await client.post("/v1/customers/", json=body, headers=headers)
        assert created.status_code == 201, created.text
        customer_id, external_id = created.json()["id"], body["external_id"]
        listed = await client.get("/v1/customers/", params={"query": "ext-ü"}, headers=headers)
        by_id = await client.get(f"/v1/customers/{customer_id}", headers=headers)
        by_external_id = await client.get(f"/v1/customers/external/{external_id}", headers=headers)
        assert by_id.headers["content-type"] == "application/json"
        assert by_id.json() == by_external_id.json() == listed.json()["items"][0]
        assert by_id.json() == created.json()
        assert list(by_id.json()) == list(created.json())

    @pytest.mark.parametrize(
        "form", [str.upper, lambda s: s.replace("-", ""), lambda s: f"{{{s}}}"]
    )
    async def test_uuid_forms(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        form: object,
    ) -> None:
        customer = await create_customer(session, organization=organization)
        assert callable(form)
        response = await client.get(f"/v1/customers/{form(str(customer.id))}", headers=headers)
        assert response.status_code == 200

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(f"/v1/customers/{uuid.uuid4()}", headers=headers)
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
        response = await client.get(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 404

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=other_organization)
        response = await client.get(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    async def test_invalid_uuid(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get("/v1/customers/abc", headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {
                "type": "uuid_parsing",
                "loc": ["path", "id"],
                "msg": "Input should be a valid UUID, invalid length: expected length 32 for "
                "simple format, found 3",
                "input": "abc",
                "ctx": {"error": "invalid length: expected length 32 for simple format, found 3"},
            }
        ]

    async def test_uuid_version(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        value = str(uuid.uuid1())
        response = await client.get(f"/v1/customers/{value}", headers=headers)
        assert response.json()["detail"] == [
            {
                "type": "uuid_version",
                "loc": ["path", "id"],
                "msg": "UUID version 4 expected",
                "input": value,
                "ctx": {"expected_version": 4},
            }
        ]

    async def test_external_segment_alone(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get("/v1/customers/external", headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "uuid_parsing"


class TestGetCustomerExternal:
    async def test_valid(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=organization, external_id="a b/é")
        await create_customer(session, organization=organization, external_id="A B")
        response = await client.get("/v1/customers/external/a%20b%2F%C3%A9", headers=headers)
        assert response.status_code == 404  # a slash can never match, even encoded
        customer = await create_customer(session, organization=organization, external_id="a bé")
        response = await client.get("/v1/customers/external/a%20b%C3%A9", headers=headers)
        assert response.status_code == 200
        assert response.json()["id"] == str(customer.id)

    async def test_case_sensitive(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, external_id="usr_1")
        response = await client.get("/v1/customers/external/USR_1", headers=headers)
        assert response.status_code == 404

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        await create_customer(session, organization=other_organization, external_id="usr_1")
        response = await client.get("/v1/customers/external/usr_1", headers=headers)
        assert response.status_code == 404

    async def test_user_token_ambiguous(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        for owner in (organization, other_organization):
            await create_customer(session, organization=owner, external_id="dup")
        user = await create_user(session, member_of=[organization, other_organization])
        headers = bearer(await create_personal_token(session, user=user))
        response = await client.get("/v1/customers/external/dup", headers=headers)
        assert response.status_code == 422
        body = response.json()
        assert body["error"] == "PolarRequestValidationError"
        assert body["detail"][0]["loc"] == ["path", "external_id"]
