"""Reads the bearer token before routing, as Polar does: an unknown token is a 401 on any path."""

from starlette.types import ASGIApp, Receive, Scope, Send

from polar_customers.auth.principal import resolve_token
from polar_customers.db import RAW_CONNECTION, Database
from polar_customers.errors import InvalidToken


def bearer_token(scope: Scope) -> str | None:
    """The token of an `Authorization: Bearer` header, if it has one in ASCII."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() != b"bearer" or not token.strip():
                return None
            try:
                decoded: str = token.strip().decode("ascii")
            except UnicodeDecodeError:
                return None
            return decoded
    return None


class AuthenticationMiddleware:
    """Puts the token's subject in `scope["state"]["auth_subject"]` (None when anonymous),
    and the connection that found it in `scope["state"][RAW_CONNECTION]`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app_state = scope["app"].state
        token = bearer_token(scope)
        if token is None:
            scope.setdefault("state", {})["auth_subject"] = None
            await self.app(scope, receive, send)
            return
        database: Database = app_state.database
        # The request's hot reads reuse this connection (see db.get_raw_connection).
        async with database.raw_reads() as connection:
            subject = await resolve_token(connection, token, key=app_state.token_key)
            if subject is None:
                await InvalidToken().to_response()(scope, receive, send)
                return
            state = scope.setdefault("state", {})
            state["auth_subject"], state[RAW_CONNECTION] = subject, connection
            await self.app(scope, receive, send)
