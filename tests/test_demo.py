"""`fill_demo` (the data of `polar-customers demo`), read back through the API: what a new
user sees, the same after a second run, and completed after an interrupted one."""

import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.scopes import GRANTABLE_SCOPES
from polar_customers.demo import DEMO_STEPS, DemoReport, fill_demo
from polar_customers.models import Organization
from polar_customers.organizations.service import NotFoundError
from tests.factories import bearer, create_organization, create_organization_token

EXPECTED = {
    "customers": 25,
    "products": 4,
    "benefits": 3,
    "meters": 2,
    "subscriptions": 22,
    "orders": 25,
    "payments": 20,
    "refunds": 2,
}


class Interrupted(Exception):
    """A run stopped part way (as by Ctrl-C in the command)."""


@pytest.fixture
async def organization(session: AsyncSession) -> Organization:
    return await create_organization(session, name="Demo")


@pytest.fixture
async def headers(session: AsyncSession, organization: Organization) -> dict[str, str]:
    token = await create_organization_token(
        session, organization=organization, scopes=GRANTABLE_SCOPES
    )
    return bearer(token)


async def fill(app: FastAPI, organization: Organization, **options: Any) -> DemoReport:
    return await fill_demo(app.state.database, organization.id, **options)


class Reader:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, headers=self.headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    async def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        page = await self.get(path, limit=100, **params)
        assert page["pagination"]["max_page"] <= 1
        items: list[dict[str, Any]] = page["items"]
        return items

    async def total(self, path: str, **params: Any) -> int:
        total: int = (await self.get(path, limit=1, **params))["pagination"]["total_count"]
        return total

    async def snapshot(self) -> dict[str, Any]:
        """What the API lists of the organization's data, to compare runs."""
        lists = ("customers/", "products/", "benefits/", "meters/", "subscriptions/", "orders/")
        snapshot: dict[str, Any] = {path: await self.items(f"/v1/{path}") for path in lists}
        for path in ("payments/", "refunds/", "customer-meters/", "benefit-grants/"):
            snapshot[path] = await self.items(f"/v1/{path}")
        snapshot["events"] = await self.total("/v1/events/")
        return snapshot


@pytest.fixture
def reader(client: httpx.AsyncClient, headers: dict[str, str]) -> Reader:
    return Reader(client, headers)


def counts(report: DemoReport) -> dict[str, int]:
    return {kind: getattr(report, kind) for kind in EXPECTED}


class TestFillDemo:
    async def test_new_organization(
        self, app: FastAPI, organization: Organization, reader: Reader
    ) -> None:
        report = await fill(app, organization)
        assert report.created
        assert report.organization_id == organization.id
        assert counts(report) == EXPECTED
        assert 2_000 <= report.events <= 10_000
        assert len(report.lines()) == 9
        assert await reader.total("/v1/events/", source="user") == report.events
        for kind, path in (
            ("customers", "customers/"),
            ("products", "products/"),
            ("benefits", "benefits/"),
            ("meters", "meters/"),
            ("subscriptions", "subscriptions/"),
            ("orders", "orders/"),
            ("payments", "payments/"),
            ("refunds", "refunds/"),
        ):
            assert await reader.total(f"/v1/{path}") == EXPECTED[kind], kind

    async def test_customers_have_metadata_and_a_team(
        self, app: FastAPI, organization: Organization, reader: Reader
    ) -> None:
        await fill(app, organization)
        customers = await reader.items("/v1/customers/")
        external_ids = sorted(customer["external_id"] for customer in customers)
        assert external_ids == [f"demo_customer_{number:02d}" for number in range(1, 26)]
        for customer in customers:
            assert {"plan", "segment", "signup_source"} <= customer["metadata"].keys()
            assert customer["email"]
            assert customer["name"]
        assert sum(customer["billing_address"] is not None for customer in customers) >= 3
        [team] = [customer for customer in customers if customer["type"] == "team"]
        members = await reader.items(f"/v1/customers/{team['id']}/members")
        assert sorted(member["role"] for member in members) == [
            "billing_manager",
            "member",
            "owner",
        ]

    async def test_state_and_balance(
        self, app: FastAPI, organization: Organization, reader: Reader
    ) -> None:
        await fill(app, organization)
        state = await reader.get("/v1/customers/external/demo_customer_01/state")
        [subscription] = state["active_subscriptions"]
        assert subscription["status"] == "active"
        assert len(state["granted_benefits"]) == 3
        assert {grant["benefit_type"] for grant in state["granted_benefits"]} == {
            "custom",
            "license_keys",
            "meter_credit",
        }
        meters = {meter["meter_id"]: meter for meter in state["active_meters"]}
        api_calls = next(
            meter for meter in await reader.items("/v1/meters/") if meter["name"] == "API calls"
        )
        assert meters[api_calls["id"]]["credited_units"] == 10_000
        assert meters[api_calls["id"]]["consumed_units"] > 0
        assert all(meter["consumed_units"] > 0 for meter in meters.values())
        balance = await reader.get(f"/v1/customers/{state['id']}/balance")
        assert balance == {"balance": 14_900, "currency": "USD"}

    async def test_orders_payments_and_subscription_fates(
        self, app: FastAPI, organization: Organization, reader: Reader
    ) -> None:
        await fill(app, organization)
        subscriptions = await reader.items("/v1/subscriptions/")
        statuses = [subscription["status"] for subscription in subscriptions]
        assert sorted(set(statuses)) == ["active", "canceled", "past_due"]
        assert statuses.count("past_due") == 1
        assert statuses.count("canceled") == 1
        assert sum(s["cancel_at_period_end"] for s in subscriptions) == 1
        orders = await reader.items("/v1/orders/")
        assert sorted({order["status"] for order in orders}) == [
            "paid",
            "partially_refunded",
            "pending",
            "refunded",
        ]
        payments = await reader.items("/v1/payments/")
        assert [p["status"] for p in payments].count("failed") == 1
        assert sum(p["checkout_id"] is not None for p in payments) == 3

    async def test_second_run_writes_nothing(
        self, app: FastAPI, organization: Organization, reader: Reader
    ) -> None:
        first = await fill(app, organization)
        before = await reader.snapshot()
        second = await fill(app, organization)
        assert second == replace(first, created=False)
        assert await reader.snapshot() == before

    async def test_interrupted_run_is_completed(
        self, app: FastAPI, organization: Organization, reader: Reader
    ) -> None:
        done: list[int] = []

        def interrupt(units: int) -> None:
            done.append(units)
            if len(done) == DEMO_STEPS // 2:
                raise Interrupted

        with pytest.raises(Interrupted):
            await fill(app, organization, progress=interrupt)
        assert await reader.total("/v1/customers/") == EXPECTED["customers"]
        assert await reader.total("/v1/events/", source="user") == 0  # the last steps

        steps: list[int] = []
        completed = await fill(app, organization, progress=steps.append)
        assert completed.created
        assert sum(steps) == DEMO_STEPS
        snapshot = await reader.snapshot()
        assert {kind: len(snapshot[f"{kind}/"]) for kind in EXPECTED} == EXPECTED
        assert snapshot["events"] > completed.events  # and the meters' credit events
        assert await reader.total("/v1/events/", source="user") == completed.events
        assert (await fill(app, organization)).created is False

    async def test_unknown_organization(self, app: FastAPI) -> None:
        with pytest.raises(NotFoundError):
            await fill_demo(app.state.database, uuid.uuid4())
