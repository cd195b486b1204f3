"""Slow and greedy clients cannot stall other requests: no request holds a pooled connection
while it waits on its client, a request body that trickles in is answered 408, and a pool
that is exhausted anyway answers 503 with Retry-After, never 500.

The slow clients are raw sockets against a real server process; the other tenants use httpx.
"""

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy.exc
from fastapi import Request
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from polar_customers.app import create_app
from polar_customers.config import Settings
from polar_customers.db import get_session
from polar_customers.kit.raw_sql import Checkout
from polar_customers.models import Customer
from tests.factories import bearer
from tests.server.support import ServerProcess, Tenant

pytestmark = pytest.mark.server

SLOW_CLIENTS = 40  # more than every pool of a process together
BODY_TIMEOUT_S = 4
EXPORTED = 15_000  # with long names, a CSV of ~6 MB: more than a socket's buffers hold
QUICK_S = 3.0  # a get that waited for a pool would wait up to its 30 s timeout


@pytest.fixture(scope="module")
def server(database_url: str, server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    """A server whose clients have `BODY_TIMEOUT_S` seconds to send a body. Its pool timeout
    is long: under CI's load an export's batch may wait more than the default 5 s for the
    scans pool that the other slow exports share, and the test is about the others' reads."""
    return server_factory(
        database_url,
        POLAR_CUSTOMERS_REQUEST_BODY_TIMEOUT=str(BODY_TIMEOUT_S),
        POLAR_CUSTOMERS_DATABASE_POOL_TIMEOUT="30",
    )


async def _open(server: ServerProcess, request: bytes, *, receive_buffer: int = 0) -> Any:
    host, port = urlsplit(server.base_url).hostname, urlsplit(server.base_url).port
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(request)
    await writer.drain()
    return reader, writer


def _request(method: str, path: str, token: str, extra: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n"
    return (head + extra + "\r\n").encode()


async def _customer_of(api: httpx.AsyncClient) -> str:
    response = await api.post("/v1/customers/", json={"email": f"{uuid.uuid4().hex}@x.dev"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _assert_quick_gets(api: httpx.AsyncClient, customer_id: str, count: int = 20) -> None:
    """`count` gets by id, each answered 200 within `QUICK_S` (a timeout fails the test)."""
    for _ in range(count):
        response = await api.get(f"/v1/customers/{customer_id}", timeout=QUICK_S)
        assert response.status_code == 200, response.text


@pytest.fixture
async def other_api(
    server: ServerProcess, other_tenant: Tenant
) -> AsyncIterator[httpx.AsyncClient]:
    headers = bearer(other_tenant.token)
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
        yield client


async def test_slow_bodies_do_not_stall_others(
    server: ServerProcess, tenant: Tenant, other_api: httpx.AsyncClient
) -> None:
    customer_id = await _customer_of(other_api)
    headers = "Content-Type: application/json\r\nContent-Length: 1000000\r\n"
    async with AsyncExitStack() as stack:
        slow = []
        for _ in range(SLOW_CLIENTS):
            reader, writer = await _open(
                server, _request("POST", "/v1/customers/", tenant.token, headers) + b"{"
            )
            stack.callback(writer.close)
            slow.append(reader)

        await _assert_quick_gets(other_api, customer_id)

        for reader in slow:
            head, body = await asyncio.wait_for(_response(reader), BODY_TIMEOUT_S * 3)
            assert head.startswith(b"HTTP/1.1 408 "), head
            assert json.loads(body) == {
                "error": "RequestTimeout",
                "detail": "The request body was not received in time.",
            }


async def _response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The head and body of a response with a Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.lower().split(b"\r\n")
        if line.startswith(b"content-length:")
    )
    return head, await reader.readexactly(length)


async def _seed(seed_sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> None:
    rows = [
        {
            "organization_id": uuid.UUID(tenant.organization_id),
            "email": f"c{index}@slow.dev",
            "name": "n" * 300,
        }
        for index in range(EXPORTED)
    ]
    async with seed_sessions() as session, session.begin():
        await session.execute(insert(Customer), rows)


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    data = b""
    while chunk := await reader.read(1 << 20):
        data += chunk
    return data


@pytest.mark.parametrize("accept", ["text/csv", "application/json"])
async def test_slow_export_readers_do_not_stall_others(
    server: ServerProcess,
    tenant: Tenant,
    other_api: httpx.AsyncClient,
    seed_sessions: async_sessionmaker[AsyncSession],
    accept: str,
) -> None:
    await _seed(seed_sessions, tenant)
    customer_id = await _customer_of(other_api)
    request = _request(
        "GET", "/v1/customers/export", tenant.token, f"Accept: {accept}\r\nConnection: close\r\n"
    )
    async with AsyncExitStack() as stack:
        readers = []
        for _ in range(SLOW_CLIENTS // 2):
            # A small window: the server's writes block once its socket buffers are full.
            reader, writer = await _open(server, request, receive_buffer=4096)
            stack.callback(writer.close)
            readers.append(reader)
        await asyncio.sleep(1)  # the exports run until their sockets are full

        await _assert_quick_gets(other_api, customer_id)

        for reader in readers:  # every export started well
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        for reader in readers[:2]:  # and a slow reader still gets all of it
            body = await asyncio.wait_for(_read_all(reader), 120)
            assert body.count(b"@slow.dev") == EXPORTED


# A pool exhausted anyway: in-process, on the real pools of the run's database ------------------


@pytest.fixture
async def busy_app(settings: Settings, live_server: str) -> AsyncIterator[Any]:
    app = create_app(settings.model_copy(update={"database_pool_timeout": 0.2}))
    yield app
    await app.state.database.dispose()


async def _exhaust_hot(app: Any, stack: AsyncExitStack) -> None:
    while True:
        try:
            checkout: Checkout = await app.state.database.hot.checkout()
        except sqlalchemy.exc.TimeoutError:
            return
        stack.push_async_callback(checkout.release)


async def _exhaust_writes(app: Any, stack: AsyncExitStack) -> None:
    engine = app.state.database.write_sessions.kw["bind"]
    while True:
        try:
            connection: AsyncConnection = await engine.connect()
        except sqlalchemy.exc.TimeoutError:
            return
        stack.push_async_callback(connection.close)


def _assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {
        "error": "ServiceUnavailable",
        "detail": "The server is busy. Retry the request shortly.",
    }
    assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize("pool", ["hot", "writes"])
async def test_exhausted_pool_is_503(busy_app: Any, tenant: Tenant, pool: str) -> None:
    transport = httpx.ASGITransport(app=busy_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=bearer(tenant.token)
    ) as client:
        async with AsyncExitStack() as stack:
            await (_exhaust_hot if pool == "hot" else _exhaust_writes)(busy_app, stack)
            response = await client.post("/v1/customers/", json={"email": "busy@example.com"})
            _assert_busy(response)
        response = await client.post("/v1/customers/", json={"email": "busy@example.com"})
        assert response.status_code == 201


async def test_routes_without_hot_reads_give_the_connection_back(
    busy_app: Any, tenant: Tenant
) -> None:
    """A list or a write runs on a session connection only: the hot connection that resolved
    its token is back in the pool before the session takes its own."""
    hot_in_use: list[int] = []

    async def recording_session(request: Request) -> AsyncIterator[AsyncSession]:
        hot_in_use.append(busy_app.state.database.hot.engine.pool.checkedout())
        async for session in get_session(request):
            yield session

    busy_app.dependency_overrides[get_session] = recording_session
    transport = httpx.ASGITransport(app=busy_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=bearer(tenant.token)
    ) as client:
        assert (await client.get("/v1/customers/")).status_code == 200
        created = await client.post("/v1/customers/", json={"email": "lease@example.com"})
        assert created.status_code == 201

    assert hot_in_use == [0, 0]
