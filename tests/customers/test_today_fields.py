"""What today's clients (polar-sdk 1.x) add to customers: type, billing name, locale, the
`active` list filter and deletion with `anonymize`."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Member, Organization
from tests.factories import CUSTOMER_KEYS, create_customer, create_subscription

URL = "/v1/customers/"


async def post(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=headers)


class TestCreate:
    async def test_defaults(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await post(client, headers, email="jane@example.com", name="Jane")
        assert response.status_code == 201
        customer = response.json()
        assert list(customer) == CUSTOMER_KEYS
        assert {key: customer[key] for key in CUSTOMER_KEYS[7:9]} == {
            "type": "individual",
            "name": "Jane",
        }
        assert customer["billing_name"] == "Jane"  # falls back to the name
        assert customer["locale"] is None
        assert customer["default_payment_method_id"] is None
        assert customer["first_user_event_at"] is None

    @pytest.mark.parametrize(
        ("locale", "stored"), [("fr_ca", "fr-CA"), ("en-gb-oxendict", "en-GB-oxendict")]
    )
    async def test_locale(
        self, client: httpx.AsyncClient, headers: dict[str, str], locale: str, stored: str
    ) -> None:
        response = await post(client, headers, email="l@example.com", locale=locale)
        assert response.status_code == 201
        assert response.json()["locale"] == stored

    @pytest.mark.parametrize("locale", ["english", "zz", "und", "x-private", ""])
    async def test_invalid_locale(
        self, client: httpx.AsyncClient, headers: dict[str, str], locale: str
    ) -> None:
        response = await post(client, headers, email="l@example.com", locale=locale)
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "locale"]
        assert error["msg"] == "Value error, Invalid IETF BCP 47 language tag"

    async def test_invalid_type(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await post(client, headers, email="t@example.com", type="company")
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert (error["type"], error["loc"]) == ("union_tag_invalid", ["body"])

    async def test_missing_email_is_the_2025_error(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await post(client, headers, name="No email")
        assert response.json()["detail"] == [
            {
                "type": "missing",
                "loc": ["body", "email"],
                "msg": "Field required",
                "input": {"name": "No email"},
            }
        ]


class TestUpdate:
    async def test_locale_set_and_cleared(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        url = f"{URL}{customer.id}"
        assert (await client.patch(url, json={"locale": "de"}, headers=headers)).json()[
            "locale"
        ] == "de"
        cleared = await client.patch(url, json={"locale": None}, headers=headers)
        assert cleared.json()["locale"] is None

    async def test_upgrade_to_team(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        url = f"{URL}{customer.id}"
        upgraded = await client.patch(url, json={"type": "team"}, headers=headers)
        assert upgraded.status_code == 200
        assert upgraded.json()["type"] == "team"
        again = await client.patch(url, json={"type": "team"}, headers=headers)
        assert again.status_code == 200
        refused = await client.patch(url, json={"type": "individual"}, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["detail"] == [
            {
                "type": "value_error",
                "loc": ["body", "type"],
                "msg": "Customer type can only be upgraded from 'individual' to 'team'.",
                "input": "individual",
            }
        ]

    async def test_type_not_updated_by_external_id(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await client.patch(
            f"{URL}external/usr_1", json={"type": "team", "name": "N"}, headers=headers
        )
        assert response.status_code == 200
        assert response.json()["type"] == "individual"


class TestActiveFilter:
    async def test_active_and_inactive(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customers = {}
        for status in ("active", "trialing", "past_due", "canceled", "incomplete", None):
            customer = await create_customer(session, organization=organization)
            if status is not None:
                await create_subscription(session, customer=customer, status=status)
            customers[status] = str(customer.id)
        deleted = await create_customer(session, organization=organization)
        subscription = await create_subscription(session, customer=deleted)
        subscription.deleted_at = subscription.created_at
        customers["deleted subscription"] = str(deleted.id)
        await session.flush()

        async def listed(active: str) -> set[str]:
            response = await client.get(URL, params={"active": active}, headers=headers)
            assert response.status_code == 200
            return {item["id"] for item in response.json()["items"]}

        billed = {customers["active"], customers["trialing"], customers["past_due"]}
        assert await listed("true") == billed
        assert await listed("false") == set(customers.values()) - billed


class TestAnonymize:
    async def test_erases_personal_data(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
    ) -> None:
        created = await post(
            client,
            headers,
            email="jane@example.com",
            name="Jane Doe",
            external_id="jane",
            billing_address={"country": "FR", "city": "Paris"},
            metadata={"plan": "pro"},
        )
        id = uuid.UUID(created.json()["id"])
        response = await client.delete(
            f"{URL}external/jane", params={"anonymize": "true"}, headers=headers
        )
        assert response.status_code == 204
        row = await session.scalar(
            select(Customer).where(Customer.id == id).execution_options(populate_existing=True)
        )
        assert row is not None
        assert row.deleted_at is not None
        assert row.email is not None
        assert row.email.endswith("@anonymized.invalid")
        assert "jane" not in row.email
        assert row.name is not None
        assert len(row.name) == 64
        assert row.billing_address is None
        assert row.user_metadata["plan"] == "pro"
        assert "__anonymized_at" in row.user_metadata
        members = (
            await session.scalars(
                select(Member)
                .where(Member.customer_id == id)
                .execution_options(populate_existing=True)
            )
        ).all()
        assert [m.email.endswith("@anonymized.invalid") for m in members] == [True]
        assert all(m.deleted_at is not None and m.name != "Jane Doe" for m in members)

    async def test_business_keeps_its_name(
        self, client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str]
    ) -> None:
        created = await post(
            client,
            headers,
            email="billing@acme.dev",
            name="Acme Inc",
            tax_id=["911144442", "us_ein"],
        )
        id = uuid.UUID(created.json()["id"])
        response = await client.delete(f"{URL}{id}?anonymize=true", headers=headers)
        assert response.status_code == 204
        row = await session.scalar(
            select(Customer).where(Customer.id == id).execution_options(populate_existing=True)
        )
        assert row is not None
        assert (row.name, row.tax_id) == ("Acme Inc", ["911144442", "us_ein"])
        assert row.email is not None
        assert row.email != "billing@acme.dev"

    async def test_without_anonymize_keeps_data(
        self, client: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str]
    ) -> None:
        created = await post(client, headers, email="keep@example.com", name="Keep")
        id = uuid.UUID(created.json()["id"])
        response = await client.delete(f"{URL}{id}?anonymize=false", headers=headers)
        assert response.status_code == 204
        row = await session.scalar(
            select(Customer).where(Customer.id == id).execution_options(populate_existing=True)
        )
        assert row is not None
        assert (row.email, row.name) == ("keep@example.com", "Keep")
