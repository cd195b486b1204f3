"""The ASGI application: routers, error handlers, middleware and lifespan."""

import gc
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from polar_customers import __version__
from polar_customers.auth.middleware import AuthenticationMiddleware
from polar_customers.benefits.router import router as benefits_router
from polar_customers.config import Settings
from polar_customers.customers.router import router as customers_router
from polar_customers.db import Database
from polar_customers.errors import add_error_handlers
from polar_customers.events.router import router as events_router
from polar_customers.kit.docs_pages import install_docs
from polar_customers.kit.openapi import install_openapi
from polar_customers.kit.versions import ApiVersionMiddleware
from polar_customers.members.router import router as members_router
from polar_customers.meters.router import router as meters_router
from polar_customers.middleware import (
    EmailDeliverabilityMiddleware,
    LegacyPrefixMiddleware,
    RequestBodyTimeoutMiddleware,
    RequestLimits,
    RequestLimitsMiddleware,
)
from polar_customers.orders.router import router as orders_router
from polar_customers.payment_methods.router import router as payment_methods_router
from polar_customers.products.router import router as products_router
from polar_customers.rate_limit.middleware import RateLimitMiddleware
from polar_customers.subscriptions.router import router as subscriptions_router


def _anchor_route_patterns(app: FastAPI) -> None:
    # Starlette ends route patterns with `$`, which also matches before a final newline:
    # `/v1/customers/%0A` would be served as the list. `\Z` anchors at the very end
    # (docs/decisions.md#d14).
    for route in app.routes:
        pattern = getattr(route, "path_regex", None)
        if isinstance(pattern, re.Pattern) and pattern.pattern.endswith("$"):
            route.path_regex = re.compile(pattern.pattern[:-1] + r"\Z")  # type: ignore[attr-defined]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for `settings` (read from the environment when omitted)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything loaded so far (modules, schemas, compiled statements) lives as long as
        # the process: frozen, the collector's full passes skip it. Unfrozen, each of them
        # walked the whole heap for over 100 ms, the slowest 1% of requests under load.
        gc.collect()
        gc.freeze()
        yield
        await app.state.database.dispose()

    app = FastAPI(
        title="Polar Customers API",
        version=__version__,
        description="A self-hosted server of the Polar Customers API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = Database(settings)
    app.state.token_key = settings.secret_key()
    app.include_router(customers_router)
    # After the customer routes, external-id routes first within each (see members/router.py).
    app.include_router(payment_methods_router)
    app.include_router(members_router)
    for billing_router in (
        products_router,
        benefits_router,
        subscriptions_router,
        meters_router,
        events_router,
        orders_router,
    ):
        app.include_router(billing_router)
    install_docs(app)
    _anchor_route_patterns(app)
    add_error_handlers(app)
    install_openapi(app)
    # Added innermost first: CORS outermost, then the request limits, the legacy rewrite, the
    # version negotiation, authentication and rate limiting (which needs the token's subject).
    app.add_middleware(EmailDeliverabilityMiddleware, enabled=settings.email_check_deliverability)
    app.add_middleware(RequestBodyTimeoutMiddleware, timeout=settings.request_body_timeout)
    app.add_middleware(RateLimitMiddleware, settings=settings)
    app.add_middleware(AuthenticationMiddleware)
    app.add_middleware(ApiVersionMiddleware)
    app.add_middleware(LegacyPrefixMiddleware)
    app.add_middleware(RequestLimitsMiddleware, limits=RequestLimits.of(settings))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["Authorization"],
        max_age=600,
    )
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers: settings come from the environment."""
    return create_app(Settings())
