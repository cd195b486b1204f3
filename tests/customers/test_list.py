"""GET /v1/customers/"""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import Customer, Organization
from tests.factories import bearer, create_customer, create_personal_token, create_user

URL = "/v1/customers/"


async def list_emails(
    client: httpx.AsyncClient, headers: dict[str, str], params: Any = None
) -> list[str]:
    response = await client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [item["email"] for item in response.json()["items"]]


async def seed(session: AsyncSession, organization: Organization) -> list[Customer]:
    """Three customers created a minute apart: a (oldest), b, c (newest)."""
    start = utc_now() - timedelta(hours=1)
    rows: list[tuple[str, str | None, str | None, dict[str, Any]]] = [
        ("a@example.com", "Zed", "usr_a", {"plan": "pro", "n": 1, "vip": True}),
        ("b@example.com", None, "usr_b", {"plan": "free", "n": "1", "vip": "true"}),
        ("c@example.com", "Amy", None, {"n": 1.0, "plan": "pro"}),
    ]
    return [
        await create_customer(
            session,
            organization=organization,
            email=email,
            name=name,
            external_id=external_id,
            metadata=metadata,
            created_at=start + timedelta(minutes=index),
        )
        for index, (email, name, external_id, metadata) in enumerate(rows)
    ]


class TestListCustomers:
    async def test_default_order_and_shape(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        await seed(session, organization)
        await create_customer(session, organization=other_organization)
        response = await client.get(URL, headers=headers)
        body = response.json()
        assert list(body) == ["items", "pagination"]
        assert body["pagination"] == {"total_count": 3, "max_page": 1}
        assert [item["email"] for item in body["items"]] == [
            "c@example.com",
            "b@example.com",
            "a@example.com",
        ]

    async def test_empty(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(URL, headers=headers)
        assert response.json() == {"items": [], "pagination": {"total_count": 0, "max_page": 0}}

    async def test_pagination(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await seed(session, organization)
        response = await client.get(URL, params={"limit": 2, "page": 2}, headers=headers)
        assert response.json()["pagination"] == {"total_count": 3, "max_page": 2}
        assert [item["email"] for item in response.json()["items"]] == ["a@example.com"]

    async def test_page_past_the_end_keeps_counts(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await seed(session, organization)
        response = await client.get(URL, params={"limit": 2, "page": 9}, headers=headers)
        assert response.json() == {"items": [], "pagination": {"total_count": 3, "max_page": 2}}

    async def test_limit_capped_at_100(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get(URL, params={"limit": 1000}, headers=headers)
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"sorting": "created_at"}, ["a", "b", "c"]),
            ({"sorting": "-email"}, ["c", "b", "a"]),
            ({"sorting": "name"}, ["c", "a", "b"]),
            ({"sorting": "-name"}, ["b", "a", "c"]),
            ([("sorting", "-name"), ("sorting", "email")], ["b", "a", "c"]),
        ],
    )
    async def test_sorting(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        params: Any,
        expected: list[str],
    ) -> None:
        await seed(session, organization)
        emails = await list_emails(client, headers, params)
        assert emails == [f"{letter}@example.com" for letter in expected]

    async def test_invalid_pagination_and_sorting(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get(
            URL, params={"page": "0", "limit": "abc", "sorting": ""}, headers=headers
        )
        assert response.status_code == 422
        assert response.json() == {
            "error": "RequestValidationError",
            "detail": [
                {
                    "type": "greater_than",
                    "loc": ["query", "page"],
                    "msg": "Input should be greater than 0",
                    "input": "0",
                    "ctx": {"gt": 0},
                },
                {
                    "type": "int_parsing",
                    "loc": ["query", "limit"],
                    "msg": "Input should be a valid integer, unable to parse string as an integer",
                    "input": "abc",
                },
                {
                    "type": "enum",
                    "loc": ["query", "sorting", 0],
                    "msg": "Input should be 'created_at', '-created_at', 'email', '-email', "
                    "'name' or '-name'",
                    "input": "",
                    "ctx": {
                        "expected": "'created_at', '-created_at', 'email', '-email', 'name' or "
                        "'-name'"
                    },
                },
            ],
        }

    async def test_email_filter_exact_case_insensitive(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await seed(session, organization)
        assert await list_emails(client, headers, {"email": "B@EXAMPLE.com"}) == ["b@example.com"]
        assert await list_emails(client, headers, {"email": "b@example"}) == []
        assert await list_emails(client, headers, {"email": ""}) == []

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("AMY", ["c"]),
            ("b@ex", ["b"]),
            ("usr_", ["b", "a"]),
            ("sr_", []),
            ("", ["c", "b", "a"]),
            ("%", []),
            ("_@", []),
        ],
    )
    async def test_query(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        query: str,
        expected: list[str],
    ) -> None:
        await seed(session, organization)
        emails = await list_emails(client, headers, {"query": query})
        assert emails == [f"{letter}@example.com" for letter in expected]

    async def test_query_wildcards_literal(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(
            session, organization=organization, email="x@example.com", name="50% off_\\"
        )
        await create_customer(
            session, organization=organization, email="y@example.com", name="500 off"
        )
        assert await list_emails(client, headers, {"query": "50%"}) == ["x@example.com"]
        assert await list_emails(client, headers, {"query": "f_\\"}) == ["x@example.com"]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ("metadata[n]=1", ["b", "a"]),
            ("metadata[n]=1.0", ["c"]),
            ("metadata[vip]=true", ["b", "a"]),
            ("metadata[plan]=pro", ["c", "a"]),
            ("metadata[plan]=pro&metadata[plan]=free", ["c", "b", "a"]),
            ("metadata[plan]=pro&metadata[n]=1", ["a"]),
            ("metadata[plan][x]=free", ["b"]),
            ("metadata[missing]=1", []),
            ("metadata=1&metadata[]=2", ["c", "b", "a"]),
        ],
    )
    async def test_metadata_filter(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        params: str,
        expected: list[str],
    ) -> None:
        await seed(session, organization)
        response = await client.get(f"{URL}?{params}", headers=headers)
        assert [item["email"] for item in response.json()["items"]] == [
            f"{letter}@example.com" for letter in expected
        ]

    async def test_organization_filter(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        await seed(session, organization)
        own = await list_emails(client, headers, {"organization_id": str(organization.id)})
        assert len(own) == 3
        other = await list_emails(client, headers, {"organization_id": str(other_organization.id)})
        assert other == []

    async def test_invalid_organization_filter(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get(URL, params={"organization_id": "abc"}, headers=headers)
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert [(e["type"], e["loc"]) for e in detail] == [
            ("uuid_type", ["query", "organization_id", "uuid"]),
            (
                "uuid_parsing",
                [
                    "query",
                    "organization_id",
                    "json-or-python[json=list[uuid],python=chain[is-instance[Sequence],"
                    "function-wrap[sequence_validator()]]]",
                    0,
                ],
            ),
        ]

    async def test_user_token_spans_memberships(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        await seed(session, organization)
        await create_customer(session, organization=other_organization, email="o@example.com")
        user = await create_user(session, member_of=[organization, other_organization])
        headers = bearer(await create_personal_token(session, user=user))
        assert len(await list_emails(client, headers)) == 4
        only_other = await list_emails(
            client, headers, {"organization_id": str(other_organization.id)}
        )
        assert only_other == ["o@example.com"]

    async def test_deleted_excluded(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, deleted_at=utc_now())
        response = await client.get(URL, headers=headers)
        assert response.json()["pagination"]["total_count"] == 0
