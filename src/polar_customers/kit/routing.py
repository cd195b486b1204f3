"""The route class of the API. From a route's dependencies it derives, once, what every
request of that route needs: the scopes its documentation shows, and whether it reads on the
hot connection that authentication checked out."""

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from polar_customers.auth.principal import Authorizer
from polar_customers.db import get_raw_connection, give_back_hot_lease
from polar_customers.kit.json_body import parse_json_body
from polar_customers.kit.openapi import (
    BODY_TOO_LARGE_RESPONSE,
    REQUEST_LIMIT_RESPONSES,
    SECURITY,
    UNSUPPORTED_VERSION_RESPONSE,
    VERSIONING_HEADERS,
)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


class ApiRoute(APIRoute):
    """A route that depends on an `Authorizer` gets "**Scopes**" appended to its description
    and the bearer token schemes as its OpenAPI `security`. A route that does not read on the
    hot connection gives it back to the pool before anything else happens (see db.HotLease)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        authorizer = next(
            (d.call for d in _dependencies(self.dependant) if isinstance(d.call, Authorizer)),
            None,
        )
        if authorizer is None:
            return
        # Including a router builds its routes again from their fields, already completed
        # here the first time: nothing is added twice.
        scopes = " ".join(f"`{scope}`" for scope in authorizer.documented_scopes)
        suffix = f"\n\n**Scopes**: {scopes}"
        if not self.description.endswith(suffix):
            self.description += suffix
        extra = self.openapi_extra or {}
        parameters = [*extra.get("parameters", [])]
        # Appended to the route's own parameters (FastAPI merges lists).
        parameters += [header for header in VERSIONING_HEADERS if header not in parameters]
        self.openapi_extra = {**extra, "parameters": parameters, "security": SECURITY}
        limits = {**REQUEST_LIMIT_RESPONSES}
        if self.body_field is not None:
            limits.update(BODY_TOO_LARGE_RESPONSE)
        self.responses = {**UNSUPPORTED_VERSION_RESPONSE, **self.responses, **limits}

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        if self.body_field is not None:
            handler = _with_parsed_body(handler)
        if any(d.call is get_raw_connection for d in _dependencies(self.dependant)):
            return handler

        async def without_hot_connection(request: Request) -> Response:
            await give_back_hot_lease(request.scope)
            return await handler(request)

        return without_hot_connection


def _with_parsed_body(handler: Handler) -> Handler:
    async def with_parsed_body(request: Request) -> Response:
        await parse_json_body(request)
        return await handler(request)

    return with_parsed_body
