"""Request-wide ASGI middleware other than authentication."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
