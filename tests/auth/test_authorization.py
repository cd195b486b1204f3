"""Authentication and scopes on every customer operation."""

import json
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth import service as auth_service
from polar_customers.auth.scopes import Scope
from polar_customers.kit.time import utc_now
from polar_customers.models import Organization
from tests.factories import (
    TEST_KEY,
    bearer,
    create_customer,
    create_organization,
    create_organization_token,
    create_personal_token,
    create_user,
)

ID = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
READS = [
    ("GET", "/v1/customers/"),
    ("GET", "/v1/customers/export"),
    ("GET", f"/v1/customers/{ID}"),
    ("GET", "/v1/customers/external/usr_1"),
    ("GET", f"/v1/customers/{ID}/state"),
    ("GET", "/v1/customers/external/usr_1/state"),
    ("GET", f"/v1/customers/{ID}/balance"),
    ("GET", f"/v1/customers/{ID}/payment-methods"),
    ("GET", "/v1/customers/external/usr_1/payment-methods"),
]
WRITES = [
    ("POST", "/v1/customers/"),
    ("PATCH", f"/v1/customers/{ID}"),
    ("DELETE", f"/v1/customers/{ID}"),
    ("PATCH", "/v1/customers/external/usr_1"),
    ("DELETE", "/v1/customers/external/usr_1"),
]
MEMBER_READS = [
    ("GET", f"/v1/customers/{ID}/members"),
    ("GET", f"/v1/customers/{ID}/members/{ID}"),
    ("GET", "/v1/customers/external/usr_1/members"),
    ("GET", "/v1/customers/external/usr_1/members/m_1"),
]
MEMBER_WRITES = [
    ("POST", f"/v1/customers/{ID}/members"),
    ("PATCH", f"/v1/customers/{ID}/members/{ID}"),
    ("DELETE", f"/v1/customers/{ID}/members/{ID}"),
    ("POST", "/v1/customers/external/usr_1/members"),
    ("PATCH", "/v1/customers/external/usr_1/members/m_1"),
    ("DELETE", "/v1/customers/external/usr_1/members/m_1"),
]
_R = "{0}:read {0}:write web:read web:write"
_W = "{0}:write web:write"
# The billing resources: (method, path) -> the scopes a token lacking them is told about.
BILLING = {
    ("GET", "/v1/products/"): _R.format("products"),
    ("POST", "/v1/products/"): _W.format("products"),
    ("GET", f"/v1/products/{ID}"): _R.format("products"),
    ("PATCH", f"/v1/products/{ID}"): _W.format("products"),
    ("POST", f"/v1/products/{ID}/benefits"): _W.format("products"),
    ("GET", "/v1/benefits/"): _R.format("benefits"),
    ("POST", "/v1/benefits/"): _W.format("benefits"),
    ("GET", f"/v1/benefits/{ID}"): _R.format("benefits"),
    ("PATCH", f"/v1/benefits/{ID}"): _W.format("benefits"),
    ("DELETE", f"/v1/benefits/{ID}"): _W.format("benefits"),
    ("GET", f"/v1/benefits/{ID}/grants"): _R.format("benefits"),
    ("GET", "/v1/benefit-grants/"): _R.format("benefits"),
    ("GET", "/v1/subscriptions/"): _R.format("subscriptions"),
    ("POST", "/v1/subscriptions/"): _W.format("subscriptions"),
    ("GET", f"/v1/subscriptions/{ID}"): _R.format("subscriptions"),
    ("PATCH", f"/v1/subscriptions/{ID}"): _W.format("subscriptions"),
    ("DELETE", f"/v1/subscriptions/{ID}"): _W.format("subscriptions"),
    ("GET", "/v1/meters/"): _R.format("meters"),
    ("POST", "/v1/meters/"): _W.format("meters"),
    ("GET", f"/v1/meters/{ID}"): _R.format("meters"),
    ("PATCH", f"/v1/meters/{ID}"): _W.format("meters"),
    ("GET", f"/v1/meters/{ID}/quantities"): _R.format("meters"),
    ("POST", "/v1/events/ingest"): _W.format("events"),
    ("GET", "/v1/events/"): _R.format("events"),
    ("GET", "/v1/events/names"): _R.format("events"),
    ("GET", f"/v1/events/{ID}"): _R.format("events"),
    ("GET", "/v1/customer-meters/"): "customer_meters:read web:read web:write",
    ("GET", f"/v1/customer-meters/{ID}"): "customer_meters:read web:read web:write",
    ("GET", "/v1/orders/"): _R.format("orders"),
    ("GET", f"/v1/orders/{ID}"): _R.format("orders"),
    ("PATCH", f"/v1/orders/{ID}"): _W.format("orders"),
    ("GET", "/v1/payments/"): _R.format("orders"),
    ("GET", f"/v1/payments/{ID}"): _R.format("orders"),
    ("POST", "/v1/payments/"): _W.format("orders"),
    ("GET", "/v1/refunds/"): _R.format("orders"),
    ("POST", "/v1/refunds/"): _W.format("orders"),
}
OPERATIONS = READS + WRITES + MEMBER_READS + MEMBER_WRITES + list(BILLING)
CHALLENGED_SCOPES = {
    **BILLING,
    **dict.fromkeys(READS, "customers:read customers:write web:read web:write"),
    **dict.fromkeys(WRITES, "customers:write web:write"),
    **dict.fromkeys(MEMBER_READS, "members:read members:write web:read web:write"),
    **dict.fromkeys(MEMBER_WRITES, "members:write web:write"),
}
INVALID_TOKEN_DESCRIPTION = (
    "The access token provided is expired, revoked, malformed, or invalid for other reasons."
)
SCOPE_DESCRIPTION = "The request requires higher privileges than provided by the access token."


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body = {"email": "a@example.com"} if method in ("POST", "PATCH") else None
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
class TestEveryOperation:
    async def test_anonymous(self, client: httpx.AsyncClient, method: str, path: str) -> None:
        response = await call(client, method, path, {})
        assert response.status_code == 401
        assert response.content == b'{"error":"Unauthorized","detail":"Unauthorized"}'
        assert response.headers["www-authenticate"] == 'Bearer realm="polar"'

    @pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  "])
    async def test_unusable_header_is_anonymous(
        self, client: httpx.AsyncClient, method: str, path: str, header: str
    ) -> None:
        response = await call(client, method, path, {"Authorization": header})
        assert response.status_code == 401
        assert response.json()["error"] == "Unauthorized"

    async def test_invalid_token(self, client: httpx.AsyncClient, method: str, path: str) -> None:
        response = await call(client, method, path, bearer("polar_oat_nope"))
        assert response.status_code == 401
        assert response.content.decode() == json.dumps(
            {"error": "invalid_token", "error_description": INVALID_TOKEN_DESCRIPTION}
        )
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
        assert response.headers["content-type"] == "application/json"
        assert response.headers["www-authenticate"] == (
            f'Bearer realm="polar", error="invalid_token", '
            f'error_description="{INVALID_TOKEN_DESCRIPTION}"'
        )

    async def test_missing_scope(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        method: str,
        path: str,
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.organizations_read]
        )
        response = await call(client, method, path, bearer(token))
        assert response.status_code == 403
        assert response.json() == {
            "error": "insufficient_scope",
            "error_description": SCOPE_DESCRIPTION,
        }
        scopes = CHALLENGED_SCOPES[method, path]
        assert response.headers["www-authenticate"] == (
            f'Bearer realm="polar", scope="{scopes}", error="insufficient_scope", '
            f'error_description="{SCOPE_DESCRIPTION}"'
        )


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session)


class TestScopes:
    @pytest.mark.parametrize(("method", "path"), READS)
    async def test_read_scope_reads(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        method: str,
        path: str,
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.customers_read]
        )
        response = await call(client, method, path, bearer(token))
        assert response.status_code in (200, 404)

    @pytest.mark.parametrize(("method", "path"), WRITES)
    async def test_read_scope_cannot_write(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        method: str,
        path: str,
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.customers_read]
        )
        response = await call(client, method, path, bearer(token))
        assert response.status_code == 403

    async def test_write_implies_read(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.customers_write]
        )
        response = await client.get("/v1/customers/", headers=bearer(token))
        assert response.status_code == 200

    def test_reserved_scopes_not_grantable(self) -> None:
        with pytest.raises(ValueError, match="reserved"):
            auth_service._scope_string([Scope.web_read])


class TestTokenLifecycle:
    async def test_revoked(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        row, token = await auth_service.create_organization_token(
            session, organization_id=organization.id, scopes=[Scope.customers_read], key=TEST_KEY
        )
        assert (await client.get("/v1/customers/", headers=bearer(token))).status_code == 200
        assert await auth_service.revoke_token(session, id=row.id)
        response = await client.get("/v1/customers/", headers=bearer(token))
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"

    async def test_expired(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        _, token = await auth_service.create_organization_token(
            session,
            organization_id=organization.id,
            scopes=[Scope.customers_read],
            key=TEST_KEY,
            expires_at=utc_now() - timedelta(seconds=1),
        )
        response = await client.get("/v1/customers/", headers=bearer(token))
        assert response.status_code == 401

    async def test_blocked_organization(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        token = await create_organization_token(session, organization=organization)
        organization.blocked_at = utc_now()
        await session.flush()
        response = await client.get("/v1/customers/", headers=bearer(token))
        assert response.status_code == 401

    async def test_stored_only_as_hash(
        self, session: AsyncSession, organization: Organization
    ) -> None:
        row, token = await auth_service.create_organization_token(
            session, organization_id=organization.id, scopes=[Scope.customers_read], key=TEST_KEY
        )
        assert token.startswith("polar_oat_")
        assert len(token) == len("polar_oat_") + 43
        assert token not in row.token
        assert len(row.token) == 64

    async def test_invalid_token_on_unknown_path(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/nowhere", headers=bearer("nope"))
        assert response.status_code == 401

    async def test_personal_token_after_membership_ends(
        self, client: httpx.AsyncClient, session: AsyncSession, organization: Organization
    ) -> None:
        customer = await create_customer(session, organization=organization)
        user = await create_user(session, member_of=[organization])
        headers = bearer(await create_personal_token(session, user=user))
        path = f"/v1/customers/{customer.id}"
        assert (await client.get(path, headers=headers)).status_code == 200
        outsider = await create_user(session)
        outsider_headers = bearer(await create_personal_token(session, user=outsider))
        assert (await client.get(path, headers=outsider_headers)).status_code == 404
        listing = await client.get("/v1/customers/", headers=outsider_headers)
        assert listing.json()["pagination"]["total_count"] == 0

    async def test_missing_token_before_invalid_uuid(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/v1/customers/{uuid.uuid4().hex[:5]}")
        assert response.status_code == 401
