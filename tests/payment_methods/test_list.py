"""GET /v1/customers/{id}/payment-methods and its external-id variant."""

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Organization
from tests.factories import (
    bearer,
    create_customer,
    create_organization,
    create_organization_token,
    create_payment_method,
)


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    return bearer(await create_organization_token(session, organization=organization))


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(session, organization=organization, external_id="pm")


class TestListPaymentMethods:
    async def test_empty(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        for url in (f"/v1/customers/{customer.id}", "/v1/customers/external/pm"):
            response = await client.get(f"{url}/payment-methods", headers=headers)
            assert response.status_code == 200
            assert response.json() == {
                "items": [],
                "pagination": {"total_count": 0, "max_page": 0},
            }

    async def test_kinds_and_default(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
    ) -> None:
        card = await create_payment_method(session, customer=customer)
        kr_card = await create_payment_method(
            session,
            customer=customer,
            type="kr_card",
            method_metadata={"brand": None, "last4": None},
        )
        other = await create_payment_method(
            session, customer=customer, type="sepa_debit", method_metadata={"x": 1}
        )
        customer.default_payment_method_id = kr_card.id
        await session.flush()

        response = await client.get(f"/v1/customers/{customer.id}/payment-methods", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert body["pagination"] == {"total_count": 3, "max_page": 1}
        assert [(m["id"], m["type"], m["is_default"]) for m in body["items"]] == [
            (str(card.id), "card", False),
            (str(kr_card.id), "kr_card", True),
            (str(other.id), "sepa_debit", False),
        ]
        first = body["items"][0]
        assert list(first) == [
            "id",
            "created_at",
            "modified_at",
            "processor",
            "customer_id",
            "type",
            "method_metadata",
            "is_default",
        ]
        assert first["method_metadata"] == {
            "brand": "visa",
            "last4": "4242",
            "exp_month": 12,
            "exp_year": 2030,
            "wallet": None,
        }
        assert "method_metadata" not in body["items"][2]
        customer_view = await client.get(f"/v1/customers/{customer.id}", headers=headers)
        assert customer_view.json()["default_payment_method_id"] == str(kr_card.id)

    async def test_pages(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        customer: Customer,
    ) -> None:
        for _ in range(3):
            await create_payment_method(session, customer=customer)
        response = await client.get(
            "/v1/customers/external/pm/payment-methods",
            params={"limit": 2, "page": 2},
            headers=headers,
        )
        assert response.json()["pagination"] == {"total_count": 3, "max_page": 2}
        assert len(response.json()["items"]) == 1

    async def test_not_found(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
    ) -> None:
        other = await create_organization(session, name="Other")
        foreign = await create_customer(session, organization=other)
        for url in (
            f"/v1/customers/{foreign.id}/payment-methods",
            "/v1/customers/external/nobody/payment-methods",
        ):
            response = await client.get(url, headers=headers)
            assert response.status_code == 404
            assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}
