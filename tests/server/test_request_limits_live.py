"""The request limits against the real server process (uvicorn, raw sockets): what a hostile
client sends is refused before it is read in full, and the server keeps serving others
(docs/decisions.md#d48)."""

import asyncio
import json
from urllib.parse import urlsplit

import httpx
import pytest

from tests.server.support import ServerProcess, Tenant

pytestmark = pytest.mark.usefixtures("live_server_process")


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict[str, object]]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    lines = head.decode().split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in lines[1:] if line)
    body = await asyncio.wait_for(reader.readexactly(int(fields["content-length"])), 30)
    return int(lines[0].split()[1]), json.loads(body)


async def _exchange(server: str, head: bytes) -> tuple[int, dict[str, object]]:
    """Send a request's head and read the response's status and JSON body."""
    address = urlsplit(server)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(head)
        await writer.drain()
        return await _response(reader)
    finally:
        writer.close()


async def test_announced_100_mb_without_token(live_server: str) -> None:
    head = (
        b"POST /v1/customers/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 104857600\r\n\r\n"
    )
    # Nothing of the body is sent: the answer does not wait for it.
    status, body = await _exchange(live_server, head)
    assert (status, body["error"]) == (413, "RequestBodyTooLarge")


async def test_streamed_body_without_length(live_server: str, tenant: Tenant) -> None:
    head = (
        b"POST /v1/customers/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + tenant.token.encode() + b"\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"10000\r\n" + b" " * 65_536 + b"\r\n"
    address = urlsplit(live_server)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(head)
        # 2 MiB offered, 64 KiB at a time; the answer comes once the first 1 MiB is passed.
        for _ in range(32):
            writer.write(chunk)
            await writer.drain()
        status, body = await _response(reader)
    finally:
        writer.close()
    assert (status, body["error"]) == (413, "RequestBodyTooLarge")


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        (b"X-Filler: " + b"h" * 10_000_000 + b"\r\n", 431, "RequestHeaderFieldsTooLarge"),
        (
            b"".join(b"X-F%d: 1\r\n" % index for index in range(50_000)),
            431,
            "RequestHeaderFieldsTooLarge",
        ),
    ],
    ids=["10 MB header", "50,000 headers"],
)
async def test_huge_heads(live_server: str, headers: bytes, status: int, error: str) -> None:
    head = b"GET /v1/customers/ HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    result = await _exchange(live_server, head)
    assert (result[0], result[1]["error"]) == (status, error)


async def test_long_url(live_server: str) -> None:
    head = b"GET /v1/customers/?query=" + b"q" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status, body = await _exchange(live_server, head)
    assert (status, body["error"]) == (414, "URITooLong")


async def test_still_serving(
    live_server: str, tenant: Tenant, live_server_process: ServerProcess
) -> None:
    async with httpx.AsyncClient(base_url=live_server) as api:
        response = await api.get(
            "/v1/customers/", headers={"Authorization": f"Bearer {tenant.token}"}
        )
    assert response.status_code == 200
