"""The subscriptions API: create (the extension for paid products), get, list, cancel,
uncancel, revoke, product change, with what each does to benefits, meters and orders."""

from typing import Any

import httpx
import pytest

from tests.subscriptions.conftest import Catalogue, Post


async def _state(client: httpx.AsyncClient, headers: dict[str, str], customer_id: str) -> Any:
    response = await client.get(f"/v1/customers/{customer_id}/state", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _orders(client: httpx.AsyncClient, headers: dict[str, str], subscription_id: str) -> Any:
    response = await client.get("/v1/orders/", params={"limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return [
        order for order in response.json()["items"] if order["subscription_id"] == subscription_id
    ]


class TestCreate:
    async def test_paid_product_starts_active_with_benefits_credits_and_an_order(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        assert subscription["status"] == "active"
        assert subscription["amount"] == 1000
        assert subscription["currency"] == "usd"
        assert subscription["recurring_interval"] == "month"
        assert subscription["customer"]["id"] == catalogue.customer["id"]
        assert subscription["product"]["id"] == catalogue.monthly["id"]
        assert [price["id"] for price in subscription["prices"]] == [
            price["id"] for price in catalogue.monthly["prices"]
        ]
        assert subscription["current_period_end"] > subscription["current_period_start"]

        state = await _state(client, headers, catalogue.customer["id"])
        assert [s["id"] for s in state["active_subscriptions"]] == [subscription["id"]]
        granted = {grant["benefit_id"]: grant for grant in state["granted_benefits"]}
        assert set(granted) == {
            catalogue.custom["id"],
            catalogue.license_keys["id"],
            catalogue.credits["id"],
        }
        assert granted[catalogue.license_keys["id"]]["properties"]["display_key"].startswith(
            "****-"
        )
        [meter] = state["active_meters"]
        assert meter["meter_id"] == catalogue.meter["id"]
        assert (meter["credited_units"], meter["consumed_units"], meter["balance"]) == (100, 0, 100)

        [order] = await _orders(client, headers, subscription["id"])
        assert order["billing_reason"] == "subscription_create"
        assert order["status"] == "pending"
        assert order["total_amount"] == 1000

    async def test_free_product_has_a_paid_order_of_zero(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.free["id"], "external_customer_id": "ada"},
        )
        assert (subscription["status"], subscription["amount"]) == ("active", 0)
        [order] = await _orders(client, headers, subscription["id"])
        assert (order["status"], order["total_amount"]) == ("paid", 0)

    async def test_product_with_a_trial_starts_trialing_without_an_order(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.trial["id"], "customer_id": catalogue.customer["id"]},
        )
        assert subscription["status"] == "trialing"
        assert subscription["trial_end"] == subscription["current_period_end"]
        assert await _orders(client, headers, subscription["id"]) == []

    @pytest.mark.parametrize(
        ("body", "loc", "message"),
        [
            (
                {"product_id": "00000000-0000-4000-8000-000000000000"},
                "product_id",
                "Product does not exist.",
            ),
            (
                {"customer_id": "00000000-0000-4000-8000-000000000000"},
                "customer_id",
                "Customer does not exist.",
            ),
            (
                {"external_customer_id": "nobody"},
                "external_customer_id",
                "Customer does not exist.",
            ),
        ],
    )
    async def test_unknown_product_or_customer(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        catalogue: Catalogue,
        body: dict[str, str],
        loc: str,
        message: str,
    ) -> None:
        request = {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]}
        if "external_customer_id" in body:
            del request["customer_id"]
        response = await client.post(
            "/v1/subscriptions/", json={**request, **body}, headers=headers
        )
        assert response.status_code == 422, response.text
        [error] = response.json()["detail"]
        assert (error["loc"], error["msg"]) == (["body", loc], message)

    async def test_one_time_product_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue
    ) -> None:
        response = await client.post(
            "/v1/subscriptions/",
            json={"product_id": catalogue.one_time["id"], "customer_id": catalogue.customer["id"]},
            headers=headers,
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == "Product is not a recurring product."

    async def test_archived_product_is_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue
    ) -> None:
        archived = await client.patch(
            f"/v1/products/{catalogue.monthly['id']}", json={"is_archived": True}, headers=headers
        )
        assert archived.status_code == 200, archived.text
        response = await client.post(
            "/v1/subscriptions/",
            json={"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
            headers=headers,
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == "Product is archived."

    async def test_both_customer_keys_or_none_are_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue
    ) -> None:
        response = await client.post(
            "/v1/subscriptions/", json={"product_id": catalogue.monthly["id"]}, headers=headers
        )
        assert response.status_code == 422


class TestCancel:
    async def test_at_period_end_stays_active_then_uncancels(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        path = f"/v1/subscriptions/{subscription['id']}"
        canceled = await client.patch(
            path,
            json={"cancel_at_period_end": True, "customer_cancellation_reason": "too_expensive"},
            headers=headers,
        )
        assert canceled.status_code == 200, canceled.text
        body = canceled.json()
        assert (body["status"], body["cancel_at_period_end"]) == ("active", True)
        assert body["ends_at"] == body["current_period_end"]
        assert body["customer_cancellation_reason"] == "too_expensive"
        state = await _state(client, headers, catalogue.customer["id"])
        assert len(state["granted_benefits"]) == 3

        again = await client.patch(path, json={"cancel_at_period_end": True}, headers=headers)
        assert again.status_code == 403
        assert again.json()["error"] == "AlreadyCanceledSubscription"

        uncanceled = await client.patch(path, json={"cancel_at_period_end": False}, headers=headers)
        assert uncanceled.status_code == 200
        assert uncanceled.json()["cancel_at_period_end"] is False
        assert uncanceled.json()["ends_at"] is None

    async def test_revoke_ends_now_and_revokes_grants(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        path = f"/v1/subscriptions/{subscription['id']}"
        revoked = await client.delete(path, headers=headers)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["status"] == "canceled"
        assert revoked.json()["ended_at"] is not None
        state = await _state(client, headers, catalogue.customer["id"])
        assert state["active_subscriptions"] == []
        assert state["granted_benefits"] == []

        for again in (
            await client.delete(path, headers=headers),
            await client.patch(path, json={"revoke": True}, headers=headers),
        ):
            assert again.status_code == 403
            assert again.json()["error"] == "AlreadyCanceledSubscription"

    async def test_revoke_through_update(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.free["id"], "customer_id": catalogue.customer["id"]},
        )
        response = await client.patch(
            f"/v1/subscriptions/{subscription['id']}",
            json={"revoke": True, "customer_cancellation_comment": "Moving on"},
            headers=headers,
        )
        assert response.status_code == 200
        assert response.json()["status"] == "canceled"
        assert response.json()["customer_cancellation_comment"] == "Moving on"


class TestProductChange:
    async def test_switch_takes_the_new_products_prices_and_benefits(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.monthly["id"], "customer_id": catalogue.customer["id"]},
        )
        response = await client.patch(
            f"/v1/subscriptions/{subscription['id']}",
            json={"product_id": catalogue.free["id"]},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        assert (response.json()["product_id"], response.json()["amount"]) == (
            catalogue.free["id"],
            0,
        )
        state = await _state(client, headers, catalogue.customer["id"])
        assert [grant["benefit_id"] for grant in state["granted_benefits"]] == [
            catalogue.custom["id"]
        ]

    async def test_discounts_are_refused(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.free["id"], "customer_id": catalogue.customer["id"]},
        )
        response = await client.patch(
            f"/v1/subscriptions/{subscription['id']}", json={"discount_id": None}, headers=headers
        )
        assert response.status_code == 422


class TestProductBenefits:
    async def test_attaching_and_detaching_reaches_current_subscribers(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.free["id"], "customer_id": catalogue.customer["id"]},
        )
        await post(
            f"/v1/products/{catalogue.free['id']}/benefits",
            {"benefits": [catalogue.license_keys["id"]]},
            status=200,
        )
        state = await _state(client, headers, catalogue.customer["id"])
        assert [grant["benefit_id"] for grant in state["granted_benefits"]] == [
            catalogue.license_keys["id"]
        ]


class TestReads:
    async def test_get_list_and_filters(
        self, client: httpx.AsyncClient, headers: dict[str, str], catalogue: Catalogue, post: Post
    ) -> None:
        first = await post(
            "/v1/subscriptions/",
            {
                "product_id": catalogue.monthly["id"],
                "customer_id": catalogue.customer["id"],
                "metadata": {"plan": "pro"},
            },
        )
        second = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.free["id"], "customer_id": catalogue.customer["id"]},
        )
        await client.delete(f"/v1/subscriptions/{second['id']}", headers=headers)
        got = await client.get(f"/v1/subscriptions/{first['id']}", headers=headers)
        assert got.status_code == 200
        assert got.json()["metadata"] == {"plan": "pro"}
        assert got.json()["meters"] == []

        async def ids(**params: Any) -> list[str]:
            response = await client.get("/v1/subscriptions/", params=params, headers=headers)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert set(await ids()) == {first["id"], second["id"]}
        assert await ids(active=True) == [first["id"]]
        assert await ids(active=False) == [second["id"]]
        assert await ids(product_id=catalogue.free["id"]) == [second["id"]]
        assert await ids(**{"metadata[plan]": "pro"}) == [first["id"]]
        assert await ids(external_customer_id="ada", sorting="amount") == [
            second["id"],
            first["id"],
        ]

    async def test_another_organizations_subscription_is_not_found(
        self,
        client: httpx.AsyncClient,
        catalogue: Catalogue,
        post: Post,
        other_headers: dict[str, str],
    ) -> None:
        subscription = await post(
            "/v1/subscriptions/",
            {"product_id": catalogue.free["id"], "customer_id": catalogue.customer["id"]},
        )
        path = f"/v1/subscriptions/{subscription['id']}"
        assert (await client.get(path, headers=other_headers)).status_code == 404
        assert (await client.delete(path, headers=other_headers)).status_code == 404
        listed = await client.get("/v1/subscriptions/", headers=other_headers)
        assert listed.json()["items"] == []
        response = await client.post(
            "/v1/subscriptions/",
            json={"product_id": catalogue.free["id"], "customer_id": catalogue.customer["id"]},
            headers=other_headers,
        )
        assert response.status_code == 422
