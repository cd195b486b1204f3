"""Meter filters: each operator on each kind of property, and/or, nesting. Every case is
answered twice and must agree: by Python on ingestion (`matching.py`, through the customer
meter it counts) and by SQL on reads (`filter_sql.py`, through `GET /v1/events/?meter_id=`)."""

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from polar_customers.kit.time import utc_now
from polar_customers.meters.matching import EventFacts, compile_filter, epoch_seconds
from polar_customers.meters.schemas import Filter
from polar_customers.models import Customer
from tests.meters.support import clause, consumed, create_meter, event, ingest_ok, iso

T0 = (utc_now() - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def moment(tag: str) -> datetime:
    """e1 at T0, e2 an hour later, and so on (e3 a fraction of a second before its hour)."""
    hours = int(tag[1:]) - 1
    offset = timedelta(hours=hours) - (timedelta(microseconds=1) if tag == "e3" else timedelta())
    return T0 + offset


EVENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "e1": ("api.call", {"model": "gpt-4", "tokens": 10, "premium": True}),
    "e2": ("api.call", {"model": "gpt-3.5", "tokens": 2.5, "premium": False}),
    "e3": ("upload", {"model": "Claude", "tokens": "7", "size": 100}),
    "e4": ("upload", {}),
    "e5": ("API.CALL", {"tokens": -1, "model": "ünïcode"}),
}
ALL = ["e1", "e2", "e3", "e4", "e5"]


def single(property: str, operator: str, value: Any) -> dict[str, Any]:
    return {"conjunction": "and", "clauses": [clause(property, operator, value)]}


CASES: list[tuple[dict[str, Any], list[str]]] = [
    (single("name", "eq", "api.call"), ["e1", "e2"]),
    (single("name", "ne", "api.call"), ["e3", "e4", "e5"]),
    (single("name", "like", "call"), ["e1", "e2"]),
    (single("name", "not_like", "call"), ["e3", "e4", "e5"]),
    (single("name", "gt", "api.call"), ["e3", "e4"]),
    (single("name", "lt", "b"), ["e1", "e2", "e5"]),
    (single("name", "lte", "api.call"), ["e1", "e2", "e5"]),
    (single("name", "gte", "upload"), ["e3", "e4"]),
    (single("name", "eq", 5), []),
    (single("source", "eq", "user"), ALL),
    (single("model", "eq", "gpt-4"), ["e1"]),
    (single("metadata.model", "eq", "gpt-4"), ["e1"]),
    (single("model", "ne", "gpt-4"), ["e2", "e3", "e5"]),
    (single("model", "like", "gpt"), ["e1", "e2"]),
    (single("model", "like", "GPT"), []),
    (single("model", "not_like", "gpt"), ["e3", "e5"]),
    (single("model", "gt", "gpt-3.5"), ["e1", "e5"]),
    (single("model", "like", "ï"), ["e5"]),
    (single("tokens", "gt", 2), ["e1", "e2", "e3"]),
    (single("tokens", "gte", 10), ["e1", "e3"]),  # "7" >= "10" as text
    (single("tokens", "lt", 3), ["e2", "e5"]),
    (single("tokens", "lte", -1), ["e5"]),
    (single("tokens", "eq", 7), ["e3"]),
    (single("tokens", "eq", "10"), []),
    (single("tokens", "like", "1"), []),
    (single("tokens", "ne", 10), ["e2", "e3", "e5"]),
    (single("premium", "eq", True), ["e1"]),
    (single("premium", "ne", True), ["e2"]),
    (single("premium", "gt", False), ["e1"]),
    (single("premium", "eq", "true"), []),
    (single("premium", "eq", 1), []),
    (single("premium", "like", "t"), []),
    (single("size", "ne", 5), ["e3"]),
    (single("missing", "ne", "x"), []),
    (single("missing", "not_like", "x"), []),
    (single("a.b", "eq", "x"), []),
    ({"conjunction": "and", "clauses": []}, ALL),
    ({"conjunction": "or", "clauses": []}, ALL),
    (
        {
            "conjunction": "or",
            "clauses": [
                clause("name", "eq", "upload"),
                {
                    "conjunction": "and",
                    "clauses": [clause("model", "like", "gpt"), clause("tokens", "gt", 5)],
                },
            ],
        },
        ["e1", "e3", "e4"],
    ),
    (
        {
            "conjunction": "and",
            "clauses": [
                {
                    "conjunction": "or",
                    "clauses": [clause("tokens", "lt", 0), clause("size", "gt", 1)],
                },
                {"conjunction": "or", "clauses": []},
            ],
        },
        ["e3", "e5"],
    ),
]


def timestamp_cases() -> list[tuple[dict[str, Any], list[str]]]:
    second = epoch_seconds(moment("e3"))  # the second before e4's hour: e3 is within it
    return [
        (single("timestamp", "eq", second), ["e3"]),
        (single("timestamp", "gte", epoch_seconds(moment("e3"))), ["e3", "e4", "e5"]),
        (single("timestamp", "gt", second), ["e4", "e5"]),
        (single("timestamp", "lt", epoch_seconds(moment("e2")) + 1), ["e1", "e2"]),
        (single("timestamp", "ne", second), ["e1", "e2", "e4", "e5"]),
        (single("timestamp", "lte", second - 1), ["e1", "e2"]),
        (single("timestamp", "like", second), ["e3"]),
        (single("timestamp", "like", str(second)), []),
        (single("timestamp", "eq", "x"), []),
        (single("timestamp", "eq", True), []),
    ]


def python_matches(meter_filter: dict[str, Any]) -> list[str]:
    predicate = compile_filter(Filter.model_validate(meter_filter))
    return [
        tag
        for tag, (name, metadata) in EVENTS.items()
        if predicate(EventFacts(name, "user", moment(tag), metadata))
    ]


@pytest.fixture
async def stored(client: httpx.AsyncClient, headers: dict[str, str], customer: Customer) -> None:
    await ingest_ok(
        client,
        headers,
        [
            event(customer, name, timestamp=iso(moment(tag)), metadata={**metadata, "tag": tag})
            for tag, (name, metadata) in EVENTS.items()
        ],
    )


async def sql_matches(
    client: httpx.AsyncClient, headers: dict[str, str], meter: dict[str, Any]
) -> list[str]:
    response = await client.get(
        "/v1/events/", params={"meter_id": meter["id"], "limit": 100}, headers=headers
    )
    assert response.status_code == 200, response.text
    return sorted(item["metadata"]["tag"] for item in response.json()["items"])


async def counted_on_ingestion(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    customer: Customer,
    meter: dict[str, Any],
) -> float:
    """The events the meter counts as they are ingested again (the first ones came before
    the meter existed)."""
    await ingest_ok(
        client,
        headers,
        [
            event(customer, name, timestamp=iso(moment(tag)), metadata=metadata)
            for tag, (name, metadata) in EVENTS.items()
        ],
    )
    return await consumed(client, headers, customer, meter) or 0


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(("meter_filter", "expected"), CASES + timestamp_cases())
async def test_python_and_sql_agree(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    customer: Customer,
    meter_filter: dict[str, Any],
    expected: list[str],
) -> None:
    assert python_matches(meter_filter) == expected
    meter = await create_meter(client, headers, filter=meter_filter)
    assert await sql_matches(client, headers, meter) == expected
    assert await counted_on_ingestion(client, headers, customer, meter) == len(expected)


class TestValidation:
    async def post(
        self, client: httpx.AsyncClient, headers: dict[str, str], meter_filter: Any
    ) -> httpx.Response:
        body = {"name": "Meter", "filter": meter_filter, "aggregation": {"func": "count"}}
        return await client.post("/v1/meters/", json=body, headers=headers)

    @staticmethod
    def nested(depth: int) -> dict[str, Any]:
        meter_filter: dict[str, Any] = {"conjunction": "and", "clauses": []}
        for _ in range(depth - 1):
            meter_filter = {"conjunction": "or", "clauses": [meter_filter]}
        return meter_filter

    async def test_deepest(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await self.post(client, headers, self.nested(5))
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize("depth", [6, 60])  # 60 filters are 120 JSON levels
    async def test_too_deep(
        self, client: httpx.AsyncClient, headers: dict[str, str], depth: int
    ) -> None:
        response = await self.post(client, headers, self.nested(depth))
        assert response.status_code == 422
        assert "at most 5 levels" in response.text

    async def test_too_many_clauses(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        clauses = [clause("name", "eq", str(i)) for i in range(101)]
        response = await self.post(client, headers, {"conjunction": "or", "clauses": clauses})
        assert response.status_code == 422
        assert "at most 100 clauses" in response.text

    @pytest.mark.parametrize(
        "bad",
        [
            clause("name", "contains", "x"),
            clause("name", "eq", 2**31),
            clause("name", "eq", 1.5),
            clause("name", "eq", None),
            clause("name", "eq", "x" * 1001),
            clause("", "eq", "x"),
            clause("p" * 201, "eq", "x"),
            {"property": "name", "operator": "eq"},
        ],
    )
    async def test_invalid_clause(
        self, client: httpx.AsyncClient, headers: dict[str, str], bad: dict[str, Any]
    ) -> None:
        response = await self.post(client, headers, {"conjunction": "and", "clauses": [bad]})
        assert response.status_code == 422, response.text

    async def test_invalid_conjunction(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await self.post(client, headers, {"conjunction": "xor", "clauses": []})
        assert response.status_code == 422
