"""Answers 429 to /v1 requests of a subject past its limit, as Polar does (contract 1.6)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polar_customers.auth.principal import AuthSubject
from polar_customers.config import Settings
from polar_customers.rate_limit.counter import Quota, RateLimiter, Subject

LIMITED_PREFIX = "/v1"  # Polar's rules match `^/v1` (after the /api/v1 rewrite)
SHUTDOWN_DONE = frozenset({"lifespan.shutdown.complete", "lifespan.shutdown.failed"})


class RateLimitMiddleware:
    """Counts /v1 requests per organization token, per user for personal tokens, and per
    client address for anonymous requests; past the limit, answers 429 with an empty body and
    `Retry-After`. Runs after authentication (it needs the subject) and before anything reads
    the body. Does nothing when the setting is off. The sync task stops when the server
    shuts down (the ASGI lifespan)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.limiter = RateLimiter(settings) if settings.rate_limit_enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter
        if limiter is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http" and scope["path"].startswith(LIMITED_PREFIX):
            retry_after = limiter.admit(*_subject(scope, limiter))
            if retry_after is None:
                await self.app(scope, receive, send)
            else:
                await _too_many_requests(send, retry_after)
        elif scope["type"] == "lifespan":
            await self.app(scope, receive, _closing_on_shutdown(send, limiter))
        else:
            await self.app(scope, receive, send)


def _subject(scope: Scope, limiter: RateLimiter) -> tuple[Subject, Quota]:
    auth_subject: AuthSubject | None = scope.get("state", {}).get("auth_subject")
    if auth_subject is not None:
        return (auth_subject.kind, auth_subject.id), limiter.subject_quota
    # Behind a proxy, the server takes the address from X-Forwarded-For when the proxy is
    # trusted (uvicorn's --forwarded-allow-ips); requests without one share a count.
    client = scope.get("client")
    return ("address", client[0] if client else "unknown"), limiter.anonymous_quota


async def _too_many_requests(send: Send, retry_after: int) -> None:
    # Polar's response (asgi-ratelimit's): empty, no content type, Retry-After. The length
    # spares an empty chunked body.
    headers = [(b"retry-after", str(retry_after).encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _closing_on_shutdown(send: Send, limiter: RateLimiter) -> Send:
    async def send_after_closing(message: Message) -> None:
        if message["type"] in SHUTDOWN_DONE:
            await limiter.close()
        await send(message)

    return send_after_closing
