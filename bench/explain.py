"""EXPLAIN (ANALYZE, BUFFERS) of the SQL the server issues for customer lookups and lists.

    python -m bench.explain [--database-url URL | --customers 100000]

The SQL is captured while the server's own service functions run (so it is exactly what the
server sends, bind casts included), then PREPAREd and explained twice: with a custom plan (what
the first five executions on a connection get) and with a generic plan (what PostgreSQL may
switch to from the sixth, as SQLAlchemy's asyncpg driver keeps prepared statements).
Any `Seq Scan on customers` is flagged.
"""

import argparse
import asyncio
import json
import os
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.databases import DEFAULT_POSTGRES_URL, asyncpg_dsn, fresh_database, is_sqlite
from bench.seed import describe, seed
from polar_customers import migrate
from polar_customers.auth.principal import AuthSubject, Principal, SubjectKind
from polar_customers.auth.scopes import Scope
from polar_customers.config import Settings
from polar_customers.customers import service
from polar_customers.customers.repository import ByExternalId
from polar_customers.db import create_engine
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds

SEQ_SCAN = "Seq Scan on customers"
Call = Callable[[AsyncSession, Principal], Awaitable[object]]


def _list(
    *,
    email: str | None = None,
    query: str | None = None,
    metadata: dict[str, list[str]] | None = None,
    sort: str = "-created_at",
    page: int = 1,
    limit: int = 10,
) -> Call:
    sorting = [SortCriterion(sort.removeprefix("-"), sort.startswith("-"))]

    async def call(session: AsyncSession, principal: Principal) -> object:
        return await service.list_customers(
            session,
            principal.organization_ids,
            email=email,
            query=query,
            metadata=metadata or {},
            pagination=PaginationParams(page, limit),
            sorting=sorting,
        )

    return call


def cases(email: str, external_id: str) -> list[tuple[str, Call]]:
    """The explained requests, named as in the API."""

    async def by_external_id(session: AsyncSession, principal: Principal) -> object:
        return await service.lock(session, principal, ByExternalId(external_id))

    return [
        (f"list ?email={email}", _list(email=email)),
        (f"patch /external/{external_id} (the row lookup)", by_external_id),
        ("list ?query=smit", _list(query="smit")),
        ("list ?metadata[plan]=enterprise", _list(metadata={"plan": ["enterprise"]})),
        ("list first page, sorting=-created_at", _list(sort="-created_at")),
        ("list first page, sorting=email", _list(sort="email")),
        ("list first page, sorting=name", _list(sort="name")),
        ("list page 500 of 100, sorting=-created_at", _list(page=500, limit=100)),
    ]


async def capture(database_url: str, organization_id: uuid.UUID, call: Call) -> list[Any]:
    """The (statement, parameters) pairs sent to the database while `call` runs."""
    engine = create_engine(Settings(database_url=database_url))
    captured: list[Any] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    subject = AuthSubject(
        SubjectKind.organization,
        organization_id,
        frozenset([Scope.customers_read]),
        OrganizationIds((organization_id,)),
    )
    try:
        async with async_sessionmaker(engine)() as session:
            await call(session, Principal(subject, subject.organization_ids))
            await session.rollback()
    finally:
        await engine.dispose()
    return captured


def literal(value: Any) -> str:
    """A parameter as an untyped SQL literal; PREPARE already inferred its type."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, dict | list):
        text = json.dumps(value)
    else:
        text = str(value)
    return "'" + text.replace("'", "''") + "'"


async def explain(connection: Any, statement: str, parameters: Sequence[Any]) -> dict[str, str]:
    """The custom and the generic plan of one statement, executed (ANALYZE, BUFFERS)."""
    await connection.execute(f"PREPARE bench_explained AS {statement}")
    arguments = f"({', '.join(literal(p) for p in parameters)})" if parameters else ""
    plans = {}
    try:
        for mode in ("custom", "generic"):
            await connection.execute(f"SET plan_cache_mode = force_{mode}_plan")
            rows = await connection.fetch(
                f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_explained{arguments}"
            )
            plans[mode] = "\n".join(row[0] for row in rows)
    finally:
        await connection.execute("DEALLOCATE bench_explained")
        await connection.execute("RESET plan_cache_mode")
    return plans


async def _sample(connection: Any) -> tuple[uuid.UUID, str, str]:
    """The organization with the most customers, and an email and external id of it."""
    organization_id = await connection.fetchval(
        "SELECT organization_id FROM customers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )
    if organization_id is None:
        raise SystemExit("no customers in this database: seed it first (bench.seed)")
    row = await connection.fetchrow(
        "SELECT email, external_id FROM customers WHERE organization_id = $1 "
        "AND external_id IS NOT NULL AND deleted_at IS NULL ORDER BY external_id LIMIT 1",
        organization_id,
    )
    return organization_id, row["email"], row["external_id"]


async def report(database_url: str) -> list[str]:
    """Print every plan; return the names of the cases with a sequential scan of customers."""
    import asyncpg

    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    flagged = []
    try:
        organization_id, email, external_id = await _sample(connection)
        for name, call in cases(email, external_id):
            statements = await capture(database_url, organization_id, call)
            for number, (statement, parameters) in enumerate(statements, 1):
                label = f"{name}, query {number}" if len(statements) > 1 else name
                plans = await explain(connection, statement, parameters)
                print(f"\n=== {label}\n{statement}\n-- parameters: {list(parameters)}")
                for mode, plan in plans.items():
                    seq = SEQ_SCAN in plan
                    print(f"-- {mode} plan{'  !! ' + SEQ_SCAN if seq else ''}\n{plan}")
                    if seq:
                        flagged.append(f"{label} ({mode} plan)")
    finally:
        await connection.close()
    return flagged


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__)
    parser.add_argument("--database-url", help="a PostgreSQL database seeded by bench.seed")
    parser.add_argument("--customers", type=int, default=100_000, help="else seed a new one")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("POLAR_CUSTOMERS_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="an existing database, used only to create and drop a new one",
    )
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        url = args.database_url
        if url is None:
            url = stack.enter_context(fresh_database("postgresql", postgres_url=args.postgres_url))
            migrate.upgrade(url)
            key = secrets.token_bytes(16)
            print(describe(asyncio.run(seed(url, customers=args.customers, key=key))))
        if is_sqlite(url):
            raise SystemExit("EXPLAIN here is PostgreSQL's: give a postgresql+asyncpg URL")
        flagged = asyncio.run(report(url))
    print("\n" + (f"{SEQ_SCAN}: " + "; ".join(flagged) if flagged else f"no {SEQ_SCAN}"))


if __name__ == "__main__":
    main()
