"""POST /v1/events/ingest: validation of a batch, and the running totals it moves in the same
transaction (customer meters, subscription meters, first event of customers)."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import Scope
from polar_customers.events.schemas import MAX_EVENTS
from polar_customers.kit.time import utc_now
from polar_customers.models import Customer, Organization, SubscriptionMeter
from tests.factories import (
    bearer,
    create_customer,
    create_organization_token,
    create_personal_token,
    create_user,
)
from tests.meters.support import (
    SCOPES,
    clause,
    consumed,
    create_meter,
    customer_meters,
    event,
    ingest,
    ingest_ok,
    iso,
    metered_subscription,
    named,
)


def detail(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    errors: list[dict[str, Any]] = response.json()["detail"]
    return errors


async def event_total(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await client.get("/v1/events/", headers=headers)
    assert response.status_code == 200, response.text
    total: int = response.json()["pagination"]["total_count"]
    return total


class TestAggregations:
    async def test_count(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        meter = await create_meter(client, headers, filter=named("call"))
        await ingest_ok(client, headers, [event(customer), event(customer), event(customer, "x")])
        [item] = await customer_meters(client, headers)
        assert (item["consumed_units"], item["credited_units"], item["balance"]) == (2, 0, -2)
        assert (item["customer_id"], item["meter_id"]) == (str(customer.id), meter["id"])

    async def test_sum_across_batches(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        aggregation = {"func": "sum", "property": "metadata.tokens"}
        meter = await create_meter(client, headers, aggregation=aggregation)
        assert meter["aggregation"] == {"func": "sum", "property": "tokens"}
        await ingest_ok(client, headers, [event(customer, metadata={"tokens": 10})])
        await ingest_ok(
            client,
            headers,
            [
                event(customer, metadata={"tokens": 5.5}),
                event(customer, metadata={"tokens": "7"}),  # not a number: not taken
                event(customer, metadata={"tokens": True}),
                event(customer),
            ],
        )
        assert await consumed(client, headers, customer, meter) == 15.5

    @pytest.mark.parametrize(
        ("function", "batches", "expected"),
        [
            ("max", [[-4, -2], [-3], [-5]], -2),
            ("max", [[3], [7, 1], [2]], 7),
            ("min", [[5, 9], [2], [4]], 2),
            ("min", [[-1], [3]], -1),
            ("avg", [[2, 4], [6]], 4),
            ("avg", [[1], [2], [2.5]], 5.5 / 3),
        ],
    )
    async def test_extremes_and_average_across_batches(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        function: str,
        batches: list[list[float]],
        expected: float,
    ) -> None:
        meter = await create_meter(
            client, headers, aggregation={"func": function, "property": "value"}
        )
        for batch in batches:
            await ingest_ok(
                client, headers, [event(customer, metadata={"value": value}) for value in batch]
            )
        assert await consumed(client, headers, customer, meter) == pytest.approx(expected)

    async def test_unique_across_batches(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        meter = await create_meter(
            client, headers, aggregation={"func": "unique", "property": "user"}
        )
        first = ["a", "b", "a"]
        await ingest_ok(client, headers, [event(customer, metadata={"user": u}) for u in first])
        assert await consumed(client, headers, customer, meter) == 2
        # 1 and 1.0 are one number; "1" is a string; true a boolean.
        second: list[Any] = ["b", "c", 1, 1.0, "1", True]
        await ingest_ok(client, headers, [event(customer, metadata={"user": u}) for u in second])
        await ingest_ok(client, headers, [event(customer)])  # no value: counts nothing
        [item] = await customer_meters(client, headers)
        assert (item["consumed_units"], item["balance"]) == (6, -6)

    async def test_timestamp_property(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        meter = await create_meter(
            client, headers, aggregation={"func": "max", "property": "timestamp"}
        )
        moment = (utc_now() - timedelta(days=1)).replace(microsecond=999_999)
        await ingest_ok(client, headers, [event(customer, timestamp=iso(moment))])
        assert await consumed(client, headers, customer, meter) == int(moment.timestamp())

    async def test_meters_count_each_customer_apart(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        customer2: Customer,
    ) -> None:
        calls = await create_meter(client, headers, filter=named("call"))
        uploads = await create_meter(client, headers, name="Uploads", filter=named("upload"))
        await ingest_ok(
            client,
            headers,
            [event(customer), event(customer2), event(customer2), event(customer2, "upload")],
        )
        assert await consumed(client, headers, customer, calls) == 1
        assert await consumed(client, headers, customer2, calls) == 2
        assert await consumed(client, headers, customer2, uploads) == 1
        assert await consumed(client, headers, customer, uploads) is None

    async def test_archived_meter_counts_nothing(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        meter = await create_meter(client, headers)
        response = await client.patch(
            f"/v1/meters/{meter['id']}", json={"is_archived": True}, headers=headers
        )
        assert response.status_code == 200, response.text
        await ingest_ok(client, headers, [event(customer)])
        items = await customer_meters(client, headers, meter_id=meter["id"])
        assert items == []

    async def test_meter_of_another_organization_counts_nothing(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        other_headers: dict[str, str],
        customer: Customer,
    ) -> None:
        await create_meter(client, other_headers)
        await ingest_ok(client, headers, [event(customer)])
        assert await customer_meters(client, other_headers) == []
        assert await customer_meters(client, headers) == []

    async def test_filter_on_metadata(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        meter_filter = {
            "conjunction": "or",
            "clauses": [
                clause("model", "like", "gpt"),
                {
                    "conjunction": "and",
                    "clauses": [clause("name", "eq", "upload"), clause("size", "gte", 10)],
                },
            ],
        }
        meter = await create_meter(client, headers, filter=meter_filter)
        await ingest_ok(
            client,
            headers,
            [
                event(customer, metadata={"model": "gpt-4"}),
                event(customer, metadata={"model": "claude"}),
                event(customer, "upload", metadata={"size": 10}),
                event(customer, "upload", metadata={"size": 9}),
            ],
        )
        assert await consumed(client, headers, customer, meter) == 2


class TestCustomers:
    async def test_external_customer_id(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        meter = await create_meter(client, headers)
        await ingest_ok(client, headers, [event("usr_1"), event(customer)])
        assert await consumed(client, headers, customer, meter) == 2
        response = await client.get("/v1/events/", params={"sorting": "timestamp"}, headers=headers)
        items = response.json()["items"]
        assert {item["customer_id"] for item in items} == {str(customer.id)}
        assert sorted(str(item["external_customer_id"]) for item in items) == ["None", "usr_1"]

    async def test_unknown_external_customer_is_stored_without_customer(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        await create_meter(client, headers)
        await ingest_ok(client, headers, [event("nobody", metadata={"k": "v"})])
        response = await client.get("/v1/events/", headers=headers)
        [item] = response.json()["items"]
        assert (item["customer_id"], item["customer"], item["external_customer_id"]) == (
            None,
            None,
            "nobody",
        )
        assert await customer_meters(client, headers) == []

    async def test_customer_of_another_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        session: AsyncSession,
        other_organization: Organization,
    ) -> None:
        stranger = await create_customer(session, organization=other_organization)
        response = await ingest(client, headers, [event(customer), event(stranger)])
        assert detail(response) == [
            {
                "type": "customer_id",
                "loc": ["body", "events", 1, "customer_id"],
                "msg": "Customer not found.",
                "input": str(stranger.id),
            }
        ]
        assert await event_total(client, headers) == 0  # nothing of a refused batch is kept

    async def test_deleted_customer(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await client.delete(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 204
        response = await ingest(client, headers, [event(customer)])
        assert detail(response)[0]["loc"] == ["body", "events", 0, "customer_id"]
        # Its external id is freed: events by it belong to no customer.
        await ingest_ok(client, headers, [event("usr_1")])

    async def test_external_id_of_another_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        other_organization: Organization,
    ) -> None:
        await create_customer(session, organization=other_organization, external_id="theirs")
        await ingest_ok(client, headers, [event("theirs")])
        response = await client.get("/v1/events/", headers=headers)
        assert response.json()["items"][0]["customer_id"] is None

    async def test_first_user_event_at(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        now = utc_now()
        first, earlier, later = (now - timedelta(days=d) for d in (2, 5, 1))

        async def first_event_at() -> str | None:
            response = await client.get(f"/v1/customers/{customer.id}", headers=headers)
            value: str | None = response.json()["first_user_event_at"]
            return value

        assert await first_event_at() is None
        await ingest_ok(
            client,
            headers,
            [event(customer, timestamp=iso(later)), event("usr_1", timestamp=iso(first))],
        )
        assert await first_event_at() == iso(first)
        await ingest_ok(client, headers, [event(customer, timestamp=iso(later))])
        assert await first_event_at() == iso(first)
        await ingest_ok(client, headers, [event(customer, timestamp=iso(earlier))])
        assert await first_event_at() == iso(earlier)
        response = await client.get(f"/v1/customers/{customer.id}", headers=headers)
        assert response.json()["modified_at"] is None


class TestOrganizations:
    async def test_organization_id_with_organization_token(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        organization: Organization,
    ) -> None:
        body = event(customer, organization_id=str(organization.id))
        response = await ingest(client, headers, [body])
        assert detail(response) == [
            {
                "type": "organization_token",
                "loc": ["body", "events", 0, "organization_id"],
                "msg": "Setting organization_id is disallowed when using an organization token.",
                "input": str(organization.id),
            }
        ]

    async def test_personal_token(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        customer: Customer,
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        user = await create_user(session, member_of=[organization])
        headers = bearer(await create_personal_token(session, user=user, scopes=SCOPES))
        response = await ingest(client, headers, [event(customer)])
        assert detail(response)[0]["msg"] == "organization_id is required."
        response = await ingest(
            client, headers, [event(customer, organization_id=str(other_organization.id))]
        )
        assert detail(response)[0]["msg"] == "Organization not found."
        await ingest_ok(client, headers, [event(customer, organization_id=str(organization.id))])
        selected = {**headers, "Polar-Organization": str(organization.id)}
        await ingest_ok(client, selected, [event(customer)])
        assert await event_total(client, headers) == 2

    async def test_customer_of_another_organization_of_the_user(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        customer: Customer,
        organization: Organization,
        other_organization: Organization,
    ) -> None:
        user = await create_user(session, member_of=[organization, other_organization])
        headers = bearer(await create_personal_token(session, user=user, scopes=SCOPES))
        body = event(customer, organization_id=str(other_organization.id))
        response = await ingest(client, headers, [body])
        assert detail(response)[0]["msg"] == "Customer not found."


class TestValidation:
    async def test_empty_batch(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await ingest(client, headers, [])
        assert response.status_code == 200
        assert response.json() == {"inserted": 0}

    async def test_too_many_events(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await ingest(client, headers, [event(customer)] * (MAX_EVENTS + 1))
        [error] = detail(response)
        assert (error["type"], error["loc"]) == ("too_long", ["body", "events"])

    async def test_future_timestamp(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        future = utc_now() + timedelta(minutes=5)
        response = await ingest(client, headers, [event(customer, timestamp=iso(future))])
        assert "Timestamp must be in the past." in str(detail(response))

    async def test_naive_timestamp(
        self, client: httpx.AsyncClient, headers: dict[str, str], customer: Customer
    ) -> None:
        response = await ingest(client, headers, [event(customer, timestamp="2025-01-01T00:00:00")])
        assert "timezone_aware" in {error["type"] for error in detail(response)}

    @pytest.mark.parametrize(
        "fields",
        [
            {"name": "n" * 129},
            {"name": "a\x00b"},
            {"metadata": {f"k{i}": i for i in range(51)}},
            {"metadata": {"k": "v" * 501}},
            {"metadata": {"k" * 41: 1}},
            {"metadata": {"k": {"nested": 1}}},
            {"metadata": {"k": ""}},
        ],
    )
    async def test_invalid_fields(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        customer: Customer,
        fields: dict[str, Any],
    ) -> None:
        response = await ingest(client, headers, [{**event(customer), **fields}])
        assert all(error["loc"][:3] == ["body", "events", 0] for error in detail(response))

    async def test_no_customer(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await ingest(client, headers, [{"name": "call"}])
        # Without `customer_id`, an event is of an external customer.
        [error] = detail(response)
        assert (error["type"], error["loc"]) == (
            "missing",
            ["body", "events", 0, "EventCreateExternalCustomer", "external_customer_id"],
        )

    async def test_external_customer_id_too_long(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await ingest(client, headers, [event("x" * 1001)])
        assert response.status_code == 422


class TestSubscriptionMeters:
    async def test_amount_follows_the_metered_price(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers)
        subscription = await metered_subscription(
            session, customer=customer, meter_id=meter["id"], unit_amount=0.5
        )
        await ingest_ok(client, headers, [event(customer)] * 25)
        [row] = await _subscription_meters(session, subscription.id)
        assert (row.consumed_units, row.amount, row.event_count) == (25, 13, 25)

    async def test_amount_is_capped(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        meter = await create_meter(client, headers, aggregation={"func": "sum", "property": "n"})
        subscription = await metered_subscription(
            session, customer=customer, meter_id=meter["id"], unit_amount=100, cap_amount=250
        )
        await ingest_ok(client, headers, [event(customer, metadata={"n": 2})])
        [row] = await _subscription_meters(session, subscription.id)
        assert (row.consumed_units, row.amount) == (2, 200)
        await ingest_ok(client, headers, [event(customer, metadata={"n": 2})])
        [row] = await _subscription_meters(session, subscription.id)
        assert (row.consumed_units, row.amount) == (4, 250)

    @pytest.mark.parametrize(("status", "counted"), [("trialing", 1), ("canceled", 0)])
    async def test_only_active_and_trialing_subscriptions(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
        status: str,
        counted: int,
    ) -> None:
        meter = await create_meter(client, headers)
        subscription = await metered_subscription(
            session, customer=customer, meter_id=meter["id"], unit_amount=1, status=status
        )
        await ingest_ok(client, headers, [event(customer)])
        [row] = await _subscription_meters(session, subscription.id)
        assert row.consumed_units == counted

    async def test_unique_values_per_period(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customer: Customer,
    ) -> None:
        aggregation = {"func": "unique", "property": "user"}
        meter = await create_meter(client, headers, aggregation=aggregation)
        await ingest_ok(client, headers, [event(customer, metadata={"user": "a"})])
        subscription = await metered_subscription(
            session, customer=customer, meter_id=meter["id"], unit_amount=10
        )
        users = ["a", "b", "b"]
        await ingest_ok(client, headers, [event(customer, metadata={"user": u}) for u in users])
        [row] = await _subscription_meters(session, subscription.id)
        assert (row.consumed_units, row.amount) == (2, 20)
        assert await consumed(client, headers, customer, meter) == 2


async def _subscription_meters(session: AsyncSession, subscription_id: Any) -> list[Any]:
    rows = await session.execute(
        select(
            SubscriptionMeter.consumed_units,
            SubscriptionMeter.credited_units,
            SubscriptionMeter.amount,
            SubscriptionMeter.event_count,
        ).where(SubscriptionMeter.subscription_id == subscription_id)
    )
    return list(rows.all())


class TestAuthorization:
    async def test_anonymous(self, client: httpx.AsyncClient, customer: Customer) -> None:
        response = await ingest(client, {}, [event(customer)])
        assert response.status_code == 401

    async def test_missing_scope(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
    ) -> None:
        token = await create_organization_token(
            session, organization=organization, scopes=[Scope.events_read]
        )
        response = await ingest(client, bearer(token), [event(customer)])
        assert response.status_code == 403
        assert 'scope="events:write web:write"' in response.headers["WWW-Authenticate"]
