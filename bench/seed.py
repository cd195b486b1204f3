"""Seed N customers into one new organization through a bulk path (COPY / executemany).

    python -m bench.seed --database-url URL [--customers 100000] [--migrate]

The organization and its customers:read+write token are created by the project's services,
so the token works with a server given the same secret (POLAR_CUSTOMERS_SECRET).
"""

import argparse
import asyncio
import itertools
import json
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from bench.data import CustomerRow, generate
from bench.databases import asyncpg_dsn, is_sqlite, sqlite_path
from bench.heavy_state import EVENTS as HEAVY_EVENTS
from bench.heavy_state import HEAVY_CUSTOMERS, seed_heavy_state
from bench.ingest import seed_meters
from bench.related import seed_related
from polar_customers import migrate
from polar_customers.auth import service as auth_service
from polar_customers.auth.scopes import Scope
from polar_customers.config import Settings
from polar_customers.db import Database
from polar_customers.kit.time import utc_now
from polar_customers.models import Customer
from polar_customers.organizations import service as organizations_service

BATCH_SIZE = 10_000
SAMPLE_SIZE = 1_000
COLUMNS = (
    "id",
    "created_at",
    "modified_at",
    "deleted_at",
    "organization_id",
    "external_id",
    "email",
    "email_verified",
    "name",
    "billing_address",
    "tax_id",
    "user_metadata",
)
JSON_COLUMNS = frozenset({"billing_address", "tax_id", "user_metadata"})
Record = tuple[Any, ...]


@dataclass
class SeedResult:
    """The seeded organization, a token of it, and samples of what was seeded."""

    organization_id: uuid.UUID
    token: str
    customers: int
    seconds: float
    sample_ids: list[str] = field(default_factory=list)
    sample_external_ids: list[str] = field(default_factory=list)
    analyze_seconds: float | None = None  # VACUUM ANALYZE after the load (PostgreSQL)
    related_rows: int = 0  # state and balance data of the sampled customers (bench/related.py)
    heavy_ids: list[str] = field(default_factory=list)  # bench/heavy_state.py
    heavy_rows: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.customers / self.seconds if self.seconds else 0.0


def _values(row: CustomerRow, organization_id: uuid.UUID) -> Record:
    """The row as the ORM holds it; JSON None stays None (stored as JSON `null`, as the API)."""
    return (
        row.id,
        row.created_at,
        row.modified_at,
        None,
        organization_id,
        row.external_id,
        row.email,
        row.email_verified,
        row.name,
        row.billing_address,
        row.tax_id,
        row.user_metadata,
    )


def _sqlite_converters() -> list[Callable[[Any], Any]]:
    """SQLAlchemy's own bind processors of the server's SQLite dialect, column by column."""
    dialect = create_async_engine("sqlite+aiosqlite://").dialect  # the server's; never connects
    table = Customer.__table__
    converters: list[Callable[[Any], Any]] = []
    for name in COLUMNS:
        column_type = table.c[name].type
        processor = column_type.dialect_impl(dialect).bind_processor(dialect)
        converters.append(processor or (lambda value: value))
    return converters


def _postgres_record(values: Record) -> Record:
    """asyncpg takes UUIDs and aware datetimes as they are; jsonb as JSON text."""
    return tuple(
        json.dumps(value) if name in JSON_COLUMNS else value
        for name, value in zip(COLUMNS, values, strict=True)
    )


def _batches(records: Iterable[Record]) -> Iterator[list[Record]]:
    iterator = iter(records)
    while batch := list(itertools.islice(iterator, BATCH_SIZE)):
        yield batch


def _insert_sqlite(database_url: str, records: Iterable[Record]) -> None:
    converters = _sqlite_converters()
    placeholders = ", ".join("?" for _ in COLUMNS)
    statement = f"INSERT INTO customers ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    connection = sqlite3.connect(sqlite_path(database_url), isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("BEGIN IMMEDIATE")
        for batch in _batches(records):
            connection.executemany(
                statement,
                (
                    tuple(convert(value) for convert, value in zip(converters, record, strict=True))
                    for record in batch
                ),
            )
        connection.execute("COMMIT")
    finally:
        connection.close()


async def _insert_postgres(database_url: str, records: Iterable[Record]) -> None:
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with connection.transaction():
            for batch in _batches(records):
                await connection.copy_records_to_table(
                    "customers", records=[_postgres_record(r) for r in batch], columns=COLUMNS
                )
    finally:
        await connection.close()


async def _analyze_postgres(database_url: str) -> None:
    """What autovacuum would soon do: plans should not depend on when we measure. Then a
    checkpoint: the seed's WAL (a gigabyte with the heavy state) would otherwise start one
    while the scenarios run, and writes measured during it ran at half their rate."""
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await connection.execute("VACUUM ANALYZE")
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


async def create_tenant(database_url: str, *, key: bytes, name: str) -> tuple[uuid.UUID, str]:
    """A new organization and an organization token with customers:read and :write (and
    events:write)."""
    database = Database(Settings(database_url=database_url))
    try:
        async with database.write_sessions() as session, session.begin():
            organization = await organizations_service.create_organization(session, name=name)
            _, token = await auth_service.create_organization_token(
                session,
                organization_id=organization.id,
                # Events for the ingestion scenario (bench/ingest.py).
                scopes=(Scope.customers_read, Scope.customers_write, Scope.events_write),
                key=key,
                comment="benchmark",
            )
            return organization.id, token
    finally:
        await database.dispose()


class _Sampler:
    """Reservoir samples of ids and external ids, taken while the rows stream past."""

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.rng, self.seen = size, random.Random(seed), 0
        self.ids: list[str] = []
        self.external_ids: list[str] = []

    def _keep(self, sample: list[str], value: str, seen: int) -> None:
        if len(sample) < self.size:
            sample.append(value)
        elif (slot := self.rng.randrange(seen)) < self.size:
            sample[slot] = value

    def watch(self, rows: Iterable[CustomerRow]) -> Iterator[CustomerRow]:
        external_seen = 0
        for row in rows:
            self.seen += 1
            self._keep(self.ids, str(row.id), self.seen)
            if row.external_id is not None:
                external_seen += 1
                self._keep(self.external_ids, row.external_id, external_seen)
            yield row


async def seed(
    database_url: str, *, customers: int, key: bytes, seed: int = 42, name: str = "Benchmark"
) -> SeedResult:
    """Create the organization and token, then bulk-insert `customers` generated rows."""
    organization_id, token = await create_tenant(database_url, key=key, name=name)
    sampler = _Sampler(SAMPLE_SIZE, seed)
    rows = sampler.watch(generate(customers, now=utc_now(), seed=seed))
    first_ids: list[str] = []

    def noting_first(rows: Iterable[CustomerRow]) -> Iterator[CustomerRow]:
        for row in rows:
            if len(first_ids) < 2 * HEAVY_CUSTOMERS:
                first_ids.append(str(row.id))
            yield row

    records = (_values(row, organization_id) for row in noting_first(rows))
    started = time.perf_counter()
    if is_sqlite(database_url):
        _insert_sqlite(database_url, records)
    else:
        await _insert_postgres(database_url, records)
    result = SeedResult(
        organization_id,
        token,
        customers,
        time.perf_counter() - started,
        sampler.ids,
        sampler.external_ids,
    )
    result.related_rows = await seed_related(database_url, organization_id, sampler.ids)
    await seed_meters(database_url, organization_id)
    sampled = set(sampler.ids)
    # Customers of their own when there are enough (a smoke run samples every customer).
    unsampled = [id for id in first_ids if id not in sampled]
    result.heavy_ids = (unsampled or first_ids)[:HEAVY_CUSTOMERS]
    # 1,000,000 events from 100,000 customers up; fewer for smaller (smoke) runs.
    events = min(HEAVY_EVENTS, customers * 10)
    result.heavy_rows = await seed_heavy_state(
        database_url, organization_id, result.heavy_ids, events=events
    )
    if not is_sqlite(database_url):
        started = time.perf_counter()
        await _analyze_postgres(database_url)
        result.analyze_seconds = time.perf_counter() - started
    return result


def describe(result: SeedResult) -> str:
    text = (
        f"seeded {result.customers:,} customers in {result.seconds:.2f} s "
        f"({result.rows_per_second:,.0f} rows/s)"
    )
    sampled = len(result.sample_ids)
    text += f"; {result.related_rows:,} rows of state and balance data for {sampled:,} of them"
    text += f"; {result.heavy_rows:,} rows (events included) of heavy state for "
    text += f"{len(result.heavy_ids):,} others"
    if result.analyze_seconds is not None:
        text += f", then VACUUM ANALYZE in {result.analyze_seconds:.2f} s"
    return text


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__)
    parser.add_argument("--database-url", help="default: POLAR_CUSTOMERS_DATABASE_URL")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--migrate", action="store_true", help="apply migrations first")
    args = parser.parse_args(argv)
    settings = Settings(database_url=args.database_url) if args.database_url else Settings()
    if args.migrate:
        migrate.upgrade(settings.database_url)
    result = asyncio.run(
        seed(settings.database_url, customers=args.customers, key=settings.secret_key())
    )
    print(f"organization: {result.organization_id}")
    print(f"token: {result.token}")
    print(describe(result))


if __name__ == "__main__":
    main()
