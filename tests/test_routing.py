"""Paths, redirects, legacy prefix, CORS and framework errors."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import bearer, create_organization, create_organization_token


async def headers_for(session: AsyncSession) -> dict[str, str]:
    organization = await create_organization(session)
    return bearer(await create_organization_token(session, organization=organization))


class TestRouting:
    async def test_list_without_slash_redirects(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        response = await client.get("/v1/customers?limit=1", headers=await headers_for(session))
        assert response.status_code == 307
        assert response.headers["location"] == "http://testserver/v1/customers/?limit=1"
        assert response.content == b""

    async def test_trailing_slash_redirects(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        response = await client.get("/v1/customers/export/", headers=await headers_for(session))
        assert response.status_code == 307
        assert response.headers["location"] == "http://testserver/v1/customers/export"

    async def test_legacy_prefix(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        response = await client.get("/api/v1/customers/", headers=await headers_for(session))
        assert response.status_code == 200
        assert response.headers["x-polar-deprecation-notice"] == (
            "The API root has moved from /api/v1 to /v1. Please update your integration."
        )

    async def test_unknown_path(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/nothing")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}

    async def test_method_not_allowed(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/v1/customers/")
        assert response.status_code == 405
        assert response.json() == {"detail": "Method Not Allowed"}
        assert "allow" in response.headers

    async def test_cors_preflight(self, client: httpx.AsyncClient) -> None:
        response = await client.options(
            "/v1/customers/",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["access-control-max-age"] == "600"
