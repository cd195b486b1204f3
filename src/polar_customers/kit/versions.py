"""The response version of a request: resolved once, kept in the request's ASGI scope, and
read only by the render functions (`<domain>/render.py`, called by `kit/responses.py`).
Handlers and services never branch on versions."""

from enum import StrEnum

from starlette.types import Scope


class ApiVersion(StrEnum):
    """The wire shapes this server can answer in."""

    # The contract of the 2025 clients (polar-sdk 0.27.1, @polar-sh/sdk 0.41), which send no
    # `Polar-Version` header.
    v2025_10 = "2025-10-05"


DEFAULT_VERSION = ApiVersion.v2025_10
_STATE_KEY = "api_version"


def _negotiate(scope: Scope) -> ApiVersion:
    # One shape is served today, whatever the request asks for.
    return DEFAULT_VERSION


def request_version(scope: Scope) -> ApiVersion:
    """The version a request is answered in, resolved on first use and then kept."""
    state = scope.setdefault("state", {})
    version: ApiVersion | None = state.get(_STATE_KEY)
    if version is None:
        version = state[_STATE_KEY] = _negotiate(scope)
    return version
