"""Export of every visible customer, streamed as CSV or, on request, as a JSON array."""

import csv
import io
import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from pydantic import TypeAdapter

from polar_customers.customers import render, repository
from polar_customers.customers.schemas import Customer
from polar_customers.kit.raw_sql import RawPool
from polar_customers.kit.streams import read_ahead
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.kit.versions import ApiVersion

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
FORMULA_STARTS = frozenset("=+-@\t\r\n")
"""First characters that make a spreadsheet read a cell as a formula: OWASP's CSV injection
list (equals, plus, minus, at, tab, carriage return and, since 2025, line feed)."""


def wants_json(accept: str | None, version: ApiVersion) -> bool:
    """Whether to answer a JSON array rather than CSV: when a 2025 client's Accept header asks
    for JSON (polar-sdk 0.27.1 does; docs/decisions.md#d6). Today's clients read the export
    as text, so they always get the CSV."""
    if not accept or version.versioned:
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
    pool: RawPool, organization_ids: OrganizationIds, *, csv: bool
) -> AsyncIterator[list[Any]]:
    """Every visible customer in batches, one organization after the other, each batch read
    by its own short query on a connection held only for that query."""
    for organization_id in organization_ids:
        tenant, after = OrganizationIds((organization_id,)), None
        while True:
            async with pool.connection() as connection:
                rows, after = await repository.export_batch(
                    connection, tenant, csv=csv, after=after
                )
            if rows:
                yield rows
            if after is None:
                break


async def _started(batches: AsyncIterator[list[Any]]) -> AsyncIterator[list[Any]]:
    """`batches`, its first one already read: a database that cannot serve it fails the
    request (a 503 when the pool is exhausted) before the response starts. Later batches are
    read while the previous one is sent."""
    ahead = read_ahead(batches)
    first = await anext(ahead, None)

    async def rest() -> AsyncIterator[list[Any]]:
        try:
            if first is not None:
                yield first
                async for batch in ahead:
                    yield batch
        finally:
            await ahead.aclose()

    return rest()


async def stream_csv(
    pool: RawPool, organization_ids: OrganizationIds, *, neutralize_formulas: bool
) -> AsyncIterator[str]:
    """The CSV of Polar's export, by chunks of one batch; with `neutralize_formulas`, no cell
    starts like a spreadsheet formula (docs/decisions.md#d46)."""
    batches = await _started(_batches(pool, organization_ids, csv=True))
    return _csv_chunks(batches, neutralize_formulas=neutralize_formulas)


# A cell of the writer's output starts the text, or follows a comma or a line break; one
# holding a line break is quoted. When none of these places is followed by a formula start, no
# cell has one. Patterns with a literal first character scan much faster than one starting
# with a class, hence three.
_UNQUOTED_STARTS = re.escape("".join(sorted(FORMULA_STARTS - {"\r", "\n"})))
_QUOTED_STARTS = re.escape("".join(sorted(FORMULA_STARTS)))
_FORMULA_CELL = f'(?:[{_UNQUOTED_STARTS}]|"[{_QUOTED_STARTS}])'
_FIRST_CELL_FORMULA = re.compile(_FORMULA_CELL)
_CELL_AFTER_COMMA_FORMULA = re.compile("," + _FORMULA_CELL)
_CELL_AFTER_LINE_FORMULA = re.compile("\n" + _FORMULA_CELL)


def _may_start_a_formula(text: str) -> bool:
    """Whether a cell of this CSV text may start with a formula character (sometimes true when
    none does: a quoted cell's own comma or line break looks like the start of a cell)."""
    return bool(
        _FIRST_CELL_FORMULA.match(text)
        or _CELL_AFTER_COMMA_FORMULA.search(text)
        or _CELL_AFTER_LINE_FORMULA.search(text)
    )


def neutralized(cells: list[str]) -> list[str]:
    """The cells, with a single quote before each one that starts like a formula, so that a
    spreadsheet shows it as text (OWASP's advice; the CSV writer then quotes and escapes the
    cell as any other)."""
    return [f"'{cell}" if cell[:1] in FORMULA_STARTS else cell for cell in cells]


def _written(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def csv_text(batch: Sequence[Sequence[Any]], *, neutralize_formulas: bool) -> str:
    """A batch of `repository.CSV_COLUMNS` rows as CSV text. Searching the written text (in C)
    costs much less than looking at every cell in Python: only a batch where a cell may start
    like a formula is written again, its cells neutralized."""
    text = _written(csv_row(row) for row in batch)
    if neutralize_formulas and _may_start_a_formula(text):
        return _written(neutralized(csv_row(row)) for row in batch)
    return text


async def _csv_chunks(
    batches: AsyncIterator[list[Any]], *, neutralize_formulas: bool
) -> AsyncIterator[str]:
    yield _written([CSV_HEADER])
    async for batch in batches:
        yield csv_text(batch, neutralize_formulas=neutralize_formulas)


async def stream_json(
    pool: RawPool, organization_ids: OrganizationIds, version: ApiVersion
) -> AsyncIterator[bytes]:
    """A JSON array of customers as every response renders them (customers/render.py)."""
    batches = await _started(_batches(pool, organization_ids, csv=False))
    return _json_chunks(batches, version)


async def _json_chunks(
    batches: AsyncIterator[list[Any]], version: ApiVersion
) -> AsyncIterator[bytes]:
    yield b"["
    first = True
    async for batch in batches:
        chunk = _customers_json.dump_json(render.customers(batch, version))[1:-1]
        yield chunk if first else b"," + chunk
        first = False
    yield b"]"
