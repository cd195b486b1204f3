"""Rate limiting (D11, docs/decisions.md#d47): off by default; when on, per organization,
user and anonymous address, shared by the server's processes through the database.

The apps run on real pools and their own limiter connection, so tenants are committed to the
run's database (each test has its own organization); the ASGI lifespan is driven as a
server drives it, so the sync task stops as it does in production."""

import asyncio
import math
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from polar_customers.app import create_app
from polar_customers.config import Settings
from polar_customers.db import create_engine
from polar_customers.kit.time import moved_clock, utc_now
from polar_customers.middleware import DEPRECATION_NOTICE
from polar_customers.models import RateLimitWindow
from polar_customers.rate_limit.counter import RateLimiter
from polar_customers.rate_limit.middleware import RateLimitMiddleware
from tests import factories
from tests.conftest import ENGINE, POSTGRES_URL
from tests.factories import bearer

LIST = "/v1/customers/?limit=1"


@pytest.fixture(scope="module")
async def committing_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def tenant(committing_engine: AsyncEngine) -> "Tenant":
    return await Tenant.create(committing_engine)


@dataclass(frozen=True)
class Tenant:
    """An organization with a token, and a member with a personal token, committed."""

    organization_id: uuid.UUID
    token: str
    personal_token: str

    @classmethod
    async def create(cls, engine: AsyncEngine) -> "Tenant":
        async with async_sessionmaker(engine, expire_on_commit=False)() as session, session.begin():
            organization = await factories.create_organization(session)
            token = await factories.create_organization_token(session, organization=organization)
            user = await factories.create_user(session, member_of=[organization])
            personal = await factories.create_personal_token(session, user=user)
        return cls(organization.id, token, personal)


def limited(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"rate_limit_enabled": True, **changes})


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app between its lifespan's startup and shutdown, as a server runs it."""
    app = create_app(settings)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    running = asyncio.create_task(app(scope, inbox.get, outbox.put))  # type: ignore[arg-type]
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
        await running


@asynccontextmanager
async def client_of(
    app: FastAPI, address: str = "198.51.100.7"
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def limiter_of(app: FastAPI) -> RateLimiter:
    """The app's limiter, found in its middleware stack (built at startup)."""
    layer: Any = app.middleware_stack
    while not isinstance(layer, RateLimitMiddleware):
        layer = layer.app
    assert layer.limiter is not None
    return layer.limiter


async def statuses(client: httpx.AsyncClient, count: int, **headers: str) -> list[int]:
    return [(await client.get(LIST, headers=headers)).status_code for _ in range(count)]


@contextmanager
def into_window(seconds: float) -> Iterator[None]:
    """The clock moved to `seconds` into the next minute."""
    now = utc_now().timestamp()
    next_minute = math.floor(now / 60) * 60 + 60
    with moved_clock(timedelta(seconds=next_minute + seconds - now)):
        yield


async def stored_requests(engine: AsyncEngine, subject: str) -> dict[datetime, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(RateLimitWindow.window_start, RateLimitWindow.requests).where(
                RateLimitWindow.subject == subject
            )
        )
        return dict(rows.tuples().all())


class TestSettings:
    def test_off_by_default(self) -> None:
        assert Settings().rate_limit_enabled is False

    @pytest.mark.parametrize(
        "setting",
        [
            "rate_limit_per_minute",
            "rate_limit_anonymous_per_minute",
            "rate_limit_sync_interval_ms",
        ],
    )
    def test_positive(self, setting: str) -> None:
        values: dict[str, Any] = {setting: 0}
        with pytest.raises(ValidationError, match=setting):
            Settings(**values)


async def test_off_no_limit(settings: Settings, tenant: Tenant) -> None:
    off = settings.model_copy(update={"rate_limit_per_minute": 1})
    async with served(off) as app, client_of(app) as client:
        answers = await statuses(client, 30, **bearer(tenant.token))
    assert answers == [200] * 30


class TestOrganization:
    async def test_past_the_limit(self, settings: Settings, tenant: Tenant) -> None:
        with into_window(30):
            async with (
                served(limited(settings, rate_limit_per_minute=3)) as app,
                client_of(app) as client,
            ):
                assert await statuses(client, 3, **bearer(tenant.token)) == [200] * 3
                blocked = await client.get(LIST, headers=bearer(tenant.token))
                with moved_clock(timedelta(seconds=30)):  # the next window
                    after = await statuses(client, 3, **bearer(tenant.token))

        assert blocked.status_code == 429
        assert blocked.content == b""
        assert set(blocked.headers) == {"retry-after", "content-length"}  # no content type
        assert blocked.headers["content-length"] == "0"
        # The seconds left in the window, counted from 30 s into it.
        assert int(blocked.headers["retry-after"]) in (29, 30)
        assert after == [200] * 3

    async def test_other_organization(
        self, settings: Settings, tenant: Tenant, committing_engine: AsyncEngine
    ) -> None:
        other = await Tenant.create(committing_engine)
        settings = limited(settings, rate_limit_per_minute=2)
        async with served(settings) as app, client_of(app) as client:
            assert await statuses(client, 3, **bearer(tenant.token)) == [200, 200, 429]
            assert await statuses(client, 2, **bearer(other.token)) == [200, 200]
            # A personal token is counted per user, apart from its organizations' tokens.
            personal = await statuses(client, 3, **bearer(tenant.personal_token))
        assert personal == [200, 200, 429]

    async def test_legacy_prefix_counts_alike(self, settings: Settings, tenant: Tenant) -> None:
        settings = limited(settings, rate_limit_per_minute=1)
        async with served(settings) as app, client_of(app) as client:
            assert await statuses(client, 1, **bearer(tenant.token)) == [200]
            legacy = await client.get("/api/v1/customers/", headers=bearer(tenant.token))
        assert legacy.status_code == 429
        assert legacy.headers["x-polar-deprecation-notice"] == DEPRECATION_NOTICE
        assert "content-type" not in legacy.headers


class TestAnonymous:
    async def test_limited_by_address(self, settings: Settings) -> None:
        async with (
            served(limited(settings, rate_limit_anonymous_per_minute=2)) as app,
            client_of(app, "203.0.113.5") as first,
            client_of(app, "203.0.113.6") as second,
        ):
            assert await statuses(first, 3) == [401, 401, 429]
            assert await statuses(second, 2) == [401, 401]
            # Outside /v1 nothing is counted.
            assert (await first.get("/docs")).status_code == 200


async def test_processes_share_the_limit(
    settings: Settings, tenant: Tenant, committing_engine: AsyncEngine
) -> None:
    """Two apps on one database, as two processes: each sees the other's counts after a
    sync. Until it syncs, a process decides from what it last read: past the limit by at most
    N x early_sync (docs/decisions.md#d47)."""
    shared = limited(settings, rate_limit_per_minute=10)
    headers = bearer(tenant.token)
    with into_window(5):
        async with (
            served(shared) as one,
            served(shared) as two,
            client_of(one) as first,
            client_of(two) as second,
        ):
            assert await statuses(first, 6, **headers) == [200] * 6
            await limiter_of(one).sync()
            # `two` has not read the total yet: it admits on its own counts.
            assert await statuses(second, 1, **headers) == [200]
            await limiter_of(two).sync()
            assert await statuses(second, 4, **headers) == [200, 200, 200, 429]
            # `one` last read 6; after its sync it knows the limit is reached.
            assert await statuses(first, 1, **headers) == [200]
            await limiter_of(one).sync()
            assert await statuses(first, 1, **headers) == [429]
            quota = limiter_of(one).subject_quota
        stored = await stored_requests(committing_engine, f"organization:{tenant.organization_id}")

    admitted = 6 + 1 + 3 + 1
    assert admitted <= quota.limit + 2 * quota.early_sync
    assert list(stored.values()) == [admitted]


async def test_shutdown_stores_the_last_counts(
    settings: Settings, tenant: Tenant, committing_engine: AsyncEngine
) -> None:
    # No sync before the shutdown: a long interval and an early sync far away.
    quiet = limited(settings, rate_limit_per_minute=1000, rate_limit_sync_interval_ms=600_000)
    subject = f"organization:{tenant.organization_id}"
    with into_window(5):
        async with served(quiet) as app, client_of(app) as client:
            assert await statuses(client, 4, **bearer(tenant.token)) == [200] * 4
            assert await stored_requests(committing_engine, subject) == {}
        stored = await stored_requests(committing_engine, subject)
    assert list(stored.values()) == [4]
    assert not [task for task in asyncio.all_tasks() if "RateLimiter._run" in repr(task)]


async def test_past_windows_purged(
    settings: Settings, tenant: Tenant, committing_engine: AsyncEngine
) -> None:
    subject = f"organization:{tenant.organization_id}"
    async with served(limited(settings)) as app, client_of(app) as client:
        with into_window(5):
            await statuses(client, 1, **bearer(tenant.token))
            await limiter_of(app).sync()
            [first_window] = await stored_requests(committing_engine, subject)
            with moved_clock(timedelta(minutes=2)):
                await statuses(client, 1, **bearer(tenant.token))
                await limiter_of(app).sync()
                [later_window] = await stored_requests(committing_engine, subject)
    assert later_window - first_window == timedelta(minutes=2)
    assert first_window.tzinfo == UTC


async def test_sync_failure_keeps_counting(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A database the limiter cannot reach: requests are still answered and limited."""
    if ENGINE == "sqlite":
        unreachable = "sqlite+aiosqlite:////nonexistent-directory/polar-customers.db"
    else:
        unreachable = POSTGRES_URL.rsplit("/", 1)[0] + "/polar_customers_does_not_exist"
    broken = limited(settings, database_url=unreachable, rate_limit_anonymous_per_minute=2)
    async with served(broken) as app, client_of(app) as client:
        assert await statuses(client, 2) == [401, 401]
        await limiter_of(app).sync()
        assert await statuses(client, 1) == [429]
    assert "rate limit: syncing with the database failed" in caplog.text
