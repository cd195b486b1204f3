"""Limits on what one request may make the server hold (docs/decisions.md#d48): body size
(413), header fields (431), URL length (414) and JSON nesting (422 `json_invalid`), each
answered in the API's error shape before any other work."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from polar_customers.kit.json_body import MAX_DEPTH
from tests.conftest import AppFactory

BODY_LIMIT = 2_048
INGEST_BODY_LIMIT = 8_192
HEADER_BYTES = 1_024
HEADER_COUNT = 20
URL_BYTES = 512


@pytest.fixture
def small_app(app_with: AppFactory) -> FastAPI:
    return app_with(
        max_request_body_bytes=BODY_LIMIT,
        max_ingest_body_bytes=INGEST_BODY_LIMIT,
        max_request_header_bytes=HEADER_BYTES,
        max_request_headers=HEADER_COUNT,
        max_url_bytes=URL_BYTES,
    )


@pytest.fixture
async def small(small_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=small_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def customer_body(size: int) -> bytes:
    """A valid customer create body of exactly `size` bytes (JSON allows trailing spaces)."""
    body = json.dumps({"email": "padded@example.com"}).encode()
    return body + b" " * (size - len(body))


async def chunks(body: bytes, size: int = 512) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def assert_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["detail"], str)


class TestBody:
    async def test_at_the_limit_is_served(
        self, small: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await small.post(
            "/v1/customers/", content=customer_body(BODY_LIMIT), headers=headers
        )
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize("authorized", [True, False], ids=["token", "no token"])
    async def test_declared_length_over_the_limit(
        self, small: httpx.AsyncClient, headers: dict[str, str], authorized: bool
    ) -> None:
        response = await small.post(
            "/v1/customers/",
            content=customer_body(BODY_LIMIT + 1),
            headers=headers if authorized else {},
        )
        assert_error(response, 413, "RequestBodyTooLarge")
        assert str(BODY_LIMIT) in response.json()["detail"]

    @pytest.mark.parametrize("authorized", [True, False], ids=["token", "no token"])
    async def test_streamed_body_over_the_limit(
        self, small: httpx.AsyncClient, headers: dict[str, str], authorized: bool
    ) -> None:
        # No Content-Length: the body arrives in chunks and is counted as it comes.
        response = await small.post(
            "/v1/customers/",
            content=chunks(customer_body(BODY_LIMIT + 600)),
            headers=headers if authorized else {},
        )
        assert "content-length" not in response.request.headers
        assert_error(response, 413, "RequestBodyTooLarge")

    async def test_streamed_body_within_the_limit(
        self, small: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await small.post(
            "/v1/customers/", content=chunks(customer_body(BODY_LIMIT)), headers=headers
        )
        assert response.status_code == 201, response.text

    async def test_declared_length_is_refused_before_the_body_is_read(
        self, small_app: FastAPI
    ) -> None:
        # An anonymous client announcing 100 MB: answered without one receive() call.
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/v1/customers/",
            "raw_path": b"/v1/customers/",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-type", b"application/json"),
                (b"content-length", b"104857600"),
            ],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        sent: list[Message] = []

        async def receive() -> Message:
            raise AssertionError("the body was read")

        async def send(message: Message) -> None:
            sent.append(message)

        await small_app(scope, receive, send)
        assert sent[0]["status"] == 413
        assert json.loads(sent[1]["body"])["error"] == "RequestBodyTooLarge"

    async def test_default_limit_is_one_mebibyte(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        over = await client.post("/v1/customers/", content=b" " * (1_048_576 + 1), headers=headers)
        assert_error(over, 413, "RequestBodyTooLarge")
        response = await client.post(
            "/v1/customers/", content=customer_body(1_048_576), headers=headers
        )
        assert response.status_code == 201, response.text


class TestIngestBody:
    """An ingest batch has a limit of its own: 10,000 events do not fit in 1 MiB."""

    @staticmethod
    def batch(size: int) -> bytes:
        event = {"name": "api.call", "external_customer_id": "nobody", "metadata": {"n": 1}}
        body = json.dumps({"events": [event]}).encode()
        return body + b" " * (size - len(body))

    @pytest.mark.parametrize("path", ["/v1/events/ingest", "/api/v1/events/ingest"])
    async def test_within_the_ingest_limit(
        self, small: httpx.AsyncClient, headers: dict[str, str], path: str
    ) -> None:
        response = await small.post(path, content=self.batch(INGEST_BODY_LIMIT), headers=headers)
        assert response.status_code == 200, response.text
        assert response.json() == {"inserted": 1}

    @pytest.mark.parametrize("streamed", [False, True], ids=["declared", "streamed"])
    async def test_over_the_ingest_limit(
        self, small: httpx.AsyncClient, headers: dict[str, str], streamed: bool
    ) -> None:
        body = self.batch(INGEST_BODY_LIMIT + 1)
        content = chunks(body) if streamed else body
        response = await small.post("/v1/events/ingest", content=content, headers=headers)
        assert_error(response, 413, "RequestBodyTooLarge")
        assert str(INGEST_BODY_LIMIT) in response.json()["detail"]


class TestHead:
    async def test_url_over_the_limit(
        self, small: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await small.get(
            "/v1/customers/", params={"query": "q" * URL_BYTES}, headers=headers
        )
        assert_error(response, 414, "URITooLong")

    async def test_url_at_the_limit_is_served(
        self, small: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        path = "/v1/customers/"
        query = "q" * (URL_BYTES - len(path) - len("query="))
        response = await small.get(f"{path}?query={query}", headers=headers)
        assert response.status_code == 200, response.text

    async def test_too_many_header_fields(
        self, small: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        many = {f"x-filler-{index}": "1" for index in range(HEADER_COUNT)}
        response = await small.get("/v1/customers/", headers={**headers, **many})
        assert_error(response, 431, "RequestHeaderFieldsTooLarge")

    @pytest.mark.parametrize("authorized", [True, False], ids=["token", "no token"])
    async def test_header_fields_too_large(
        self, small: httpx.AsyncClient, headers: dict[str, str], authorized: bool
    ) -> None:
        large = {"x-filler": "h" * HEADER_BYTES}
        response = await small.get(
            "/v1/customers/", headers={**(headers if authorized else {}), **large}
        )
        assert_error(response, 431, "RequestHeaderFieldsTooLarge")


def nested_metadata(depth: int) -> bytes:
    """A customer body whose metadata value is `depth` arrays deep (depth + 2 in all)."""
    return b'{"email":"deep@example.com","metadata":{"k":' + b"[" * depth + b"]" * depth + b"}}"


class TestNesting:
    @pytest.mark.parametrize("depth", [MAX_DEPTH, 5_000, 500_000])
    async def test_too_deep_is_json_invalid(
        self, client: httpx.AsyncClient, headers: dict[str, str], depth: int
    ) -> None:
        response = await client.post(
            "/v1/customers/", content=nested_metadata(depth), headers=headers
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert error["type"] == "json_invalid"
        assert error["msg"] == "JSON decode error"
        assert error["ctx"] == {"error": f"Nesting deeper than {MAX_DEPTH} levels"}
        # A character offset, as FastAPI's decode errors give: the bracket past the limit.
        prefix = len('{"email":"deep@example.com","metadata":{"k":')
        assert prefix + MAX_DEPTH - 3 <= error["loc"][1] <= prefix + MAX_DEPTH

    async def test_too_deep_in_an_ingest_batch(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        event = b'{"name":"x","external_customer_id":"c","metadata":{"k":' + b"[" * 300
        response = await client.post(
            "/v1/events/ingest", content=b'{"events":[' + event + b"]}", headers=headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["type"] == "json_invalid"

    async def test_within_the_depth_reaches_validation(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/v1/customers/", content=nested_metadata(MAX_DEPTH - 3), headers=headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"][:3] == ["body", "metadata", "k"]

    async def test_other_decode_errors_keep_their_shape(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        # Left to `json.loads`, whose messages and offsets are the hosted API's.
        for body, loc in ((b'{"email":', ["body", 9]), (b"[1,]", ["body", 3])):
            response = await client.post("/v1/customers/", content=body, headers=headers)
            assert response.status_code == 422, response.text
            [error] = response.json()["detail"]
            assert (error["type"], error["loc"]) == ("json_invalid", loc)
