"""Documented error responses shared by routes, and the extra OpenAPI components."""

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field, create_model

from polar_customers.kit.metadata import METADATA_QUERY_SCHEMA


class ResourceNotFound(BaseModel):
    error: Literal["ResourceNotFound"] = Field(examples=["ResourceNotFound"])
    detail: str


_AUTH_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "string"},
        "error_description": {"type": "string"},
    },
    "required": ["error"],
}


def _auth_error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": _AUTH_ERROR_SCHEMA}},
    }


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _auth_error("Missing, invalid, expired or revoked access token."),
    403: _auth_error("The access token lacks the required scope."),
}


def not_found(description: str) -> dict[int | str, dict[str, Any]]:
    return {404: {"description": description, "model": ResourceNotFound}}


_ERROR_COMPONENTS: dict[str, dict[str, Any]] = {}
"""The `{"error": <name>, "detail": str}` bodies that responses refer to, added to the
document's components by `install_openapi`."""


def _error_component(name: str) -> dict[str, Any]:
    model = create_model(name, error=(Literal[name], Field(examples=[name])), detail=(str, ...))
    _ERROR_COMPONENTS[name] = model.model_json_schema()
    return {"$ref": f"#/components/schemas/{name}"}


def error_response(
    status: int, error: type[Exception], description: str
) -> dict[int | str, dict[str, Any]]:
    """A documented error response of `error` (an `AppError`): `{"error": "<its name>",
    "detail": str}`, as a component named after it. A 403 may also be the token's
    `insufficient_scope`."""
    schema = _error_component(error.__name__)
    if status == 403:
        schema = {"anyOf": [schema, _AUTH_ERROR_SCHEMA]}
    return {
        status: {"description": description, "content": {"application/json": {"schema": schema}}}
    }


UNSUPPORTED_VERSION_RESPONSE: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "An unsupported `Polar-Version` header.",
        "content": {"application/json": {"schema": _error_component("UnsupportedApiVersion")}},
    }
}


def _limit_response(status: int, error: str, description: str) -> dict[int | str, dict[str, Any]]:
    schema = _error_component(error)
    return {
        status: {"description": description, "content": {"application/json": {"schema": schema}}}
    }


# The request limits refuse an oversized request before any operation runs
# (docs/decisions.md#d48): every operation may answer these.
REQUEST_LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_limit_response(
        414,
        "URITooLong",
        "The URL is longer than the server's limit (setting `max_url_bytes`).",
    ),
    **_limit_response(
        431,
        "RequestHeaderFieldsTooLarge",
        "The request has more header fields, or larger ones, than the server's limits "
        "(settings `max_request_headers` and `max_request_header_bytes`).",
    ),
}
BODY_TOO_LARGE_RESPONSE = _limit_response(
    413,
    "RequestBodyTooLarge",
    "The request body is larger than the server's limit (setting `max_request_body_bytes`, "
    "1 MiB by default; for event ingestion `max_ingest_body_bytes`, 16 MiB).",
)
"""Documented on the operations that take a body."""


SECURITY_SCHEMES: dict[str, Any] = {
    "pat": {
        "type": "http",
        "scheme": "bearer",
        "description": "A **Personal Access Token** (`polar_pat_...`) of a user.",
    },
    "oat": {
        "type": "http",
        "scheme": "bearer",
        "description": "An **Organization Access Token** (`polar_oat_...`).",
    },
}
SECURITY: list[dict[str, list[str]]] = [{"pat": []}, {"oat": []}]

VERSIONING_HEADERS: list[dict[str, Any]] = [
    {
        "name": "Polar-Version",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "enum": ["2026-04", "2026-10", "2027-01"]},
        "description": (
            "The API version of today's clients (polar-sdk 1.x, @polar-sh/sdk 1.x). Without "
            "it, the 2025 API is served: the same shapes, but the export answers JSON to a "
            "request that accepts `application/json`. Any other value is a 400."
        ),
    },
    {
        "name": "Polar-Organization",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "format": "uuid4"},
        "description": (
            "The organization to act in, for a token that reaches several (a personal "
            "token); with an organization token, its own organization."
        ),
    },
]


def _sort_responses(schema: dict[str, Any]) -> None:
    """Each operation's responses by status code (FastAPI appends its 422 after the route's)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses")
            if responses:
                operation["responses"] = dict(sorted(responses.items()))


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, adding the security schemes and `MetadataQuery`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _sort_responses(schema)
            components = schema.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas["MetadataQuery"] = METADATA_QUERY_SCHEMA
            schemas.update(_ERROR_COMPONENTS)
            components["securitySchemes"] = SECURITY_SCHEMES
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
