"""Reads the bearer token before routing, as Polar does: an unknown token is a 401 on any path."""

import sqlalchemy.exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polar_customers.auth.principal import resolve_token
from polar_customers.db import HOT_LEASE, Database, HotLease
from polar_customers.errors import InvalidToken, ServiceUnavailable


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
    and the hot connection that found it, lent to the request, in `scope["state"][HOT_LEASE]`.
    """

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
        try:
            lease = HotLease(await database.hot.checkout())
        except sqlalchemy.exc.TimeoutError:
            await ServiceUnavailable().to_response()(scope, receive, send)
            return
        try:
            subject = await resolve_token(lease.connection, token, key=app_state.token_key)
            if subject is None:
                await lease.give_back()
                await InvalidToken().to_response()(scope, receive, send)
                return
            state = scope.setdefault("state", {})
            state["auth_subject"], state[HOT_LEASE] = subject, lease

            # The connection goes back before the request first waits on its client.
            async def receive_without_lease() -> Message:
                await lease.give_back()
                return await receive()

            async def send_without_lease(message: Message) -> None:
                await lease.give_back()
                await send(message)

            await self.app(scope, receive_without_lease, send_without_lease)
        finally:
            await lease.give_back()
