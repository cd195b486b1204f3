"""Server processes and pools: two workers on an empty database, more requests than connections."""

import os
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text

from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.models import Customer, Organization, OrganizationAccessToken
from tests.factories import TEST_SECRET, bearer
from tests.server.concurrency_support import gather_responses
from tests.server.support import ServerProcess, Tenant

pytestmark = pytest.mark.server

ENGINE = os.environ.get("POLAR_CUSTOMERS_TEST_ENGINE", "sqlite")
POSTGRES_URL = os.environ.get(
    "POLAR_CUSTOMERS_TEST_POSTGRES_URL",
    "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres",
)


async def _admin(statement: str) -> None:
    import asyncpg  # only needed for PostgreSQL runs

    connection = await asyncpg.connect(
        POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def empty_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A new database with no schema at all, on the run's engine."""
    if ENGINE == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"polar_customers_empty_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def wait_for_workers(server: ServerProcess, count: int, timeout: float = 30.0) -> list[int]:
    """The pids of the uvicorn workers, once `count` of them have finished starting up."""
    deadline = time.monotonic() + timeout
    while True:
        output = server.output()
        pids = [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", output)]
        if len(pids) >= count and output.count("Application startup complete.") >= count:
            return pids
        if server.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{count} workers did not start:\n{output}")
        time.sleep(0.1)


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if match := re.fullmatch(r"socket:\[(\d+)\]", target):
            inodes.add(int(match.group(1)))
    return inodes


def _established_server_sockets(port: int) -> set[int]:
    """Inodes of the established TCP sockets whose local port is `port` (the server's side)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "01":
            inodes.add(int(fields[9]))
    return inodes


def connections_served_by(server: ServerProcess, pids: list[int], token: str) -> dict[int, int]:
    """Open connections one at a time, each answered 200, and count them per worker process."""
    port = int(server.base_url.rsplit(":", 1)[1])
    clients = [
        httpx.Client(base_url=server.base_url, headers=bearer(token), timeout=30.0)
        for _ in range(30)
    ]
    try:
        for client in clients:
            response = client.get("/v1/customers/")
            assert response.status_code == 200, response.text
        held = _established_server_sockets(port)
        return {pid: len(_socket_inodes(pid) & held) for pid in pids}
    finally:
        for client in clients:
            client.close()


async def test_two_workers_on_an_empty_database(
    empty_database_url: str, server_factory: Callable[..., ServerProcess]
) -> None:
    server = server_factory(empty_database_url, workers=2)
    pids = wait_for_workers(server, 2)
    output = server.output()

    [organization_id] = re.findall(r"^Organization ID: (\S+)$", output, re.MULTILINE)
    [token] = re.findall(r"^Access token \(shown once\): (polar_oat_\w+)$", output, re.MULTILINE)
    assert f"Polar Customers API: {server.base_url}" in output
    assert "Traceback" not in output
    assert "ERROR" not in output
    assert len(set(pids)) == 2
    assert server.process.pid not in pids

    # Migrated once, bootstrapped once: one schema version, one organization, one token.
    engine = create_engine(Settings(database_url=empty_database_url, secret=TEST_SECRET))
    try:
        async with engine.connect() as connection:
            versions = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).all()
            organizations = (await connection.execute(select(Organization.id))).scalars().all()
            tokens = await connection.scalar(
                select(func.count()).select_from(OrganizationAccessToken)
            )
            customers = await connection.scalar(select(func.count()).select_from(Customer))
    finally:
        await engine.dispose()
    assert len(versions) == 1
    assert [str(id) for id in organizations] == [organization_id]
    assert tokens == 1
    assert customers == 0

    # Every request of a concurrent batch, spread over fresh connections, succeeds.
    batch = 40
    limits = httpx.Limits(max_connections=batch, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=bearer(token), timeout=60.0, limits=limits
    ) as client:
        responses = await gather_responses(
            *(
                client.post("/v1/customers/", json={"email": f"worker{n}@example.com"})
                if n % 2
                else client.get("/v1/customers/")
                for n in range(batch)
            )
        )
        assert [response.status_code for response in responses] == [
            201 if n % 2 else 200 for n in range(batch)
        ], [response.text for response in responses]
        for response in responses:
            assert response.json().get("organization_id", organization_id) == organization_id
        listed = await client.get("/v1/customers/", params={"limit": 100})
        assert listed.status_code == 200
        assert listed.json()["pagination"]["total_count"] == batch // 2

    # Both workers serve: keep-alive connections opened one after the other are held by both.
    served = connections_served_by(server, pids, token)
    assert all(served[pid] > 0 for pid in pids), served
    assert server.process.poll() is None

    # Another start on the same database keeps its organization and issues no new token.
    again = server_factory(empty_database_url)
    output = again.output()
    assert f"Organization ID: {organization_id}" in output
    assert "Access token" not in output
    # The command as it can be typed from there: this environment's script, not on the PATH.
    script = Path(sys.executable).parent / "polar-customers"
    assert f"Create an access token with: {script} token create --org <id>" in output
    async with httpx.AsyncClient(base_url=again.base_url, headers=bearer(token)) as client:
        listed = await client.get("/v1/customers/")
        assert listed.status_code == 200
        assert listed.json()["pagination"]["total_count"] == batch // 2


async def test_more_concurrent_requests_than_connections(
    database_url: str, server_factory: Callable[..., ServerProcess], tenant: Tenant
) -> None:
    """With two connections per pool, twelve concurrent reads of every kind all answer: a
    request holds one hot connection and then one session connection, never two of a pool."""
    server = server_factory(database_url, POLAR_CUSTOMERS_DATABASE_POOL_SIZE="1")
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=bearer(tenant.token), timeout=20.0
    ) as client:
        created = await client.post("/v1/customers/", json={"email": "pool@example.com"})
        assert created.status_code == 201, created.text
        customer = f"/v1/customers/{created.json()['id']}"
        paths = ["/v1/customers/", "/v1/customers/export", customer, f"{customer}/state"] * 3
        started = time.monotonic()
        responses = await gather_responses(*(client.get(path) for path in paths))
    assert [response.status_code for response in responses] == [200] * len(paths)
    assert time.monotonic() - started < 15  # no request waited long for a connection
