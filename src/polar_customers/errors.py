"""The error types of the API and the one place that renders them."""

import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar, TypedDict

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from polar_customers.kit.json_body import too_deep_error


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


class ErrorJSONResponse(JSONResponse):
    """Compact JSON that can echo any input back: lone surrogates are escaped and
    non-finite numbers (which JSON cannot express) become strings."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except (UnicodeEncodeError, ValueError):
            return json.dumps(_finite(content), separators=(",", ":")).encode()


class ValidationErrorItem(TypedDict):
    type: str
    loc: tuple[str | int, ...]
    msg: str
    input: Any


class AppError(Exception):
    """Base of every error the API raises on purpose: `{"error": <class name>, "detail": ...}`."""

    status_code: ClassVar[int] = 500
    message: ClassVar[str] = "Internal Server Error"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None) -> None:
        self.detail: Any = self.message if detail is None else detail
        self.headers = headers or {}
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "detail": self.detail}

    def to_response(self) -> Response:
        return ErrorJSONResponse(
            jsonable_encoder(self.body()), self.status_code, headers=self.headers
        )


class ResourceNotFound(AppError):
    status_code = 404
    message = "Not found"


class ServiceUnavailable(AppError):
    """No database connection came free within the pool timeout: the server is saturated
    (docs/decisions.md#d27)."""

    status_code = 503
    message = "The server is busy. Retry the request shortly."
    retry_after_seconds = 1

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(self.retry_after_seconds)})


class RequestTimeout(AppError):
    """The client did not send its request body in time."""

    status_code = 408
    message = "The request body was not received in time."


class RequestBodyTooLarge(AppError):
    """A request body over the size limit (docs/decisions.md#d48)."""

    status_code = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than the limit of {limit} bytes.")


class RequestHeaderFieldsTooLarge(AppError):
    """Request headers over the size or count limit (docs/decisions.md#d48)."""

    status_code = 431


class URITooLong(AppError):
    """A request target over the length limit (docs/decisions.md#d48)."""

    status_code = 414

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request URL is longer than the limit of {limit} bytes.")


class UnsupportedApiVersion(AppError):
    """A `Polar-Version` header this server does not answer (docs/decisions.md#d30)."""

    status_code = 400

    def __init__(self, requested: str, supported: Sequence[str]) -> None:
        super().__init__(
            f"Polar-Version {requested!r} is not supported. Supported versions: "
            f"{', '.join(supported)}; without the header, the 2025 API is served."
        )


class NotPermitted(AppError):
    status_code = 403
    message = "Not permitted"


class AmbiguousExternalCustomerID(AppError):
    """An external customer id that names customers in several of the caller's
    organizations (a personal token without `Polar-Organization`)."""

    status_code = 409

    def __init__(self, external_id: str) -> None:
        super().__init__(
            f"Several customers of your organizations have the external ID {external_id!r}. "
            "Use an organization token, the Polar-Organization header, or the customer ID."
        )


class Unauthorized(AppError):
    status_code = 401
    message = "Unauthorized"

    def __init__(self) -> None:
        super().__init__(headers={"WWW-Authenticate": 'Bearer realm="polar"'})


class PolarRequestValidationError(AppError):
    """Business validation errors, in the same list shape as request validation errors."""

    status_code = 422

    def __init__(self, errors: Sequence[ValidationErrorItem]) -> None:
        super().__init__(list(errors))


class OAuthError(AppError):
    """Bearer token errors (RFC 6750). Their bodies keep `json.dumps` spacing, as Polar's do."""

    error_code: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, *, scope: str | None = None) -> None:
        challenge = 'Bearer realm="polar"'
        if scope is not None:
            challenge += f', scope="{scope}"'
        challenge += f', error="{self.error_code}", error_description="{self.description}"'
        super().__init__(
            headers={
                "Cache-Control": "no-store",
                "Pragma": "no-cache",
                "WWW-Authenticate": challenge,
            }
        )

    def body(self) -> dict[str, Any]:
        return {"error": self.error_code, "error_description": self.description}

    def to_response(self) -> Response:
        return Response(
            json.dumps(self.body()),
            self.status_code,
            headers=self.headers,
            media_type="application/json",
        )


class InvalidToken(OAuthError):
    status_code = 401
    error_code = "invalid_token"
    description = (
        "The access token provided is expired, revoked, malformed, or invalid for other reasons."
    )


class InsufficientScope(OAuthError):
    status_code = 403
    error_code = "insufficient_scope"
    description = "The request requires higher privileges than provided by the access token."


async def _app_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return exc.to_response()


UNION_TAGS = frozenset({"individual", "team"})
"""Branch names of the bodies that are tagged unions (`CustomerCreate`): pydantic puts the
branch in an error's `loc` (`body.individual.email`), which is not a path of the body."""


def _without_union_tag(error: dict[str, Any]) -> dict[str, Any]:
    loc = error["loc"]
    if len(loc) > 1 and loc[0] == "body" and loc[1] in UNION_TAGS:
        return {**error, "loc": (loc[0], *loc[2:])}
    return error


async def _request_validation_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [_without_union_tag(error) for error in exc.errors()]
    body = {"error": "RequestValidationError", "detail": jsonable_encoder(errors)}
    return ErrorJSONResponse(body, status_code=422)


async def _pool_timeout_handler(_request: Request, _exc: Exception) -> Response:
    return ServiceUnavailable().to_response()


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    cause = exc.__cause__
    if isinstance(cause, AppError):
        # Raised while FastAPI read the body (see `RequestBodyTimeoutMiddleware`), which
        # FastAPI wraps in a 400.
        return cause.to_response()
    if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
        # FastAPI answers 400 to a JSON body that is not UTF-8; it is malformed JSON like any
        # other, and this API never answers 400 (docs/decisions.md#d13).
        error = {
            "type": "json_invalid",
            "loc": ["body", cause.start],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Invalid UTF-8"},
        }
        return ErrorJSONResponse({"error": "RequestValidationError", "detail": [error]}, 422)
    if exc.status_code == 400 and isinstance(cause, RecursionError):
        # `json.loads` ran out of recursion: a body that pydantic-core's parser did not read
        # first (see kit/json_body.py), nested deeper still.
        return await _request_validation_error_handler(request, too_deep_error(b"", 0))
    return await http_exception_handler(request, exc)


def add_error_handlers(app: FastAPI) -> None:
    """Register the renderers of `AppError` and of request validation errors."""
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(RequestValidationError, _request_validation_error_handler)
    app.add_exception_handler(HTTPException, _http_exception_handler)
    # A pool checkout that timed out (see db.py).
    app.add_exception_handler(sqlalchemy.exc.TimeoutError, _pool_timeout_handler)
