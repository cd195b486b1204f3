"""Export of every visible customer, streamed as CSV or, on request, as a JSON array."""

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic import TypeAdapter

from polar_customers.customers import repository
from polar_customers.customers.schemas import Customer
from polar_customers.db import SessionFactory
from polar_customers.kit.raw_sql import borrow
from polar_customers.kit.streams import read_ahead

CSV_HEADER = (
    "ID",
    "External ID",
    "Created At",
    "Email",
    "Name",
    "Tax ID",
    "Billing Address Line 1",
    "Billing Address Line 2",
    "Billing Address City",
    "Billing Address State",
    "Billing Address Zip",
    "Billing Address Country",
    "Metadata",
)
_customers_json = TypeAdapter(list[Customer])


def wants_json(accept: str | None) -> bool:
    """Whether the Accept header asks for JSON rather than CSV (the official SDKs ask for JSON)."""
    if not accept:
        return False
    preferences: dict[str, float] = {}
    for part in accept.split(","):
        media_type, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        preferences[media_type.lower()] = quality
    json_quality = preferences.get("application/json", 0.0)
    return json_quality > 0 and json_quality >= preferences.get("text/csv", 0.0)


def _metadata_cell(stored: str | None) -> str:
    """`json.dumps` of the metadata (default separators, ASCII escapes), empty for `{}`.

    SQLite keeps exactly that text and PostgreSQL renders JSONB with the same separators, so
    the stored text is used as is unless it has non-ASCII characters to escape.
    """
    if not stored or stored == "{}":
        return ""
    return stored if stored.isascii() else json.dumps(json.loads(stored))


def csv_row(row: Sequence[Any]) -> list[str]:
    """One customer (a row of `repository.CSV_COLUMNS`) as the cells of Polar's CSV export;
    Tax ID is the Python list repr. Unpacked by position: this runs once per exported row."""
    id, external_id, created_at, email, name, tax_value, tax_format, *address, metadata = row
    return [
        id,
        external_id or "",
        created_at,
        email,
        name or "",
        repr([tax_value, tax_format]) if tax_value is not None else "",
        *[cell or "" for cell in address],
        _metadata_cell(metadata),
    ]


async def _batches(
    sessions: SessionFactory,
    organization_ids: Sequence[uuid.UUID],
    filter_organization_ids: Sequence[uuid.UUID] | None,
    *,
    csv: bool,
) -> AsyncIterator[list[Any]]:
    async with sessions() as session:
        connection = await borrow(await session.connection())
        rows = repository.stream_export(
            connection, organization_ids, filter_organization_ids=filter_organization_ids, csv=csv
        )
        async for batch in read_ahead(rows):
            yield batch


async def stream_csv(
    sessions: SessionFactory,
    organization_ids: Sequence[uuid.UUID],
    filter_organization_ids: Sequence[uuid.UUID] | None,
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield buffer.getvalue()
    async for batch in _batches(sessions, organization_ids, filter_organization_ids, csv=True):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(csv_row(row) for row in batch)
        yield buffer.getvalue()


async def stream_json(
    sessions: SessionFactory,
    organization_ids: Sequence[uuid.UUID],
    filter_organization_ids: Sequence[uuid.UUID] | None,
) -> AsyncIterator[bytes]:
    yield b"["
    first = True
    async for batch in _batches(sessions, organization_ids, filter_organization_ids, csv=False):
        customers = _customers_json.validate_python(batch)
        chunk = _customers_json.dump_json(customers)[1:-1]
        if chunk:
            yield chunk if first else b"," + chunk
            first = False
    yield b"]"
