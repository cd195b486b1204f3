"""PATCH /v1/customers/{id} and /v1/customers/external/{external_id}"""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Organization
from tests.factories import create_customer


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(
        session,
        organization=organization,
        email="Jane@example.com",
        name="Jane",
        external_id="usr_jane",
        metadata={"plan": "pro"},
        email_verified=True,
        billing_address={
            "line1": "1 Main St",
            "line2": None,
            "postal_code": None,
            "city": None,
            "state": None,
            "country": "FR",
        },
        tax_id=["FR61954506077", "eu_vat"],
    )


async def patch(
    client: httpx.AsyncClient, customer: Customer, headers: dict[str, str], body: Any
) -> httpx.Response:
    return await client.patch(f"/v1/customers/{customer.id}", json=body, headers=headers)


def errors(response: httpx.Response) -> list[tuple[list[Any], str, Any]]:
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "PolarRequestValidationError"
    return [(e["loc"], e["msg"], e["input"]) for e in response.json()["detail"]]


class TestUpdateCustomer:
    async def test_absent_fields_unchanged(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        before = (await client.get(f"/v1/customers/{customer.id}", headers=headers)).json()
        response = await patch(client, customer, headers, {"name": "Janet"})
        assert response.status_code == 200, response.text
        after = response.json()
        assert after["name"] == "Janet"
        assert after["modified_at"] is not None
        for key in ("email", "email_verified", "metadata", "billing_address", "tax_id"):
            assert after[key] == before[key]

    async def test_null_clears(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        body: dict[str, Any] = {
            "name": None,
            "billing_address": None,
            "tax_id": None,
            "metadata": {},
        }
        response = await patch(client, customer, headers, body)
        customer_json = response.json()
        assert customer_json["name"] is None
        assert customer_json["billing_address"] is None
        assert customer_json["tax_id"] is None
        assert customer_json["metadata"] == {}

    async def test_objects_replaced_not_merged(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        body = {"metadata": {"seats": 2}, "billing_address": {"country": "DE", "city": "Berlin"}}
        response = await patch(client, customer, headers, body)
        assert response.json()["metadata"] == {"seats": 2}
        assert response.json()["billing_address"] == {
            "line1": None,
            "line2": None,
            "postal_code": None,
            "city": "Berlin",
            "state": None,
            "country": "DE",
        }

    async def test_empty_body_changes_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await patch(client, customer, headers, {})
        assert response.status_code == 200
        assert response.json()["modified_at"] is None

    async def test_same_values_touch_modified_at(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await patch(client, customer, headers, {"name": "Jane"})
        assert response.json()["modified_at"] is not None

    async def test_missing_body(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await client.patch(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
        ]

    async def test_email_change_resets_verification(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await patch(client, customer, headers, {"email": "new@example.com"})
        assert response.json()["email"] == "new@example.com"
        assert response.json()["email_verified"] is False

    async def test_email_case_change_keeps_verification(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
        organization: Organization,
    ) -> None:
        response = await patch(client, customer, headers, {"email": "jane@example.com"})
        assert response.json()["email"] == "jane@example.com"
        assert response.json()["email_verified"] is True

    async def test_email_null_rejected(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await patch(client, customer, headers, {"email": None})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "email"]

    async def test_metadata_null_rejected(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await patch(client, customer, headers, {"metadata": None})
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "dict_type"

    async def test_email_taken(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, email="taken@example.com")
        response = await patch(client, customer, headers, {"email": "TAKEN@example.com"})
        assert errors(response) == [
            (
                ["body", "email"],
                "A customer with this email address already exists.",
                "TAKEN@example.com",
            )
        ]
        unchanged = await client.get(f"/v1/customers/{customer.id}", headers=headers)
        assert unchanged.json()["email_verified"] is True

    async def test_external_id_immutable(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        message = "Customer external ID cannot be updated."
        changed = await patch(client, customer, headers, {"external_id": "other"})
        assert errors(changed) == [(["body", "external_id"], message, "other")]
        cleared = await patch(client, customer, headers, {"external_id": None})
        assert errors(cleared) == [(["body", "external_id"], message, None)]
        same = await patch(client, customer, headers, {"external_id": "usr_jane"})
        assert same.status_code == 200

    async def test_external_id_set_once(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=organization)
        response = await patch(client, customer, headers, {"external_id": "fresh"})
        assert response.json()["external_id"] == "fresh"

    async def test_all_errors_together(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
        organization: Organization,
    ) -> None:
        await create_customer(
            session, organization=organization, email="t@example.com", external_id="taken"
        )
        response = await patch(
            client, customer, headers, {"email": "t@example.com", "external_id": "taken"}
        )
        assert [loc for loc, _, _ in errors(response)] == [
            ["body", "email"],
            ["body", "external_id"],
            ["body", "external_id"],
        ]

    async def test_schema_errors_before_not_found(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.patch(
            "/v1/customers/992fae2a-2a17-4b7a-8d9e-e287cf90131b",
            json={"email": "bad"},
            headers=headers,
        )
        assert response.status_code == 422


class TestUpdateCustomerExternal:
    async def test_valid_ignores_external_id(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await client.patch(
            "/v1/customers/external/usr_jane",
            json={"name": "J", "external_id": "changed"},
            headers=headers,
        )
        assert response.status_code == 200
        assert response.json()["name"] == "J"
        assert response.json()["external_id"] == "usr_jane"

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.patch(
            "/v1/customers/external/nobody", json={"name": "J"}, headers=headers
        )
        assert response.status_code == 404
