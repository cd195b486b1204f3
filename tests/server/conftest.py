"""Fixtures that run the real server process and seed the tenants it serves.

`live_server` starts `python -m polar_customers serve` once per run on the run's database.
Every test then gets its own organization and tokens, committed to that database through a
separate engine, so tests never see each other's customers.
"""

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence

import httpx
import pytest
from polar_sdk import Polar
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from polar_customers.auth.scopes import Scope
from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.models import Organization
from polar_customers.organizations import repository as organizations_repository
from tests import factories
from tests.factories import READ_WRITE
from tests.server.support import (
    REQUEST_TIMEOUT_MS,
    Api,
    ApiFactory,
    Member,
    ServerProcess,
    Tenant,
    new_tenant,
    start_server,
)


@pytest.fixture(scope="session")
def server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., ServerProcess]]:
    """Starts servers on demand (`factory(database_url, workers=n, SETTING=value)`); stops them
    all at the end."""
    started: list[ServerProcess] = []

    def factory(database_url: str, *, workers: int = 1, **settings: str) -> ServerProcess:
        directory = tmp_path_factory.mktemp("server")
        server = start_server(database_url, directory, workers=workers, settings=settings)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def live_server_process(
    database_url: str, server_factory: Callable[..., ServerProcess]
) -> ServerProcess:
    return server_factory(database_url)


@pytest.fixture(scope="session")
def live_server(live_server_process: ServerProcess) -> str:
    """The base URL of the real server, serving the run's database."""
    return live_server_process.base_url


@pytest.fixture(autouse=True)
def _server_still_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a server test whose server died under it, with the server's output."""
    yield
    if "live_server_process" in request.fixturenames:
        server: ServerProcess = request.getfixturevalue("live_server_process")
        if server.process.poll() is not None:
            pytest.fail(f"the server died during the test:\n{server.output()}")


# Seeding -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def seed_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine of the test process itself, on the database the server serves."""
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def seed_sessions(seed_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(seed_engine, expire_on_commit=False)


async def _organization(session: AsyncSession, tenant: Tenant) -> Organization:
    organization = await organizations_repository.get_organization(
        session, uuid.UUID(tenant.organization_id)
    )
    assert organization is not None
    return organization


async def _new_organization_token(
    sessions: async_sessionmaker[AsyncSession], tenant: Tenant, scopes: Iterable[Scope]
) -> str:
    async with sessions() as session, session.begin():
        organization = await _organization(session, tenant)
        return await factories.create_organization_token(
            session, organization=organization, scopes=scopes
        )


async def _new_member(
    sessions: async_sessionmaker[AsyncSession], tenants: Sequence[Tenant]
) -> Member:
    async with sessions() as session, session.begin():
        organizations = []
        for tenant in tenants:
            organizations.append(await _organization(session, tenant))
        user = await factories.create_user(session, member_of=organizations)
        token = await factories.create_personal_token(session, user=user, scopes=READ_WRITE)
        return Member(
            user_id=str(user.id),
            token=token,
            organization_ids=tuple(tenant.organization_id for tenant in tenants),
        )


@pytest.fixture
async def tenant(seed_sessions: async_sessionmaker[AsyncSession], live_server: str) -> Tenant:
    """A fresh organization of this test, with a read and write organization token."""
    return await new_tenant(seed_sessions, "Tenant")


@pytest.fixture
async def other_tenant(seed_sessions: async_sessionmaker[AsyncSession], live_server: str) -> Tenant:
    """A second fresh organization, with its own read and write token."""
    return await new_tenant(seed_sessions, "Other tenant")


@pytest.fixture
async def read_only_token(seed_sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> str:
    """An organization token of `tenant` with customers:read only."""
    return await _new_organization_token(seed_sessions, tenant, [Scope.customers_read])


@pytest.fixture
async def organizations_read_token(
    seed_sessions: async_sessionmaker[AsyncSession], tenant: Tenant
) -> str:
    """An organization token of `tenant` with organizations:read only (no customer scope)."""
    return await _new_organization_token(seed_sessions, tenant, [Scope.organizations_read])


@pytest.fixture
async def member(
    seed_sessions: async_sessionmaker[AsyncSession], tenant: Tenant, other_tenant: Tenant
) -> Member:
    """A user in both `tenant` and `other_tenant`, with a read and write personal token."""
    return await _new_member(seed_sessions, [tenant, other_tenant])


@pytest.fixture
async def lone_member(seed_sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> Member:
    """A user in `tenant` only, with a read and write personal token."""
    return await _new_member(seed_sessions, [tenant])


# Clients -----------------------------------------------------------------------------------


@pytest.fixture
async def api_factory(live_server: str) -> AsyncIterator[ApiFactory]:
    """`api_factory(token)`: an official client on the live server, recording the responses."""
    clients: list[httpx.Client] = []
    async_clients: list[httpx.AsyncClient] = []

    def factory(token: str) -> Api:
        responses: list[httpx.Response] = []

        def record(response: httpx.Response) -> None:
            responses.append(response)

        client = httpx.Client(follow_redirects=True, event_hooks={"response": [record]})
        async_client = httpx.AsyncClient(follow_redirects=True)
        clients.append(client)
        async_clients.append(async_client)
        polar = Polar(
            access_token=token,
            server_url=live_server,
            client=client,
            async_client=async_client,
            timeout_ms=REQUEST_TIMEOUT_MS,
        )
        return Api(polar=polar, responses=responses)

    yield factory
    for client in clients:
        client.close()
    for async_client in async_clients:
        await async_client.aclose()


@pytest.fixture
def api(tenant: Tenant, api_factory: ApiFactory) -> Api:
    """The official client with the tenant's read and write organization token."""
    return api_factory(tenant.token)


@pytest.fixture
def other_api(other_tenant: Tenant, api_factory: ApiFactory) -> Api:
    """The official client with the other tenant's organization token."""
    return api_factory(other_tenant.token)
