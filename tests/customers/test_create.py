"""POST /v1/customers/: valid creates, uniqueness, and the organization a token may create in."""

import hashlib

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Organization
from tests.customers.create_support import URL, single_error
from tests.factories import (
    CUSTOMER_KEYS,
    bearer,
    create_customer,
    create_personal_token,
    create_user,
)


class TestCreateCustomer:
    async def test_valid_full(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        body = {
            "email": "customer@example.com",
            "external_id": "usr_1337",
            "name": "John Doe",
            "billing_address": {"country": "us", "state": "CA", "line1": " 1 Main St "},
            "tax_id": ["911144442", "us_ein"],
            "metadata": {"plan": "pro", "seats": 3, "ratio": 1.0, "vip": True},
            "email_verified": True,
            "id": "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
        }
        response = await client.post(URL, json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert response.headers["content-type"] == "application/json"
        customer = response.json()
        assert list(customer) == CUSTOMER_KEYS
        assert customer["id"] != body["id"]
        assert customer["modified_at"] is None
        assert customer["deleted_at"] is None
        assert customer["email_verified"] is False
        assert customer["organization_id"] == str(organization.id)
        assert customer["metadata"] == {"plan": "pro", "seats": 3, "ratio": 1.0, "vip": True}
        assert isinstance(customer["metadata"]["ratio"], float)
        assert customer["billing_address"] == {
            "line1": "1 Main St",
            "line2": None,
            "postal_code": None,
            "city": None,
            "state": "US-CA",
            "country": "US",
        }
        assert customer["tax_id"] == ["911144442", "us_ein"]
        assert customer["created_at"].endswith("Z")
        digest = hashlib.sha256(b"customer@example.com").hexdigest()
        assert customer["avatar_url"] == f"https://www.gravatar.com/avatar/{digest}?d=404"
        fetched = await client.get(f"/v1/customers/{customer['id']}", headers=headers)
        assert fetched.json() == customer

    async def test_compact_utf8_json(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(
            URL, json={"email": "zoë@example.com", "name": "Zoë"}, headers=headers
        )
        assert response.status_code == 201
        assert '"name":"Zoë"' in response.content.decode()

    async def test_minimal_defaults(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(URL, json={"email": "min@example.com"}, headers=headers)
        assert response.status_code == 201
        customer = response.json()
        assert customer["metadata"] == {}
        assert customer["external_id"] is None
        assert customer["name"] is None
        assert customer["billing_address"] is None
        assert customer["tax_id"] is None

    @pytest.mark.parametrize(
        ("raw", "normalized"),
        [
            ("  John@Example.COM ", "John@example.com"),
            ("John Doe <A.B@EXAMPLE.COM>", "A.B@example.com"),
        ],
    )
    async def test_email_normalized(
        self, client: httpx.AsyncClient, headers: dict[str, str], raw: str, normalized: str
    ) -> None:
        response = await client.post(URL, json={"email": raw}, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["email"] == normalized

    async def test_empty_external_id_is_null(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        first = await client.post(
            URL, json={"email": "a@example.com", "external_id": ""}, headers=headers
        )
        second = await client.post(
            URL, json={"email": "b@example.com", "external_id": ""}, headers=headers
        )
        assert first.status_code == second.status_code == 201
        assert first.json()["external_id"] is None

    async def test_duplicate_email_case_insensitive(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, email="Taken@example.com")
        response = await client.post(URL, json={"email": "taken@EXAMPLE.com"}, headers=headers)
        assert response.json() == {
            "error": "PolarRequestValidationError",
            "detail": [
                {
                    "type": "value_error",
                    "loc": ["body", "email"],
                    "msg": "A customer with this email address already exists.",
                    "input": "taken@example.com",
                }
            ],
        }
        assert response.status_code == 422

    async def test_duplicate_email_and_external_id(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(
            session, organization=organization, email="x@example.com", external_id="ext"
        )
        response = await client.post(
            URL, json={"email": "x@example.com", "external_id": "ext"}, headers=headers
        )
        assert response.status_code == 422
        assert [(e["loc"], e["msg"]) for e in response.json()["detail"]] == [
            (["body", "email"], "A customer with this email address already exists."),
            (["body", "external_id"], "A customer with this external ID already exists."),
        ]

    async def test_external_id_case_sensitive(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, external_id="ABC")
        response = await client.post(
            URL, json={"email": "c@example.com", "external_id": "abc"}, headers=headers
        )
        assert response.status_code == 201

    async def test_same_email_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        await create_customer(
            session, organization=other_organization, email="s@example.com", external_id="e"
        )
        response = await client.post(
            URL, json={"email": "s@example.com", "external_id": "e"}, headers=headers
        )
        assert response.status_code == 201

    async def test_deleted_customer_email_reusable(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        body = {"email": "gone@example.com", "external_id": "gone"}
        created = (await client.post(URL, json=body, headers=headers)).json()
        deleted = await client.delete(f"/v1/customers/{created['id']}", headers=headers)
        assert deleted.status_code == 204
        again = await client.post(URL, json=body, headers=headers)
        assert again.status_code == 201, again.text

    async def test_organization_token_with_organization_id(
        self, client: httpx.AsyncClient, headers: dict[str, str], organization: Organization
    ) -> None:
        response = await client.post(
            URL,
            json={"email": "o@example.com", "organization_id": str(organization.id)},
            headers=headers,
        )
        assert single_error(response) == {
            "type": "organization_token",
            "loc": ["body", "organization_id"],
            "msg": "Setting organization_id is disallowed when using an organization token.",
            "input": str(organization.id),
        }

    async def test_user_token_requires_organization_id(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        user = await create_user(session, member_of=[organization])
        headers = bearer(await create_personal_token(session, user=user))
        response = await client.post(URL, json={"email": "u@example.com"}, headers=headers)
        assert single_error(response) == {
            "type": "missing",
            "loc": ["body", "organization_id"],
            "msg": "organization_id is required.",
            "input": None,
        }
        ok = await client.post(
            URL,
            json={"email": "u@example.com", "organization_id": str(organization.id)},
            headers=headers,
        )
        assert ok.status_code == 201
        assert ok.json()["organization_id"] == str(organization.id)

    async def test_user_token_foreign_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        user = await create_user(session, member_of=[organization])
        headers = bearer(await create_personal_token(session, user=user))
        response = await client.post(
            URL,
            json={"email": "u@example.com", "organization_id": str(other_organization.id)},
            headers=headers,
        )
        assert single_error(response) == {
            "type": "value_error",
            "loc": ["body", "organization_id"],
            "msg": "Organization not found.",
            "input": str(other_organization.id),
        }
