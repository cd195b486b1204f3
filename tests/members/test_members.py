"""Members of a customer: created with it, added to teams, listed and read, by customer id or
external id."""

from typing import Any

import httpx
import pytest

from tests.members.conftest import CreateCustomer

NOT_PERMITTED = (
    "Individual customers can only have one member (the owner). Upgrade to a team customer "
    "to add more members."
)
MEMBER_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "customer_id",
    "email",
    "name",
    "external_id",
    "role",
]


def members_url(customer: dict[str, Any]) -> str:
    return f"/v1/customers/{customer['id']}/members"


async def list_members(
    client: httpx.AsyncClient, headers: dict[str, str], customer: dict[str, Any], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(members_url(customer), params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestOwners:
    async def test_individual_gets_an_owner_from_itself(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_customer: CreateCustomer
    ) -> None:
        customer = await create_customer(email="jane@example.com", name="Jane", external_id="j1")
        assert customer["type"] == "individual"
        [owner] = await list_members(client, headers, customer)
        assert list(owner) == MEMBER_KEYS
        assert owner["customer_id"] == customer["id"]
        assert (owner["email"], owner["name"], owner["external_id"], owner["role"]) == (
            "jane@example.com",
            "Jane",
            "j1",
            "owner",
        )

    async def test_team_with_its_owner(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        assert (team["type"], team["email"]) == ("team", "billing@acme.dev")
        [owner] = await list_members(client, headers, team)
        assert (owner["email"], owner["name"], owner["external_id"], owner["role"]) == (
            "owner@acme.dev",
            "Olive Owner",
            "olive",
            "owner",
        )

    async def test_team_without_email(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_customer: CreateCustomer
    ) -> None:
        team = await create_customer(type="team", name="Beta", owner={"email": "b@beta.dev"})
        assert team["email"] is None
        assert team["avatar_url"] is None
        [owner] = await list_members(client, headers, team)
        assert (owner["email"], owner["name"]) == ("b@beta.dev", "Beta")

    async def test_team_without_email_nor_owner(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post("/v1/customers/", json={"type": "team"}, headers=headers)
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == ["body"]
        assert "An owner with an email address is required" in error["msg"]


class TestCreateMember:
    async def test_valid(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        body = {"email": "Bob@Acme.dev", "name": "Bob", "external_id": "bob", "role": "member"}
        response = await client.post(members_url(team), json=body, headers=headers)
        assert response.status_code == 201, response.text
        member = response.json()
        assert list(member) == MEMBER_KEYS
        assert (member["email"], member["role"], member["modified_at"]) == (
            "Bob@acme.dev",
            "member",
            None,
        )

    async def test_billing_manager_by_external_id(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        body = {"email": "carol@acme.dev", "role": "billing_manager"}
        url = "/v1/customers/external/acme/members"
        response = await client.post(url, json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["role"] == "billing_manager"
        assert response.json()["customer_id"] == team["id"]

    async def test_owner_is_not_created(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        body = {"email": "dan@acme.dev", "role": "owner"}
        response = await client.post(members_url(team), json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "role"]

    async def test_individual_is_not_permitted(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_customer: CreateCustomer
    ) -> None:
        customer = await create_customer(email="solo@example.com")
        body = {"email": "friend@example.com"}
        response = await client.post(members_url(customer), json=body, headers=headers)
        assert response.status_code == 403
        assert response.json() == {"error": "NotPermitted", "detail": NOT_PERMITTED}

    @pytest.mark.parametrize("email", ["owner@acme.dev", "OWNER@acme.dev"])
    async def test_email_taken(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any], email: str
    ) -> None:
        response = await client.post(members_url(team), json={"email": email}, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {
                "type": "value_error",
                "loc": ["body", "email"],
                "msg": "A member with this email already exists for this customer.",
                "input": email,
            }
        ]

    async def test_external_id_taken(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        body = {"email": "eve@acme.dev", "external_id": "olive"}
        response = await client.post(members_url(team), json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "external_id"]

    async def test_same_email_in_another_customer(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_customer: CreateCustomer
    ) -> None:
        first = await create_customer(type="team", owner={"email": "same@x.dev"})
        second = await create_customer(type="team", owner={"email": "other@x.dev"})
        response = await client.post(
            members_url(second), json={"email": "same@x.dev"}, headers=headers
        )
        assert response.status_code == 201
        assert first["id"] != second["id"]

    async def test_unknown_customer(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        url = "/v1/customers/00000000-0000-4000-8000-000000000000/members"
        response = await client.post(url, json={"email": "x@x.dev"}, headers=headers)
        assert response.status_code == 404
        assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}


class TestReadMembers:
    async def test_get_by_id_and_by_external_ids(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        [owner] = await list_members(client, headers, team)
        by_id = await client.get(f"{members_url(team)}/{owner['id']}", headers=headers)
        by_external = await client.get("/v1/customers/external/acme/members/olive", headers=headers)
        assert by_id.status_code == by_external.status_code == 200
        assert by_id.json() == by_external.json() == owner

    async def test_member_of_another_customer(
        self, client: httpx.AsyncClient, headers: dict[str, str], create_customer: CreateCustomer
    ) -> None:
        first = await create_customer(email="a@x.dev")
        second = await create_customer(email="b@x.dev")
        [owner] = await list_members(client, headers, first)
        response = await client.get(f"{members_url(second)}/{owner['id']}", headers=headers)
        assert response.status_code == 404
        assert response.json() == {"error": "ResourceNotFound", "detail": "Member not found"}

    async def test_list_role_filter_sorting_and_pages(
        self, client: httpx.AsyncClient, headers: dict[str, str], team: dict[str, Any]
    ) -> None:
        for index in range(3):
            body = {"email": f"m{index}@acme.dev", "role": "member"}
            assert (
                await client.post(members_url(team), json=body, headers=headers)
            ).status_code == 201
        newest_first = await list_members(client, headers, team)
        assert [m["email"] for m in newest_first] == [
            "m2@acme.dev",
            "m1@acme.dev",
            "m0@acme.dev",
            "owner@acme.dev",
        ]
        oldest_first = await list_members(client, headers, team, sorting="created_at")
        assert oldest_first == newest_first[::-1]
        members = await list_members(client, headers, team, role="member")
        assert {m["role"] for m in members} == {"member"}
        response = await client.get(
            members_url(team), params={"limit": 3, "page": 2}, headers=headers
        )
        assert response.json()["pagination"] == {"total_count": 4, "max_page": 2}
        assert [m["email"] for m in response.json()["items"]] == ["owner@acme.dev"]
