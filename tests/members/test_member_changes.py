"""Updating and deleting members: exactly one owner, emails that stay unique, the owner of
an individual following the customer's email, and the tenancy of every member route."""

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Organization
from tests.factories import (
    bearer,
    create_organization,
    create_organization_token,
    create_personal_token,
    create_user,
)
from tests.members.conftest import CreateCustomer
from tests.members.test_members import list_members, members_url


async def add(
    client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any], **body: Any
) -> dict[str, Any]:
    response = await client.post(members_url(team), json=body, headers=headers)
    assert response.status_code == 201, response.text
    member: dict[str, Any] = response.json()
    return member


class TestUpdateMember:
    async def test_name_and_email(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        member = await add(client, headers, team, email="bob@acme.dev", external_id="bob")
        url = "/v1/customers/external/acme/members/bob"
        response = await client.patch(
            url, json={"name": "Robert", "email": "rob@acme.dev"}, headers=headers
        )
        assert response.status_code == 200, response.text
        updated = response.json()
        assert (updated["id"], updated["name"], updated["email"]) == (
            member["id"],
            "Robert",
            "rob@acme.dev",
        )
        assert updated["modified_at"] is not None

    async def test_email_taken(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        member = await add(client, headers, team, email="bob@acme.dev")
        url = f"{members_url(team)}/{member['id']}"
        response = await client.patch(url, json={"email": "Owner@acme.dev"}, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == (
            "A member with this email already exists for this customer."
        )

    async def test_promotion_demotes_the_owner(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        member = await add(client, headers, team, email="bob@acme.dev")
        url = f"{members_url(team)}/{member['id']}"
        response = await client.patch(url, json={"role": "owner"}, headers=headers)
        assert response.status_code == 200, response.text
        roles = {m["email"]: m["role"] for m in await list_members(client, headers, team)}
        assert roles == {"bob@acme.dev": "owner", "owner@acme.dev": "billing_manager"}

    @pytest.mark.parametrize("role", ["member", "billing_manager"])
    async def test_owner_cannot_step_down(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any], role: str
    ) -> None:
        response = await client.patch(
            "/v1/customers/external/acme/members/olive", json={"role": role}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {
                "type": "value_error",
                "loc": ["body", "role"],
                "msg": "Cannot change role. Customer must have exactly one owner.",
                "input": role,
            }
        ]

    async def test_individual_owner_follows_the_customer_email(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_customer: CreateCustomer
    ) -> None:
        customer = await create_customer(email="jane@example.com")
        [owner] = await list_members(client, headers, customer)
        url = f"{members_url(customer)}/{owner['id']}"
        refused = await client.patch(url, json={"email": "j@example.com"}, headers=headers)
        assert refused.status_code == 422
        assert "Update the customer's email instead" in refused.json()["detail"][0]["msg"]

        changed = await client.patch(
            f"/v1/customers/{customer['id']}", json={"email": "j@example.com"}, headers=headers
        )
        assert changed.status_code == 200
        [owner] = await list_members(client, headers, customer)
        assert owner["email"] == "j@example.com"


class TestDeleteMember:
    async def test_member(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        member = await add(client, headers, team, email="bob@acme.dev", external_id="bob")
        response = await client.delete("/v1/customers/external/acme/members/bob", headers=headers)
        assert response.status_code == 204
        assert response.content == b""
        gone = await client.get(f"{members_url(team)}/{member['id']}", headers=headers)
        assert gone.status_code == 404
        # Its email and external id are free again.
        await add(client, headers, team, email="bob@acme.dev", external_id="bob")

    async def test_owner(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        response = await client.delete("/v1/customers/external/acme/members/olive", headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == (
            "Cannot delete the only owner. Transfer ownership first."
        )

    async def test_customer_deletion_removes_members(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        await add(client, headers, team, email="bob@acme.dev")
        assert (
            await client.delete(f"/v1/customers/{team['id']}", headers=headers)
        ).status_code == 204
        response = await client.get(members_url(team), headers=headers)
        assert response.status_code == 404


class TestTenancy:
    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        team: dict[str, Any],
    ) -> None:
        other = await create_organization(session, name="Other")
        other_headers = bearer(
            await create_organization_token(
                session, organization=other, scopes=[Scope.members_read, Scope.members_write]
            )
        )
        for method, url in [
            ("GET", members_url(team)),
            ("GET", "/v1/customers/external/acme/members"),
            ("GET", "/v1/customers/external/acme/members/olive"),
            ("POST", members_url(team)),
            ("DELETE", "/v1/customers/external/acme/members/olive"),
        ]:
            body = {"email": "x@x.dev"} if method == "POST" else None
            response = await client.request(method, url, json=body, headers=other_headers)
            assert response.status_code == 404, (method, url)

    async def test_members_scopes(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        team: dict[str, Any],
    ) -> None:
        customers_only = bearer(await create_organization_token(session, organization=organization))
        readers = bearer(
            await create_organization_token(
                session, organization=organization, scopes=[Scope.members_read]
            )
        )
        assert (await client.get(members_url(team), headers=customers_only)).status_code == 403
        assert (await client.get(members_url(team), headers=readers)).status_code == 200
        response = await client.post(members_url(team), json={"email": "x@x.dev"}, headers=readers)
        assert response.status_code == 403
        assert 'scope="members:write web:write"' in response.headers["www-authenticate"]

    async def test_ambiguous_external_customer_id(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        create_customer: CreateCustomer,
    ) -> None:
        other = await create_organization(session, name="Other")
        await create_customer(email="a@x.dev", external_id="shared")
        other_token = await create_organization_token(session, organization=other)
        created = await client.post(
            "/v1/customers/",
            json={"email": "b@x.dev", "external_id": "shared"},
            headers=bearer(other_token),
        )
        assert created.status_code == 201
        user = await create_user(session, member_of=[organization, other])
        personal = bearer(
            await create_personal_token(
                session, user=user, scopes=[Scope.members_read, Scope.members_write]
            )
        )
        url = "/v1/customers/external/shared/members"
        response = await client.get(url, headers=personal)
        assert response.status_code == 409
        assert response.json()["error"] == "AmbiguousExternalCustomerID"
        selected = await client.get(
            url, headers={**personal, "Polar-Organization": str(organization.id)}
        )
        assert selected.status_code == 200
        [owner] = selected.json()["items"]
        assert owner["email"] == "a@x.dev"
