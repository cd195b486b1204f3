"""Documented error responses shared by routes, and the extra OpenAPI components."""

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

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


def install_openapi(app: FastAPI) -> None:
    """Generate the document once, adding the security schemes and `MetadataQuery`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {})["MetadataQuery"] = METADATA_QUERY_SCHEMA
            components["securitySchemes"] = SECURITY_SCHEMES
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
