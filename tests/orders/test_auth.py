"""Authentication and scopes of the order, payment and refund operations (orders:read reads,
orders:write writes, including the recording of payments and refunds)."""

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.models import Organization
from tests.factories import (
    bearer,
    create_organization_token,
    create_personal_token,
    create_user,
)

ID = str(uuid.uuid4())
READS = [
    ("GET", "/v1/orders/"),
    ("GET", f"/v1/orders/{ID}"),
    ("GET", "/v1/payments/"),
    ("GET", f"/v1/payments/{ID}"),
    ("GET", "/v1/refunds/"),
]
WRITES = [
    ("PATCH", f"/v1/orders/{ID}"),
    ("POST", "/v1/payments/"),
    ("POST", "/v1/refunds/"),
]
READ_CHALLENGE = "orders:read orders:write web:read web:write"
WRITE_CHALLENGE = "orders:write web:write"
SCOPE_DESCRIPTION = "The request requires higher privileges than provided by the access token."


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body = {"billing_name": None, "billing_address": None} if method != "GET" else None
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path"), READS + WRITES)
async def test_anonymous(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await call(client, method, path, {})
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "detail": "Unauthorized"}
    assert response.headers["www-authenticate"] == 'Bearer realm="polar"'


@pytest.mark.parametrize(("method", "path"), READS + WRITES)
async def test_missing_scope(
    client: httpx.AsyncClient,
    session: AsyncSession,
    organization: Organization,
    method: str,
    path: str,
) -> None:
    token = await create_organization_token(
        session, organization=organization, scopes=[Scope.customers_write]
    )
    response = await call(client, method, path, bearer(token))
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "error_description": SCOPE_DESCRIPTION,
    }
    scopes = READ_CHALLENGE if (method, path) in READS else WRITE_CHALLENGE
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="polar", scope="{scopes}", error="insufficient_scope", '
        f'error_description="{SCOPE_DESCRIPTION}"'
    )


@pytest.mark.parametrize(("method", "path"), WRITES)
async def test_read_scope_cannot_write(
    client: httpx.AsyncClient,
    session: AsyncSession,
    organization: Organization,
    method: str,
    path: str,
) -> None:
    token = await create_organization_token(
        session, organization=organization, scopes=[Scope.orders_read]
    )
    response = await call(client, method, path, bearer(token))
    assert response.status_code == 403


@pytest.mark.parametrize(("method", "path"), READS)
async def test_write_implies_read(
    client: httpx.AsyncClient,
    session: AsyncSession,
    organization: Organization,
    method: str,
    path: str,
) -> None:
    token = await create_organization_token(
        session, organization=organization, scopes=[Scope.orders_write]
    )
    response = await call(client, method, path, bearer(token))
    assert response.status_code in (200, 404)


async def test_personal_token_of_a_member(
    client: httpx.AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    user = await create_user(session, member_of=[organization])
    token = await create_personal_token(session, user=user, scopes=[Scope.orders_read])
    response = await client.get("/v1/orders/", headers=bearer(token))
    assert response.status_code == 200
