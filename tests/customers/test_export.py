"""GET /v1/customers/export"""

import csv
import io
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from polar_customers.customers import repository
from polar_customers.customers.export import wants_json
from polar_customers.kit.raw_sql import borrow
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.kit.time import utc_now
from polar_customers.kit.versions import REQUESTABLE, ApiVersion
from polar_customers.models import Organization
from tests.factories import create_customer

URL = "/v1/customers/export"
HEADER = (
    "ID,External ID,Created At,Email,Name,Tax ID,Billing Address Line 1,Billing Address Line 2,"
    "Billing Address City,Billing Address State,Billing Address Zip,Billing Address Country,"
    "Metadata\r\n"
)


class TestExportCustomers:
    async def test_csv(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        full = await create_customer(
            session,
            organization=organization,
            email="John@example.com",
            external_id="usr_1337",
            name='John "JD" Doe',
            created_at=datetime(2025, 10, 5, 12, 0, 0, 123456, tzinfo=UTC),
            tax_id=["911144442", "us_ein"],
            billing_address={
                "line1": "1 Main St",
                "line2": None,
                "postal_code": "94103",
                "city": "San Francisco",
                "state": "US-CA",
                "country": "US",
            },
            metadata={"plan": "pro", "seats": 3, "zname": "Zoë"},
        )
        bare = await create_customer(
            session,
            organization=organization,
            email="a@example.com",
            created_at=datetime(2025, 10, 5, 12, 0, 0, tzinfo=UTC),
        )
        await create_customer(session, organization=organization, deleted_at=utc_now())
        await create_customer(session, organization=other_organization)
        response = await client.get(URL, headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == (
            "attachment; filename=polar-customers.csv"
        )
        body = response.text
        assert body.startswith(HEADER)
        lines = sorted(body.removeprefix(HEADER).split("\r\n")[:-1])
        assert sorted(lines) == sorted(
            [
                f"{full.id},usr_1337,2025-10-05T12:00:00.123456+00:00,John@example.com,"
                '"John ""JD"" Doe","[\'911144442\', \'us_ein\']",1 Main St,,San Francisco,'
                'US-CA,94103,US,"{""plan"": ""pro"", ""seats"": 3, ""zname"": ""Zo\\u00eb""}"',
                f"{bare.id},,2025-10-05T12:00:00+00:00,a@example.com,,,,,,,,,",
            ]
        )

    async def test_empty(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(URL, headers=headers)
        assert response.text == HEADER

    async def test_json_when_accepted(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customers = [await create_customer(session, organization=organization) for _ in range(3)]
        response = await client.get(URL, headers={**headers, "Accept": "application/json"})
        assert response.headers["content-type"] == "application/json"
        items = response.json()
        assert sorted(item["id"] for item in items) == sorted(str(c.id) for c in customers)
        single = await client.get(f"/v1/customers/{customers[0].id}", headers=headers)
        assert single.json() in items

    async def test_json_empty(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.get(URL, headers={**headers, "Accept": "application/json"})
        assert response.json() == []

    async def test_organization_filter(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization)
        response = await client.get(
            URL, params={"organization_id": str(other_organization.id)}, headers=headers
        )
        assert response.text == HEADER
        response = await client.get(
            URL, params={"organization_id": str(organization.id)}, headers=headers
        )
        assert len(list(csv.reader(io.StringIO(response.text)))) == 2

    async def test_invalid_organization_filter(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await client.get(URL, params={"organization_id": "x"}, headers=headers)
        assert response.status_code == 422


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("*/*", False),
        ("text/csv", False),
        ("application/json", True),
        ("application/json;q=0.5, text/csv", False),
        ("text/csv;q=0.1, application/json", True),
        ("application/json;q=0", False),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),
    ],
)
def test_wants_json(accept: str | None, expected: bool) -> None:
    assert wants_json(accept, ApiVersion.v2025_10) is expected


@pytest.mark.parametrize("version", REQUESTABLE)
def test_versioned_clients_always_get_csv(version: ApiVersion) -> None:
    assert wants_json("application/json", version) is False


def test_csv_cells_come_as_text(engine: AsyncEngine) -> None:
    """Every CSV cell is text as the database wrote it: no value is converted in Python."""
    for query in repository.EXPORT_QUERIES[True].values():
        compiled = query.compiled(engine.dialect, {"organization_ids": [uuid.uuid4()]})
        assert not any(compiled.results)


@pytest.mark.parametrize("csv_variant", [True, False])
async def test_batches_read_in_index_order(
    connection: AsyncConnection, organization: Organization, csv_variant: bool
) -> None:
    """A batch never sorts the tenant's rows, whatever the statistics say (none here)."""
    raw = await borrow(connection)
    query = repository.EXPORT_QUERIES[csv_variant][True]
    parameters = {
        "organization_ids": [organization.id],
        "after_created_at": utc_now(),
        "after_id": uuid.uuid4(),
        "batch_size": 1000,
    }
    compiled = query.compiled(connection.dialect, parameters)
    sqlite = connection.dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    async with raw.index_order():
        result = await connection.exec_driver_sql(
            explain + compiled.sql, tuple(compiled.arguments(parameters))
        )
        plan = "\n".join(str(row[-1]) for row in result)

    assert "ix_customers_organization_id_created_at" in plan, plan
    assert ("TEMP B-TREE" if sqlite else "Sort") not in plan, plan


@pytest.mark.parametrize("csv_variant", [True, False])
async def test_batches_cover_every_customer_once(
    session: AsyncSession,
    connection: AsyncConnection,
    organization: Organization,
    other_organization: Organization,
    csv_variant: bool,
) -> None:
    """Keyset batches: ties on the creation time split across batches, nothing repeated or
    lost, deleted and other tenants' customers left out, oldest first."""
    same_time = datetime(2025, 10, 5, 12, 0, 0, tzinfo=UTC)
    kept = [
        await create_customer(session, organization=organization, created_at=same_time)
        for _ in range(5)
    ]
    kept.append(await create_customer(session, organization=organization))
    gone = await create_customer(session, organization=organization, created_at=same_time)
    gone.deleted_at = same_time
    await create_customer(session, organization=other_organization, created_at=same_time)
    await session.flush()
    raw = await borrow(connection)

    exported, after, batches = [], None, 0
    while True:
        rows, after = await repository.export_batch(
            raw,
            OrganizationIds((organization.id,)),
            csv=csv_variant,
            after=after,
            batch_size=2,
        )
        exported += [str(row[0]) if csv_variant else str(row["id"]) for row in rows]
        batches += 1
        if after is None:
            break

    expected = sorted(kept, key=lambda customer: (customer.created_at, str(customer.id)))
    assert exported == [str(customer.id) for customer in expected]
    assert batches == 4  # three full batches, then an empty one
