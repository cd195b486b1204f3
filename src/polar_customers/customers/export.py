"""Export of every visible customer, streamed as CSV or, on request, as a JSON array."""

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Row

from polar_customers.customers import repository
from polar_customers.customers.schemas import Customer
from polar_customers.db import SessionFactory

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
_ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")
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


def csv_row(row: Row[Any]) -> list[str]:
    """One customer as the cells of Polar's CSV export."""
    address = row.billing_address or {}
    return [
        str(row.id),
        row.external_id or "",
        row.created_at.isoformat(),
        row.email,
        row.name or "",
        str(row.tax_id) if row.tax_id else "",
        *(address.get(field) or "" for field in _ADDRESS_FIELDS),
        json.dumps(row.user_metadata) if row.user_metadata else "",
    ]


async def _batches(
    sessions: SessionFactory,
    organization_ids: Sequence[uuid.UUID],
    filter_organization_ids: Sequence[uuid.UUID] | None,
) -> AsyncIterator[Sequence[Row[Any]]]:
    async with sessions() as session:
        async for batch in repository.stream_rows(
            session, organization_ids, filter_organization_ids=filter_organization_ids
        ):
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
    async for batch in _batches(sessions, organization_ids, filter_organization_ids):
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
    async for batch in _batches(sessions, organization_ids, filter_organization_ids):
        customers = _customers_json.validate_python(batch, from_attributes=True)
        chunk = _customers_json.dump_json(customers)[1:-1]
        if chunk:
            yield chunk if first else b"," + chunk
            first = False
    yield b"]"
