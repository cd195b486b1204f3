"""Crash safety: the server's processes SIGKILLed during a burst of creates and updates lose no
acknowledged write and leave none half-written; the database is consistent on restart."""

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from polar_customers.config import Settings
from polar_customers.db import create_engine
from tests.factories import TEST_SECRET, bearer
from tests.hardening.live_servers import kill_process_group, own_database
from tests.server.support import ServerProcess, start_server

pytestmark = pytest.mark.server

WORKERS = 2
WRITERS = 10  # requests in flight at once, about one per pooled connection
KILL_AFTER_S = 2.5  # the burst runs until the server is killed
MIN_ACKNOWLEDGED = 50
METADATA_KEYS = ("plan", "region", "tier", "team", "source")
SHOWN_ONCE = re.compile(r"^Access token \(shown once\): (polar_oat_\w+)$", re.MULTILINE)


def _state(external_id: str, version: int) -> dict[str, Any]:
    """What a write of `version` sets: the name and every metadata key change together, so
    that half of a write would show."""
    metadata: dict[str, Any] = {key: f"{key}-{version}" for key in METADATA_KEYS}
    return {"name": f"{external_id} v{version}", "metadata": metadata | {"version": version}}


@dataclass
class Customer:
    """What the burst did to one customer. Its writes go one at a time: each is sent after the
    previous one was acknowledged, so the last acknowledged state is the one that must win,
    and at most one write (`pending`, unacknowledged) may have happened after it."""

    external_id: str
    id: str | None = None
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, Any] | None = None

    @property
    def idle(self) -> bool:
        return self.id is not None and self.pending is None


@dataclass
class Burst:
    customers: dict[str, Customer] = field(default_factory=dict)
    acknowledged: list[httpx.Response] = field(default_factory=list)
    refused: list[httpx.Response] = field(default_factory=list)
    lost: list[tuple[float, Exception]] = field(default_factory=list)
    killed_at: float | None = None


def _seen(body: dict[str, Any]) -> dict[str, Any]:
    return {"name": body["name"], "metadata": body["metadata"]}


async def _write(http: httpx.AsyncClient, burst: Burst, generator: random.Random) -> bool:
    """One create or update; False once the server is gone."""
    idle = [customer for customer in burst.customers.values() if customer.idle]
    if idle and generator.random() < 0.5:
        customer = generator.choice(idle)
        customer.pending = _state(customer.external_id, len(customer.acknowledged))
        request = http.build_request("PATCH", f"/v1/customers/{customer.id}", json=customer.pending)
    else:
        external_id = f"crash-{len(burst.customers)}"
        customer = burst.customers[external_id] = Customer(external_id)
        customer.pending = _state(external_id, 0)
        body = {"email": f"{external_id}@example.com", "external_id": external_id}
        request = http.build_request("POST", "/v1/customers/", json=body | customer.pending)
    try:
        response = await http.send(request)
    except httpx.TransportError as error:  # the write was in flight when the server died
        burst.lost.append((time.monotonic(), error))
        return False
    if not response.is_success:
        burst.refused.append(response)
        return True
    body = response.json()
    assert _seen(body) == customer.pending, (request.content, body)
    burst.acknowledged.append(response)
    customer.id = body["id"]
    customer.acknowledged.append(_seen(body))
    customer.pending = None
    return True


async def _writer(http: httpx.AsyncClient, burst: Burst, seed: int) -> None:
    generator = random.Random(seed)
    while burst.killed_at is None and await _write(http, burst, generator):
        pass


async def _burst_killed_midway(server: ServerProcess, token: str) -> Burst:
    """Concurrent creates and updates; the server's process group SIGKILLed while they run."""
    burst = Burst()
    limits = httpx.Limits(max_connections=WRITERS)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=bearer(token), timeout=30.0, limits=limits
    ) as http:
        writers = [asyncio.create_task(_writer(http, burst, seed)) for seed in range(WRITERS)]
        await asyncio.sleep(KILL_AFTER_S)
        in_flight = sum(customer.pending is not None for customer in burst.customers.values())
        started = time.monotonic()
        pids = await asyncio.to_thread(kill_process_group, server)
        burst.killed_at = started
        await asyncio.gather(*writers)
    assert len(pids) >= 1 + WORKERS, pids  # the master and its workers
    assert in_flight > 0
    return burst


async def _check_every_write(server: ServerProcess, token: str, burst: Burst) -> None:
    """Each customer as the restarted server shows it: its last acknowledged state, or the
    state of the one write that may have followed it; one not acknowledged at all is absent
    or complete."""
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=bearer(token), timeout=30.0
    ) as http:
        customers = list(burst.customers.values())
        for start in range(0, len(customers), WRITERS):
            chunk = customers[start : start + WRITERS]
            responses = await asyncio.gather(
                *(http.get(f"/v1/customers/external/{c.external_id}") for c in chunk)
            )
            for customer, response in zip(chunk, responses, strict=True):
                _check_customer(customer, response)


def _check_customer(customer: Customer, response: httpx.Response) -> None:
    allowed = [*customer.acknowledged[-1:], *([customer.pending] if customer.pending else [])]
    if not customer.acknowledged and response.status_code == 404:
        return  # its create never reached the database
    assert response.status_code == 200, (customer, response.text)
    body = response.json()
    if customer.id is not None:
        assert body["id"] == customer.id
    assert body["email"] == f"{customer.external_id}@example.com"
    assert _seen(body) in allowed, (customer, body)


async def _check_rows(connection: AsyncConnection, burst: Burst) -> int:
    """Every customer in the database is one the burst sent, with its one owner member;
    returns how many there are."""
    rows = (
        await connection.execute(
            text(
                "SELECT c.external_id, c.email, count(m.id) FROM customers c "
                "LEFT JOIN members m ON m.customer_id = c.id AND m.role = 'owner' "
                "AND m.deleted_at IS NULL AND m.email = c.email "
                "GROUP BY c.id, c.external_id, c.email"
            )
        )
    ).all()
    for external_id, email, owners in rows:
        assert external_id in burst.customers, external_id
        assert (email, owners) == (f"{external_id}@example.com", 1)
    orphans = await connection.scalar(
        text(
            "SELECT count(*) FROM members m LEFT JOIN customers c ON c.id = m.customer_id "
            "WHERE c.id IS NULL"
        )
    )
    assert orphans == 0
    return len(rows)


async def _check_integrity(connection: AsyncConnection) -> None:
    """SQLite's own check of the file; PostgreSQL's amcheck of every B-tree index against its
    table (that every row is in its indexes) when the server has it."""
    if connection.dialect.name == "sqlite":
        check = await connection.execute(text("PRAGMA integrity_check"))
        assert check.scalars().all() == ["ok"]
        assert (await connection.execute(text("PRAGMA foreign_key_check"))).all() == []
        return
    available = await connection.scalar(
        text("SELECT count(*) FROM pg_available_extensions WHERE name = 'amcheck'")
    )
    if not available:
        return
    await connection.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
    checked = (
        await connection.execute(
            text(
                "SELECT c.relname, bt_index_check(c.oid, true) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = 'public'"
            )
        )
    ).all()
    assert any(name == "customers_pkey" for name, _ in checked), checked


async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    async with own_database(tmp_path) as database_url:
        server = start_server(database_url, tmp_path, workers=WORKERS)
        try:
            [token] = SHOWN_ONCE.findall(server.output())
            burst = await _burst_killed_midway(server, token)
        finally:
            server.stop()
        assert burst.killed_at is not None
        assert not burst.refused, [response.text for response in burst.refused]
        assert all(when >= burst.killed_at for when, _ in burst.lost), burst.lost
        assert len(burst.acknowledged) >= MIN_ACKNOWLEDGED
        assert any(customer.acknowledged[1:] for customer in burst.customers.values())

        restarted = start_server(database_url, tmp_path)
        try:
            await _check_every_write(restarted, token, burst)
        finally:
            restarted.stop()

        engine = create_engine(Settings(database_url=database_url, secret=TEST_SECRET))
        try:
            async with engine.connect() as connection:
                present = await _check_rows(connection, burst)
                await _check_integrity(connection)
        finally:
            await engine.dispose()
        acknowledged_creates = sum(1 for c in burst.customers.values() if c.acknowledged)
        assert present >= acknowledged_creates
