"""GET /v1/meters/{id}/quantities: periods of the series, their calendar units, each
aggregation and its total, customer filters and the aggregation per customer."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.models import Customer, Organization
from tests.factories import create_customer
from tests.meters.support import create_meter, event, ingest_ok, iso

DAY = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
# The events: (customer fixture name, offset from DAY, value).
EVENTS = [
    ("customer", timedelta(hours=1), 4),
    ("customer", timedelta(hours=1, minutes=30), 2),
    ("customer2", timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999), 10),
    ("customer2", timedelta(days=1, hours=5), 1),
    ("customer", timedelta(days=2), 3),
    ("customer", timedelta(days=-1), 100),  # before the series
]


@pytest.fixture
async def ingested(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    customer: Customer,
    customer2: Customer,
) -> None:
    customers = {"customer": customer, "customer2": customer2}
    await ingest_ok(
        client,
        headers,
        [
            event(
                customers[who],
                timestamp=iso(DAY + offset),
                metadata={"value": value, "user": f"u{value % 3}"},
            )
            for who, offset, value in EVENTS
        ]
        + [event(customer, "other", timestamp=iso(DAY), metadata={"value": 1000})],
    )


async def quantities(
    client: httpx.AsyncClient, headers: dict[str, str], meter: dict[str, Any], **params: Any
) -> dict[str, Any]:
    query = {
        "start_timestamp": iso(DAY),
        "end_timestamp": iso(DAY + timedelta(days=2)),
        "interval": "day",
        **params,
    }
    response = await client.get(
        f"/v1/meters/{meter['id']}/quantities", params=query, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def values(body: dict[str, Any]) -> list[float]:
    return [item["quantity"] for item in body["quantities"]]


FILTER = {
    "conjunction": "and",
    "clauses": [{"property": "name", "operator": "eq", "value": "call"}],
}


@pytest.mark.usefixtures("ingested")
class TestAggregations:
    @pytest.mark.parametrize(
        ("aggregation", "expected", "total"),
        [
            ({"func": "count"}, [3, 1, 1], 5),
            ({"func": "sum", "property": "value"}, [16, 1, 3], 20),
            ({"func": "max", "property": "value"}, [10, 1, 3], 10),
            ({"func": "min", "property": "value"}, [2, 1, 3], 1),
            ({"func": "avg", "property": "value"}, [16 / 3, 1, 3], 4),
            # Values 4, 2, 10 (u1, u2, u1) on day one; 1 (u1); 3 (u0).
            ({"func": "unique", "property": "user"}, [2, 1, 1], 3),
        ],
    )
    async def test_daily(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        aggregation: dict[str, Any],
        expected: list[float],
        total: float,
    ) -> None:
        meter = await create_meter(client, headers, filter=FILTER, aggregation=aggregation)
        body = await quantities(client, headers, meter)
        assert [item["timestamp"] for item in body["quantities"]] == [
            iso(DAY + timedelta(days=d)) for d in range(3)
        ]
        assert values(body) == pytest.approx(expected)
        assert body["total"] == pytest.approx(total)

    async def test_periods_start_at_the_start(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        meter = await create_meter(client, headers, filter=FILTER)
        start = DAY + timedelta(hours=12)
        body = await quantities(
            client,
            headers,
            meter,
            start_timestamp=iso(start),
            end_timestamp=iso(start + timedelta(days=1)),
        )
        # Each period takes the events of its day, also those before its moment.
        assert [item["timestamp"] for item in body["quantities"]] == [
            iso(start),
            iso(start + timedelta(days=1)),
        ]
        assert (values(body), body["total"]) == ([3, 1], 4)

    async def test_hours(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        meter = await create_meter(client, headers, filter=FILTER)
        body = await quantities(
            client, headers, meter, interval="hour", end_timestamp=iso(DAY + timedelta(hours=2))
        )
        assert (values(body), body["total"]) == ([0, 2, 0], 2)
        body = await quantities(
            client,
            headers,
            meter,
            interval="hour",
            start_timestamp=iso(DAY + timedelta(hours=23)),
            end_timestamp=iso(DAY + timedelta(hours=24)),
        )
        assert values(body) == [1, 0]  # the last microsecond of a day is in it

    @pytest.mark.parametrize(
        ("interval", "expected"), [("week", [5]), ("month", [6]), ("year", [6])]
    )
    async def test_calendar_units(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        interval: str,
        expected: list[float],
    ) -> None:
        meter = await create_meter(client, headers, filter=FILTER)
        body = await quantities(
            client,
            headers,
            meter,
            interval=interval,
            start_timestamp=iso(DAY + timedelta(days=1)),
            end_timestamp=iso(DAY + timedelta(days=2)),
        )
        # The week of Monday 2026-01-05 holds five events; the day before it (Sunday) is in
        # the previous week, but in the same month and year.
        assert values(body) == expected

    async def test_customers(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        customer2: Customer,
    ) -> None:
        meter = await create_meter(client, headers, filter=FILTER)
        body = await quantities(client, headers, meter, customer_id=str(customer.id))
        assert (values(body), body["total"]) == ([2, 0, 1], 3)
        body = await quantities(client, headers, meter, external_customer_id="usr_2")
        assert (values(body), body["total"]) == ([1, 1, 0], 2)
        body = await quantities(
            client, headers, meter, customer_id=[str(customer.id), str(customer2.id)]
        )
        assert body["total"] == 5

    @pytest.mark.parametrize(
        ("function", "expected", "total"),
        [
            ("count", [2, 1, 1], 4),
            ("sum", [3, 1, 1], 5),
            # The total of a count is the sum of the periods, whatever the customer function.
            ("max", [2, 1, 1], 4),
            ("min", [1, 1, 1], 3),
            ("avg", [1.5, 1, 1], 3.5),
        ],
    )
    async def test_per_customer(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        function: str,
        expected: list[float],
        total: float,
    ) -> None:
        meter = await create_meter(client, headers, filter=FILTER)
        body = await quantities(client, headers, meter, customer_aggregation_function=function)
        assert (values(body), body["total"]) == (expected, total)

    async def test_unique_per_customer(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        meter = await create_meter(
            client, headers, filter=FILTER, aggregation={"func": "unique", "property": "user"}
        )
        body = await quantities(client, headers, meter, customer_aggregation_function="max")
        # Day one: u1 and u2 for the first customer, u1 for the second.
        assert (values(body), body["total"]) == ([2, 1, 1], 3)

    async def test_metadata(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        meter = await create_meter(client, headers, filter=FILTER)
        body = await quantities(client, headers, meter, **{"metadata[user]": "u1"})
        assert (values(body), body["total"]) == ([2, 1, 0], 3)


class TestRange:
    async def test_no_events(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        meter = await create_meter(client, headers, aggregation={"func": "max", "property": "v"})
        body = await quantities(client, headers, meter)
        assert (values(body), body["total"]) == ([0, 0, 0], 0)

    @pytest.mark.parametrize(
        ("interval", "days"), [("hour", 8), ("day", 367), ("week", 7 * 53 + 1), ("month", 1461)]
    )
    async def test_too_many_periods(
        self, client: httpx.AsyncClient, headers: dict[str, str], interval: str, days: int
    ) -> None:
        meter = await create_meter(client, headers)
        response = await client.get(
            f"/v1/meters/{meter['id']}/quantities",
            params={
                "start_timestamp": iso(DAY),
                "end_timestamp": iso(DAY + timedelta(days=days)),
                "interval": interval,
            },
            headers=headers,
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query"]

    async def test_end_before_start(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        meter = await create_meter(client, headers)
        response = await client.get(
            f"/v1/meters/{meter['id']}/quantities",
            params={
                "start_timestamp": iso(DAY),
                "end_timestamp": iso(DAY - timedelta(hours=1)),
                "interval": "hour",
            },
            headers=headers,
        )
        assert response.status_code == 422

    @pytest.mark.parametrize(
        "params",
        [
            {"interval": "minute"},
            {"start_timestamp": "2026-01-01T00:00:00"},
            {"customer_aggregation_function": "median"},
            {"customer_id": "not-a-uuid"},
        ],
    )
    async def test_invalid(
        self, client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str]
    ) -> None:
        meter = await create_meter(client, headers)
        query = {"start_timestamp": iso(DAY), "end_timestamp": iso(DAY), "interval": "day"}
        response = await client.get(
            f"/v1/meters/{meter['id']}/quantities", params={**query, **params}, headers=headers
        )
        assert response.status_code == 422

    async def test_months_from_the_end_of_a_month(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        meter = await create_meter(client, headers)
        start = datetime(2025, 1, 31, tzinfo=UTC)
        body = await quantities(
            client,
            headers,
            meter,
            start_timestamp=iso(start),
            end_timestamp=iso(datetime(2025, 4, 30, tzinfo=UTC)),
            interval="month",
        )
        assert [item["timestamp"] for item in body["quantities"]] == [
            "2025-01-31T00:00:00Z",
            "2025-02-28T00:00:00Z",
            "2025-03-28T00:00:00Z",
            "2025-04-28T00:00:00Z",
        ]

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        other_headers: dict[str, str],
    ) -> None:
        meter = await create_meter(client, other_headers)
        response = await client.get(
            f"/v1/meters/{meter['id']}/quantities",
            params={"start_timestamp": iso(DAY), "end_timestamp": iso(DAY), "interval": "day"},
            headers=headers,
        )
        assert response.status_code == 404

    async def test_events_of_another_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        other_headers: dict[str, str],
        session: AsyncSession,
        other_organization: Organization,
    ) -> None:
        meter = await create_meter(client, headers)
        stranger = await create_customer(session, organization=other_organization)
        await ingest_ok(client, other_headers, [event(stranger, timestamp=iso(DAY))])
        body = await quantities(client, headers, meter)
        assert body["total"] == 0
