"""The response version of a request: negotiated once, from its `Polar-Version` header, by
`ApiVersionMiddleware`, kept in the request's ASGI scope, and read only by the render
functions (`<domain>/render.py`, called by `kit/responses.py`). Handlers and services never
branch on versions."""

from enum import StrEnum

from starlette.types import ASGIApp, Receive, Scope, Send

from polar_customers.errors import UnsupportedApiVersion

VERSION_HEADER = "Polar-Version"
_HEADER_KEY = VERSION_HEADER.lower().encode()
_STATE_KEY = "api_version"


class ApiVersion(StrEnum):
    """The API versions this server answers."""

    # The contract of the 2025 clients (polar-sdk 0.27.1, @polar-sh/sdk 0.41, the seed's PHP
    # SDK), which send no `Polar-Version` header.
    v2025_10 = "2025-10"
    # Today's clients (polar-sdk 1.x, @polar-sh/sdk 1.x) send one of these; their customer
    # surface is the same in all three.
    v2026_04 = "2026-04"
    v2026_10 = "2026-10"
    v2027_01 = "2027-01"

    @property
    def versioned(self) -> bool:
        """Whether the client sent `Polar-Version` (today's clients), rather than none."""
        return self is not ApiVersion.v2025_10


DEFAULT_VERSION = ApiVersion.v2025_10
REQUESTABLE = tuple(version for version in ApiVersion if version.versioned)
"""The values a `Polar-Version` header may take; no header means `DEFAULT_VERSION`."""
_BY_HEADER = {version.value.encode(): version for version in REQUESTABLE}


def negotiate(scope: Scope) -> ApiVersion:
    """The version the request asks for; `UnsupportedApiVersion` for an unknown value."""
    for name, value in scope["headers"]:
        if name == _HEADER_KEY:
            version = _BY_HEADER.get(value.strip())
            if version is None:
                raise UnsupportedApiVersion(
                    value.decode("latin-1"), [version.value for version in REQUESTABLE]
                )
            return version
    return DEFAULT_VERSION


def request_version(scope: Scope) -> ApiVersion:
    """The version a request is answered in (resolved by `ApiVersionMiddleware`)."""
    version: ApiVersion = scope.get("state", {}).get(_STATE_KEY, DEFAULT_VERSION)
    return version


class ApiVersionMiddleware:
    """Negotiates the version of every request once, before anything else: an unsupported
    `Polar-Version` is a 400 naming the supported ones, whatever the path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                version = negotiate(scope)
            except UnsupportedApiVersion as error:
                await error.to_response()(scope, receive, send)
                return
            scope.setdefault("state", {})[_STATE_KEY] = version
        await self.app(scope, receive, send)
