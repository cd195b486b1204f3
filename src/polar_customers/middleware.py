"""Request-wide ASGI middleware other than authentication."""

import asyncio

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polar_customers.errors import RequestTimeout
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
