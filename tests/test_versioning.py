"""`Polar-Version` and `Polar-Organization` over HTTP: the 2025 API without the header, today's
with it, a clear 400 for anything else, and the organization a personal token acts in."""

import csv
import io

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Organization
from tests.factories import (
    CUSTOMER_KEYS,
    bearer,
    create_customer,
    create_organization,
    create_organization_token,
    create_personal_token,
    create_user,
)

UNSUPPORTED = (
    "Polar-Version '{}' is not supported. Supported versions: 2026-04, 2026-10, 2027-01; "
    "without the header, the 2025 API is served."
)


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    return bearer(await create_organization_token(session, organization=organization))


class TestPolarVersion:
    @pytest.mark.parametrize("version", [None, "2026-04", "2026-10", "2027-01"])
    async def test_one_customer_shape(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        headers: dict[str, str],
        version: str | None,
    ) -> None:
        customer = await create_customer(session, organization=organization)
        extra = {"Polar-Version": version} if version else {}
        response = await client.get(f"/v1/customers/{customer.id}", headers={**headers, **extra})
        assert response.status_code == 200
        assert list(response.json()) == CUSTOMER_KEYS

    @pytest.mark.parametrize("value", ["2025-10", "2026-11", "latest", ""])
    @pytest.mark.parametrize("token", [None, "polar_oat_unknown"])
    async def test_unsupported(
        self, client: httpx.AsyncClient, value: str, token: str | None
    ) -> None:
        headers = {"Polar-Version": value, **(bearer(token) if token else {})}
        for path in ("/v1/customers/", "/nowhere"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 400
            assert response.json() == {
                "error": "UnsupportedApiVersion",
                "detail": UNSUPPORTED.format(value),
            }

    async def test_export_is_csv_for_todays_clients(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        headers: dict[str, str],
    ) -> None:
        await create_customer(session, organization=organization, email="csv@example.com")
        accept = {**headers, "Accept": "application/json"}
        as_2025 = await client.get("/v1/customers/export", headers=accept)
        assert as_2025.headers["content-type"] == "application/json"
        assert [c["email"] for c in as_2025.json()] == ["csv@example.com"]
        today = await client.get(
            "/v1/customers/export", headers={**accept, "Polar-Version": "2026-10"}
        )
        assert today.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.reader(io.StringIO(today.text)))
        assert [row[3] for row in rows[1:]] == ["csv@example.com"]


class TestPolarOrganization:
    @pytest.fixture
    async def two(self, session: AsyncSession) -> tuple[Organization, Organization, str]:
        first = await create_organization(session, name="First")
        second = await create_organization(session, name="Second")
        user = await create_user(session, member_of=[first, second])
        return first, second, await create_personal_token(session, user=user)

    async def test_selects_for_a_personal_token(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        two: tuple[Organization, Organization, str],
    ) -> None:
        first, second, token = two
        await create_customer(session, organization=first)
        await create_customer(session, organization=second)
        everything = await client.get("/v1/customers/", headers=bearer(token))
        assert everything.json()["pagination"]["total_count"] == 2
        headers = {**bearer(token), "Polar-Organization": str(second.id)}
        selected = await client.get("/v1/customers/", headers=headers)
        assert [c["organization_id"] for c in selected.json()["items"]] == [str(second.id)]
        # A new customer goes to the selected organization without organization_id.
        created = await client.post(
            "/v1/customers/", json={"email": "new@example.com"}, headers=headers
        )
        assert created.status_code == 201
        assert created.json()["organization_id"] == str(second.id)
        mismatch = await client.post(
            "/v1/customers/",
            json={"email": "n2@example.com", "organization_id": str(first.id)},
            headers=headers,
        )
        assert mismatch.status_code == 422
        assert mismatch.json()["detail"][0]["msg"] == "Organization not found."

    async def test_an_organization_the_token_cannot_reach(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
    ) -> None:
        other = await create_organization(session, name="Elsewhere")
        response = await client.get(
            "/v1/customers/", headers={**headers, "Polar-Organization": str(other.id)}
        )
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {
                "type": "value_error",
                "loc": ["header", "Polar-Organization"],
                "msg": "Organization not found.",
                "input": str(other.id),
            }
        ]

    async def test_the_token_own_organization(
        self, client: httpx.AsyncClient, organization: Organization, headers: dict[str, str]
    ) -> None:
        response = await client.get(
            "/v1/customers/", headers={**headers, "Polar-Organization": str(organization.id)}
        )
        assert response.status_code == 200

    async def test_not_a_uuid(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(
            "/v1/customers/", headers={**headers, "Polar-Organization": "acme"}
        )
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert (error["type"], error["loc"]) == ("uuid_parsing", ["header", "Polar-Organization"])
