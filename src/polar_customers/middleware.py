"""Request-wide ASGI middleware other than authentication."""

import asyncio
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polar_customers.config import Settings
from polar_customers.errors import (
    AppError,
    RequestBodyTooLarge,
    RequestHeaderFieldsTooLarge,
    RequestTimeout,
    URITooLong,
)
from polar_customers.kit.email import check_deliverability

LEGACY_PREFIX = "/api/v1"
DEPRECATION_NOTICE = "The API root has moved from /api/v1 to /v1. Please update your integration."


class LegacyPrefixMiddleware:
    """Serves `/api/v1/...` as `/v1/...`, with a deprecation notice on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (
            path == LEGACY_PREFIX or path.startswith(LEGACY_PREFIX + "/")
        ):
            await self.app(scope, receive, send)
            return
        scope = dict(scope, path=path.removeprefix("/api"))
        if raw_path := scope.get("raw_path"):
            scope["raw_path"] = raw_path.removeprefix(b"/api")

        async def send_with_notice(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Polar-Deprecation-Notice"] = DEPRECATION_NOTICE
            await send(message)

        await self.app(scope, receive, send_with_notice)


class EmailDeliverabilityMiddleware:
    """Makes the deliverability setting visible to email validation during the request."""

    def __init__(self, app: ASGIApp, *, enabled: bool) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = check_deliverability.set(self.enabled)
        try:
            await self.app(scope, receive, send)
        finally:
            check_deliverability.reset(token)


class RequestBodyTimeoutMiddleware:
    """Bounds the time a client may take to send a request's body: a client that trickles
    it is answered 408 instead of holding the request open (docs/decisions.md#d28)."""

    def __init__(self, app: ASGIApp, *, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No GET or HEAD route of the API reads a body: those requests skip the wrapper.
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        deadline: float | None = None
        more_body = True

        async def receive_in_time() -> Message:
            nonlocal deadline, more_body
            if not more_body:
                return await receive()  # the body is read: only a disconnect is left to wait
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.timeout
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout() from None
            more_body = message["type"] == "http.request" and message.get("more_body", False)
            return message

        await self.app(scope, receive_in_time, send)


INGEST_PATHS = frozenset({"/v1/events/ingest", LEGACY_PREFIX + "/events/ingest"})


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """What one request may make the server hold (settings `max_*`)."""

    body_bytes: int
    ingest_body_bytes: int
    header_bytes: int
    headers: int
    url_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> "RequestLimits":
        return cls(
            body_bytes=settings.max_request_body_bytes,
            ingest_body_bytes=settings.max_ingest_body_bytes,
            header_bytes=settings.max_request_header_bytes,
            headers=settings.max_request_headers,
            url_bytes=settings.max_url_bytes,
        )

    def body_limit(self, path: str) -> int:
        """The body limit of a request to `path` (checked before the legacy prefix is
        rewritten, hence both forms)."""
        return self.ingest_body_bytes if path in INGEST_PATHS else self.body_bytes

    def url_refusal(self, url_bytes: int) -> AppError | None:
        return URITooLong(self.url_bytes) if url_bytes > self.url_bytes else None

    def header_refusal(self, count: int, header_bytes: int) -> AppError | None:
        if count > self.headers:
            return RequestHeaderFieldsTooLarge(
                f"The request has more than {self.headers} header fields."
            )
        if header_bytes > self.header_bytes:
            return RequestHeaderFieldsTooLarge(
                f"The request's header fields are larger than {self.header_bytes} bytes."
            )
        return None


class RequestLimitsMiddleware:
    """Refuses an oversized request before any other work, authentication included
    (docs/decisions.md#d48): a URL over the limit is a 414, too many or too large header fields
    a 431, a `Content-Length` over the body limit a 413 without reading the body, and a body
    sent without a length a 413 as soon as the bytes received pass the limit."""

    def __init__(self, app: ASGIApp, *, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared_length, refusal = self._check_head(scope)
        if refusal is not None:
            await refusal.to_response()(scope, receive, send)
            return
        if declared_length is not None:
            # The HTTP server delivers exactly `Content-Length` bytes: nothing to count.
            await self.app(scope, receive, send)
            return
        await self.app(scope, _counting(receive, self.limits.body_limit(scope["path"])), send)

    def _check_head(self, scope: Scope) -> tuple[int | None, AppError | None]:
        limits = self.limits
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        if refusal := limits.url_refusal(len(raw_path) + len(scope["query_string"])):
            return None, refusal
        header_bytes = 0
        declared_length: int | None = None
        for name, value in scope["headers"]:
            header_bytes += len(name) + len(value)
            if name == b"content-length":
                declared_length = int(value) if value.isdigit() else None
        if refusal := limits.header_refusal(len(scope["headers"]), header_bytes):
            return None, refusal
        body_limit = limits.body_limit(scope["path"])
        if declared_length is not None and declared_length > body_limit:
            return declared_length, RequestBodyTooLarge(body_limit)
        return declared_length, None


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def receive_within_limit() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                # FastAPI wraps what the body read raises; errors.py unwraps it.
                raise RequestBodyTooLarge(limit)
        return message

    return receive_within_limit
