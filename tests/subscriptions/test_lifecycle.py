"""Periods end without a request: the scheduler's pass renews subscriptions (a new period,
its order, re-credited meters) or ends those canceled at period end. The clock is moved,
never waited for."""

from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.kit.time import moved_clock, utc_now
from polar_customers.subscriptions import lifecycle
from tests.subscriptions.conftest import Catalogue, Post


async def _get(client: httpx.AsyncClient, headers: dict[str, str], path: str) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _subscription_orders(
    client: httpx.AsyncClient, headers: dict[str, str], subscription_id: str
) -> list[dict[str, Any]]:
    page = await _get(client, headers, "/v1/orders/?limit=100&sorting=created_at")
    return [order for order in page["items"] if order["subscription_id"] == subscription_id]


async def _pass(sessions: async_sessionmaker[AsyncSession]) -> None:
    """A scheduler pass at the (moved) clock's time. It sees every subscription of the
    database, other tests' committed ones too, so tests look at their own subscription."""
    await lifecycle.run_due(sessions, now=utc_now())


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class TestRenewal:
    async def test_period_end_renews_bills_and_recredits(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        catalogue: Catalogue,
        post: Post,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        customer_id = catalogue.customer["id"]
        ingested = await post(
            "/v1/events/ingest",
            {"events": [{"name": "api_call", "customer_id": customer_id}] * 30},
            status=200,
        )
        assert ingested == {"inserted": 30}
        state = await _get(client, headers, f"/v1/customers/{customer_id}/state")
        [meter] = state["active_meters"]
        assert (meter["consumed_units"], meter["credited_units"], meter["balance"]) == (30, 100, 70)
        first_end = _at(subscription["current_period_end"])

        # Before the period ends, a pass changes nothing.
        await _pass(sessions)
        unchanged = await _get(client, headers, f"/v1/subscriptions/{subscription['id']}")
        assert unchanged["current_period_end"] == subscription["current_period_end"]

        with moved_clock(first_end - utc_now() + timedelta(minutes=1)):
            await _pass(sessions)
            # A second pass over the same period renews nothing (two orders below, not three).
            await _pass(sessions)

        renewed = await _get(client, headers, f"/v1/subscriptions/{subscription['id']}")
        assert renewed["status"] == "active"
        assert _at(renewed["current_period_start"]) == first_end
        assert _at(renewed["current_period_end"]) > first_end
        orders = await _subscription_orders(client, headers, subscription["id"])
        assert [order["billing_reason"] for order in orders] == [
            "subscription_create",
            "subscription_cycle",
        ]
        assert orders[1]["total_amount"] == 1000

        state = await _get(client, headers, f"/v1/customers/{customer_id}/state")
        assert len(state["granted_benefits"]) == 3
        [meter] = state["active_meters"]
        # The new period starts the meter afresh with its credits (no rollover): the 30 units
        # consumed and the 70 left of the last period's credit do not carry over.
        assert (meter["consumed_units"], meter["credited_units"], meter["balance"]) == (0, 100, 100)

    async def test_metered_usage_is_billed_with_the_next_period(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        catalogue: Catalogue,
        post: Post,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        product = await post(
            "/v1/products/",
            {
                "name": "Pay as you go",
                "recurring_interval": "month",
                "prices": [
                    {"amount_type": "fixed", "price_amount": 1000},
                    {
                        "amount_type": "metered_unit",
                        "meter_id": catalogue.meter["id"],
                        "unit_amount": "2.5",
                    },
                ],
            },
        )
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": product["id"], "customer_id": catalogue.customer["id"]},
        )
        events = [{"name": "api_call", "external_customer_id": "ada"}] * 40
        events += [{"name": "other", "external_customer_id": "ada"}] * 5
        await post("/v1/events/ingest", {"events": events}, status=200)
        path = f"/v1/subscriptions/{subscription['id']}"
        [meter] = (await _get(client, headers, path))["meters"]
        assert (meter["meter_id"], meter["consumed_units"], meter["amount"]) == (
            catalogue.meter["id"],
            40,
            100,
        )
        end = _at(subscription["current_period_end"])
        with moved_clock(end - utc_now() + timedelta(seconds=1)):
            await _pass(sessions)
        orders = await _subscription_orders(client, headers, subscription["id"])
        assert [order["total_amount"] for order in orders] == [1000, 1100]
        [meter] = (await _get(client, headers, path))["meters"]
        assert (meter["consumed_units"], meter["amount"]) == (0, 0)

    async def test_canceled_at_period_end_ends_and_revokes(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        catalogue: Catalogue,
        post: Post,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        path = f"/v1/subscriptions/{subscription['id']}"
        canceled = await client.patch(path, json={"cancel_at_period_end": True}, headers=headers)
        assert canceled.status_code == 200
        end = _at(subscription["current_period_end"])
        with moved_clock(end - utc_now() + timedelta(seconds=1)):
            await _pass(sessions)
        ended = await _get(client, headers, path)
        assert ended["status"] == "canceled"
        assert _at(ended["ended_at"]) == end
        state = await _get(client, headers, f"/v1/customers/{catalogue.customer['id']}/state")
        assert state["active_subscriptions"] == []
        assert state["granted_benefits"] == []
        assert len(await _subscription_orders(client, headers, subscription["id"])) == 1

    async def test_trial_end_starts_the_paid_period(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        catalogue: Catalogue,
        post: Post,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.trial["id"], "customer_id": catalogue.customer["id"]},
        )
        trial_end = _at(subscription["trial_end"])
        with moved_clock(trial_end - utc_now() + timedelta(hours=1)):
            await _pass(sessions)
        active = await _get(client, headers, f"/v1/subscriptions/{subscription['id']}")
        assert active["status"] == "active"
        assert _at(active["current_period_start"]) == trial_end
        [order] = await _subscription_orders(client, headers, subscription["id"])
        assert (order["billing_reason"], order["total_amount"]) == ("subscription_cycle", 500)

    async def test_ending_a_trial_now(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.trial["id"], "customer_id": catalogue.customer["id"]},
        )
        response = await client.patch(
            f"/v1/subscriptions/{subscription['id']}", json={"trial_end": "now"}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "active"
        assert len(await _subscription_orders(client, headers, subscription["id"])) == 1

    async def test_a_server_stopped_for_months_catches_up_period_by_period(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        catalogue: Catalogue,
        post: Post,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        with moved_clock(timedelta(days=95)):
            await _pass(sessions)
            now = utc_now()
        renewed = await _get(client, headers, f"/v1/subscriptions/{subscription['id']}")
        assert _at(renewed["current_period_start"]) <= now < _at(renewed["current_period_end"])
        assert len(await _subscription_orders(client, headers, subscription["id"])) == 4

    async def test_past_due_waits_for_a_payment(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        catalogue: Catalogue,
        post: Post,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        [order] = await _subscription_orders(client, headers, subscription["id"])
        await post("/v1/payments/", {"order_id": order["id"], "amount": 1000, "status": "failed"})
        path = f"/v1/subscriptions/{subscription['id']}"
        assert (await _get(client, headers, path))["status"] == "past_due"
        with moved_clock(timedelta(days=40)):
            await _pass(sessions)
        assert len(await _subscription_orders(client, headers, subscription["id"])) == 1
        await post(
            "/v1/payments/", {"order_id": order["id"], "amount": 1000, "status": "succeeded"}
        )
        assert (await _get(client, headers, path))["status"] == "active"
        balance = await _get(client, headers, f"/v1/customers/{catalogue.customer['id']}/balance")
        assert balance == {"balance": 0, "currency": "USD"}


class TestCustomerDelete:
    async def test_delete_cancels_and_revokes(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        deleted = await client.delete(f"/v1/customers/{catalogue.customer['id']}", headers=headers)
        assert deleted.status_code == 204
        after = await _get(client, headers, f"/v1/subscriptions/{subscription['id']}")
        assert after["status"] == "canceled"
        grants = await _get(
            client, headers, f"/v1/benefit-grants/?customer_id={catalogue.customer['id']}"
        )
        assert grants["items"]
        assert all(not grant["is_granted"] for grant in grants["items"])
