"""Concurrent requests against the real server, and a multi-worker start on an empty database."""

import asyncio
import os
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.models import Customer, Organization, OrganizationAccessToken
from tests.factories import TEST_SECRET, bearer
from tests.server.support import ServerProcess, Tenant

pytestmark = pytest.mark.server

RACERS = 20
ROUNDS = 5
DUPLICATE_EMAIL = "A customer with this email address already exists."
DUPLICATE_EXTERNAL_ID = "A customer with this external ID already exists."
ENGINE = os.environ.get("POLAR_CUSTOMERS_TEST_ENGINE", "sqlite")
POSTGRES_URL = os.environ.get(
    "POLAR_CUSTOMERS_TEST_POSTGRES_URL",
    "postgresql+asyncpg://postgres:postgres@127.0.0.1:5432/postgres",
)


@pytest.fixture
async def http(live_server: str, tenant: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client with the tenant's token; a connection per concurrent request."""
    limits = httpx.Limits(max_connections=RACERS * 2)
    async with httpx.AsyncClient(
        base_url=live_server, headers=bearer(tenant.token), timeout=60.0, limits=limits
    ) as client:
        yield client


async def gather_responses(*requests: Awaitable[httpx.Response]) -> list[httpx.Response]:
    """Run requests together; a dropped connection fails the test with the others' statuses."""
    results = await asyncio.gather(*requests, return_exceptions=True)
    responses = [result for result in results if isinstance(result, httpx.Response)]
    errors = [result for result in results if not isinstance(result, httpx.Response)]
    assert not errors, (
        f"{len(errors)} requests got no response ({errors[0]!r}); the others got "
        f"{sorted(response.status_code for response in responses)}; see the server log"
    )
    return responses


def validation_body(field: str, msg: str, value: str) -> dict[str, Any]:
    """The exact PolarRequestValidationError body of contract Appendix A."""
    return {
        "error": "PolarRequestValidationError",
        "detail": [{"type": "value_error", "loc": ["body", field], "msg": msg, "input": value}],
    }


def assert_one_winner(
    responses: list[httpx.Response], success: int, loser_body: dict[str, Any]
) -> httpx.Response:
    statuses = sorted(response.status_code for response in responses)
    assert statuses == sorted([success] + [422] * (len(responses) - 1)), [
        (response.status_code, response.text) for response in responses
    ]
    for response in responses:
        if response.status_code == 422:
            assert response.headers["content-type"] == "application/json"
            assert response.json() == loser_body
    [winner] = [response for response in responses if response.status_code == success]
    return winner


async def list_total(http: httpx.AsyncClient, **params: str) -> int:
    response = await http.get("/v1/customers/", params=params)
    assert response.status_code == 200, response.text
    total: int = response.json()["pagination"]["total_count"]
    return total


async def test_concurrent_creates_with_the_same_email(http: httpx.AsyncClient) -> None:
    email = "race@example.com"
    responses = await gather_responses(
        *(http.post("/v1/customers/", json={"email": email}) for _ in range(RACERS))
    )
    winner = assert_one_winner(responses, 201, validation_body("email", DUPLICATE_EMAIL, email))
    assert winner.json()["email"] == email
    assert await list_total(http, email=email) == 1
    assert await list_total(http) == 1


async def test_concurrent_creates_with_the_same_email_in_other_cases(
    http: httpx.AsyncClient,
) -> None:
    variants = ["race@example.com", "RACE@example.com", "Race@example.com"]
    emails = [variants[n % len(variants)] for n in range(RACERS)]
    responses = await gather_responses(
        *(http.post("/v1/customers/", json={"email": email}) for email in emails)
    )
    assert sorted(response.status_code for response in responses) == [201] + [422] * (RACERS - 1), [
        (response.status_code, response.text) for response in responses
    ]
    for email, response in zip(emails, responses, strict=True):
        if response.status_code == 422:
            assert response.json() == validation_body("email", DUPLICATE_EMAIL, email)
    assert await list_total(http) == 1


async def test_concurrent_creates_with_the_same_external_id(http: httpx.AsyncClient) -> None:
    external_id = "usr_race"
    responses = await gather_responses(
        *(
            http.post(
                "/v1/customers/",
                json={"email": f"racer{n}@example.com", "external_id": external_id},
            )
            for n in range(RACERS)
        )
    )
    winner = assert_one_winner(
        responses, 201, validation_body("external_id", DUPLICATE_EXTERNAL_ID, external_id)
    )
    assert winner.json()["external_id"] == external_id
    response = await http.get(f"/v1/customers/external/{external_id}")
    assert response.status_code == 200
    assert response.json()["id"] == winner.json()["id"]
    assert await list_total(http) == 1


async def _create_many(http: httpx.AsyncClient, count: int) -> list[str]:
    ids = []
    for n in range(count):
        response = await http.post("/v1/customers/", json={"email": f"owner{n}@example.com"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_concurrent_updates_to_the_same_email(http: httpx.AsyncClient) -> None:
    ids = await _create_many(http, RACERS)
    for round in range(ROUNDS):  # the race is timing-dependent: run it several times
        email = f"wanted{round}@example.com"
        responses = await gather_responses(
            *(http.patch(f"/v1/customers/{id}", json={"email": email}) for id in ids)
        )
        winner = assert_one_winner(responses, 200, validation_body("email", DUPLICATE_EMAIL, email))
        assert winner.json()["email"] == email
        assert await list_total(http, email=email) == 1


async def test_concurrent_updates_to_the_same_external_id(http: httpx.AsyncClient) -> None:
    ids = await _create_many(http, RACERS + ROUNDS)
    for round in range(ROUNDS):  # each round's winner is out: its external ID is now set
        external_id = f"wanted-{round}"
        responses = await gather_responses(
            *(http.patch(f"/v1/customers/{id}", json={"external_id": external_id}) for id in ids)
        )
        winner = assert_one_winner(
            responses, 200, validation_body("external_id", DUPLICATE_EXTERNAL_ID, external_id)
        )
        response = await http.get(f"/v1/customers/external/{external_id}")
        assert response.status_code == 200
        assert response.json()["id"] == winner.json()["id"]
        ids.remove(winner.json()["id"])


async def test_concurrent_first_external_ids_of_one_customer(http: httpx.AsyncClient) -> None:
    """An external ID can be set once (contract 6): of racing first values, exactly one wins."""
    ids = await _create_many(http, 2 * ROUNDS)
    for id in ids:
        values = [f"first-{id[:8]}-{n}" for n in range(RACERS)]
        responses = await gather_responses(
            *(http.patch(f"/v1/customers/{id}", json={"external_id": value}) for value in values)
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [422] * (RACERS - 1), [r.text for r in responses]
        [winner] = [response for response in responses if response.status_code == 200]
        for value, response in zip(values, responses, strict=True):
            if response.status_code == 422:
                assert response.json() == validation_body(
                    "external_id", "Customer external ID cannot be updated.", value
                )
        stored = await http.get(f"/v1/customers/{id}")
        assert stored.json()["external_id"] == winner.json()["external_id"]


async def test_concurrent_deletes_of_one_customer(http: httpx.AsyncClient) -> None:
    """Delete is not idempotent (contract 5.6): one 204, and 404 for every other attempt."""
    ids = await _create_many(http, 2 * ROUNDS)
    for id in ids:
        responses = await gather_responses(
            *(http.delete(f"/v1/customers/{id}") for _ in range(RACERS))
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [204] + [404] * (RACERS - 1), [r.text for r in responses]
        for response in responses:
            if response.status_code == 404:
                assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}
    assert await list_total(http) == 0


async def test_a_write_is_committed_before_its_response_is_sent(
    http: httpx.AsyncClient,
    database_url: str,
    seed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Once a client holds a 2xx, every other reader must see the write (read-your-writes).

    The database is read directly, in a new transaction, right after each response (on SQLite
    with the standard library driver, which answers without a thread hop).
    """

    async def stored(id: str) -> tuple[str | None, bool] | None:
        """The stored name and whether the customer is deleted; None when there is no row."""
        if database_url.startswith("sqlite"):
            path = database_url.split(":///", 1)[1]
            with closing(sqlite3.connect(path, isolation_level=None)) as connection:
                row = connection.execute(
                    "SELECT name, deleted_at IS NOT NULL FROM customers WHERE id = ?",
                    (uuid.UUID(id).hex,),
                ).fetchone()
            return None if row is None else (row[0], bool(row[1]))
        async with seed_sessions() as session:
            customer = await session.get(Customer, uuid.UUID(id))
            return None if customer is None else (customer.name, customer.deleted_at is not None)

    stale: list[str] = []
    for n in range(30):
        created = await http.post("/v1/customers/", json={"email": f"commit{n}@example.com"})
        assert created.status_code == 201, created.text
        id = created.json()["id"]
        if await stored(id) != (None, False):
            stale.append(f"POST #{n}: the created customer is not in the database yet")

        updated = await http.patch(f"/v1/customers/{id}", json={"name": f"Name {n}"})
        assert updated.status_code == 200, updated.text
        if await stored(id) != (f"Name {n}", False):
            stale.append(f"PATCH #{n}: the database still has the old name")

        deleted = await http.delete(f"/v1/customers/{id}")
        assert deleted.status_code == 204, deleted.text
        if await stored(id) != (f"Name {n}", True):
            stale.append(f"DELETE #{n}: the customer is not deleted in the database yet")
    assert stale == []


# Several workers on an empty database -------------------------------------------------------


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
    assert "Create an access token with: polar-customers token create --org <id>" in output
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
    assert time.monotonic() - started < 15  # far below the pools' 30 s checkout timeout
