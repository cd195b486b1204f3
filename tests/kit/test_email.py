"""Email deliverability (D5): off by default, and when on, DNS answers decide."""

from collections.abc import AsyncIterator

import dns.resolver
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.app import create_app
from polar_customers.config import Settings
from polar_customers.kit import email
from tests.conftest import use_sessions
from tests.factories import bearer, create_organization, create_organization_token


class NoSuchDomain:
    """A resolver for a world where every domain is missing (no DNS reaches this machine)."""

    def resolve(self, *_args: object, **_kwargs: object) -> object:
        raise dns.resolver.NXDOMAIN


@pytest.fixture
async def checking_client(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"email_check_deliverability": True}))
    use_sessions(app.state.database, sessions)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    await app.state.database.dispose()


async def test_off_by_default(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(email, "dns_resolver", NoSuchDomain)
    organization = await create_organization(session)
    headers = bearer(await create_organization_token(session, organization=organization))
    response = await client.post("/v1/customers/", json={"email": "a@nowhere.dev"}, headers=headers)
    assert response.status_code == 201


async def test_undeliverable_when_enabled(
    checking_client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(email, "dns_resolver", NoSuchDomain)
    organization = await create_organization(session)
    headers = bearer(await create_organization_token(session, organization=organization))
    response = await checking_client.post(
        "/v1/customers/", json={"email": "A@Nowhere.dev"}, headers=headers
    )
    assert response.status_code == 422
    reason = "The domain name nowhere.dev does not exist."
    assert response.json()["detail"] == [
        {
            "type": "value_error",
            "loc": ["body", "email"],
            "msg": f"A@nowhere.dev is not a valid email address: {reason}",
            "input": "A@nowhere.dev",
            "ctx": {"email": "A@nowhere.dev", "reason": reason},
        }
    ]
