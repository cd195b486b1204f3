"""The floor: a raw ASGI app answering GET /v1/customers/{id} with one SQL query.

    uvicorn bench.floor:app --workers N   (database from POLAR_CUSTOMERS_DATABASE_URL)

No framework, no validation model, no auth: what Python and the database allow. PostgreSQL
goes through an asyncpg pool; SQLite through one sqlite3 connection per worker, queried inline
(a primary-key lookup is far cheaper than a hop to a thread).
"""

import json
import os
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

from bench.databases import asyncpg_dsn, is_sqlite, sqlite_path

PREFIX = "/v1/customers/"
POOL_SIZE = 10
COLUMNS = (
    "id, created_at, modified_at, user_metadata, external_id, email, email_verified, name, "
    "billing_address, tax_id, organization_id, deleted_at"
)
JSON_FIELDS = frozenset({"metadata", "billing_address", "tax_id"})
FIELDS = (
    "id",
    "created_at",
    "modified_at",
    "metadata",
    "external_id",
    "email",
    "email_verified",
    "name",
    "billing_address",
    "tax_id",
    "organization_id",
    "deleted_at",
)
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Fetch = Callable[[uuid.UUID], Awaitable[tuple[Any, ...] | None]]


def _scalar(value: Any) -> str:
    if isinstance(value, datetime):
        return json.dumps(value.isoformat().replace("+00:00", "Z"))
    if isinstance(value, uuid.UUID):
        return json.dumps(str(value))
    return json.dumps(value)


def _sqlite_scalar(name: str, value: Any) -> str:
    if value is None:
        return "null"
    if name in ("id", "organization_id"):
        return json.dumps(str(uuid.UUID(hex=value)))
    if name.endswith("_at"):
        return json.dumps(value.replace(" ", "T") + "Z")
    if name == "email_verified":
        return "true" if value else "false"
    return json.dumps(value)


def render(row: tuple[Any, ...], *, sqlite: bool) -> bytes:
    """The row as a JSON object; JSON columns arrive as JSON text and are spliced in as is."""
    parts = []
    for name, value in zip(FIELDS, row, strict=True):
        if name in JSON_FIELDS:
            text = value if isinstance(value, str) else json.dumps(value)
        elif sqlite:
            text = _sqlite_scalar(name, value)
        else:
            text = _scalar(value)
        parts.append(f'"{name}":{text}')
    return ("{" + ",".join(parts) + "}").encode()


class Floor:
    """The ASGI application; the database is opened at lifespan startup."""

    def __init__(self) -> None:
        self.fetch: Fetch | None = None
        self.sqlite = False
        self.close: Callable[[], Awaitable[None]] | None = None

    async def _open(self) -> None:
        database_url = os.environ["POLAR_CUSTOMERS_DATABASE_URL"]
        self.sqlite = is_sqlite(database_url)
        sql = f"SELECT {COLUMNS} FROM customers WHERE id = {{}} AND deleted_at IS NULL"
        if self.sqlite:
            connection = sqlite3.connect(sqlite_path(database_url), check_same_thread=False)
            connection.execute("PRAGMA busy_timeout=30000")
            query = sql.format("?")

            async def fetch_sqlite(id: uuid.UUID) -> tuple[Any, ...] | None:
                row: tuple[Any, ...] | None = connection.execute(query, (id.hex,)).fetchone()
                return row

            async def close_sqlite() -> None:
                connection.close()

            self.fetch, self.close = fetch_sqlite, close_sqlite
            return
        import asyncpg

        pool = await asyncpg.create_pool(asyncpg_dsn(database_url), min_size=1, max_size=POOL_SIZE)
        query = sql.format("$1")

        async def fetch_postgres(id: uuid.UUID) -> tuple[Any, ...] | None:
            row = await pool.fetchrow(query, id)
            return None if row is None else tuple(row)

        self.fetch, self.close = fetch_postgres, pool.close

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self._open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.close is not None:
                    await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _respond(self, send: Send, status: int, body: bytes) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(PREFIX):
            await self._respond(send, 404, b'{"detail":"Not Found"}')
            return
        try:
            id = uuid.UUID(path[len(PREFIX) :])
        except ValueError:
            await self._respond(send, 404, b'{"detail":"Not Found"}')
            return
        assert self.fetch is not None, "lifespan startup did not run"
        row = await self.fetch(id)
        if row is None:
            await self._respond(send, 404, b'{"error":"ResourceNotFound","detail":"Not found"}')
            return
        await self._respond(send, 200, render(row, sqlite=self.sqlite))


app = Floor()
