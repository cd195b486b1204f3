"""Reads the bearer token before routing, as Polar does: an unknown token is a 401 on any path."""

from starlette.types import ASGIApp, Receive, Scope, Send

from polar_customers.auth.principal import resolve_token
from polar_customers.db import Database
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
    """Puts the token's subject in `scope["state"]["auth_subject"]` (None when anonymous)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        subject = None
        token = bearer_token(scope)
        if token is not None:
            state = scope["app"].state
            database: Database = state.database
            async with database.read_sessions() as session:
                subject = await resolve_token(session, token, key=state.token_key)
            if subject is None:
                await InvalidToken().to_response()(scope, receive, send)
                return
        scope.setdefault("state", {})["auth_subject"] = subject
        await self.app(scope, receive, send)
