"""`GET /v1/benefits/{id}/grants` and `GET /v1/benefit-grants/`: each grant with its customer,
its benefit and its type's properties."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.benefits import service
from polar_customers.kit.time import moved_clock, utc_now
from polar_customers.models import Benefit, Customer, Meter, Organization, Subscription
from tests.benefits.conftest import SCOPES
from tests.factories import (
    CUSTOMER_KEYS,
    bearer,
    create_benefit_with_properties,
    create_customer,
    create_organization,
    create_organization_token,
    create_subscription,
)

GRANT_KEYS = [
    "created_at",
    "modified_at",
    "id",
    "granted_at",
    "is_granted",
    "revoked_at",
    "is_revoked",
    "subscription_id",
    "order_id",
    "customer_id",
    "benefit_id",
    "error",
    "customer",
    "benefit",
    "properties",
]


async def grant(
    session: AsyncSession, subscription: Subscription, *benefits: Benefit, minutes: int = 0
) -> None:
    with moved_clock(timedelta(minutes=minutes)):
        await service.grant_subscription_benefits(
            session,
            subscription=subscription,
            benefit_ids=[benefit.id for benefit in benefits],
            now=utc_now(),
        )


async def revoke(
    session: AsyncSession, subscription: Subscription, benefit: Benefit, *, minutes: int
) -> None:
    await service.revoke_subscription_benefits(
        session,
        subscription=subscription,
        benefit_ids=[benefit.id],
        now=utc_now() + timedelta(minutes=minutes),
    )


async def items(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, params: Any = None
) -> list[dict[str, Any]]:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


@pytest.fixture
async def customers(session: AsyncSession, organization: Organization) -> list[Customer]:
    return [
        await create_customer(session, organization=organization, email=email)
        for email in ("ann@example.com", "bob@example.com")
    ]


@pytest.fixture
async def benefits(
    session: AsyncSession, organization: Organization, meter: Meter
) -> dict[str, Benefit]:
    def create(type: str, properties: dict[str, Any]) -> Any:
        return create_benefit_with_properties(
            session, organization=organization, type=type, properties=properties
        )

    return {
        "custom": await create("custom", {"note": "Hi"}),
        "license_keys": await create("license_keys", {"prefix": "K"}),
        "meter_credit": await create(
            "meter_credit", {"units": 5, "rollover": False, "meter_id": str(meter.id)}
        ),
    }


class TestBenefitGrants:
    async def test_shape(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customers: list[Customer],
        benefits: dict[str, Benefit],
    ) -> None:
        subscription = await create_subscription(session, customer=customers[0])
        await grant(session, subscription, *benefits.values())
        for type, benefit in benefits.items():
            [listed] = await items(client, headers, f"/v1/benefits/{benefit.id}/grants")
            assert list(listed) == GRANT_KEYS
            assert list(listed["customer"]) == CUSTOMER_KEYS
            assert listed["customer"]["email"] == "ann@example.com"
            assert (
                listed["benefit"]
                == (await client.get(f"/v1/benefits/{benefit.id}", headers=headers)).json()
            )
            assert (listed["is_granted"], listed["is_revoked"], listed["revoked_at"]) == (
                True,
                False,
                None,
            )
            assert (listed["subscription_id"], listed["order_id"], listed["error"]) == (
                str(subscription.id),
                None,
                None,
            )
            if type == "license_keys":
                assert list(listed["properties"]) == ["license_key_id", "display_key"]
                assert listed["properties"]["display_key"].startswith("****-")
            else:
                # meter_credit's bookkeeping is never shown
                assert listed["properties"] == {}, type

    async def test_filters(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customers: list[Customer],
        benefits: dict[str, Benefit],
    ) -> None:
        benefit = benefits["custom"]
        ann, bob = customers
        ann_subscription = await create_subscription(session, customer=ann)
        await grant(session, ann_subscription, benefit)
        await grant(session, await create_subscription(session, customer=bob), benefit, minutes=1)
        await revoke(session, ann_subscription, benefit, minutes=2)
        path = f"/v1/benefits/{benefit.id}/grants"

        def emails(found: list[dict[str, Any]]) -> list[str]:
            return [item["customer"]["email"] for item in found]

        assert emails(await items(client, headers, path)) == ["bob@example.com", "ann@example.com"]
        [revoked] = await items(client, headers, path, {"is_granted": "false"})
        assert (revoked["customer_id"], revoked["is_revoked"]) == (str(ann.id), True)
        assert revoked["granted_at"] is None
        assert emails(await items(client, headers, path, {"is_granted": "true"})) == [
            "bob@example.com"
        ]
        assert emails(await items(client, headers, path, {"customer_id": str(ann.id)})) == [
            "ann@example.com"
        ]
        both = [("customer_id", str(ann.id)), ("customer_id", str(bob.id))]
        assert len(await items(client, headers, path, both)) == 2
        response = await client.get(path, params={"limit": 1, "page": 2}, headers=headers)
        assert response.json()["pagination"] == {"total_count": 2, "max_page": 2}
        response = await client.get(path, params={"customer_id": "nope"}, headers=headers)
        assert response.status_code == 422

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        path = "/v1/benefits/0c5ed3fb-3e1f-4f0c-9d0a-7c3f0d3e6b11/grants"
        response = await client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}


class TestListBenefitGrants:
    async def test_every_benefit_of_the_organization(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        organization: Organization,
        customers: list[Customer],
        benefits: dict[str, Benefit],
    ) -> None:
        ann, bob = customers
        await grant(session, await create_subscription(session, customer=ann), benefits["custom"])
        bob_subscription = await create_subscription(session, customer=bob)
        await grant(session, bob_subscription, benefits["license_keys"], minutes=1)
        await grant(session, bob_subscription, benefits["meter_credit"], minutes=2)
        await revoke(session, bob_subscription, benefits["meter_credit"], minutes=3)

        def types(found: list[dict[str, Any]]) -> list[str]:
            return [item["benefit"]["type"] for item in found]

        path = "/v1/benefit-grants/"
        assert types(await items(client, headers, path)) == [
            "meter_credit",
            "license_keys",
            "custom",
        ]
        assert types(await items(client, headers, path, {"sorting": "granted_at"})) == [
            "custom",
            "license_keys",
            "meter_credit",  # not granted: last
        ]
        # As PostgreSQL orders NULLs: last ascending, first descending.
        assert types(await items(client, headers, path, {"sorting": "revoked_at"}))[0] == (
            "meter_credit"
        )
        assert types(await items(client, headers, path, {"sorting": "-revoked_at"}))[-1] == (
            "meter_credit"
        )
        assert types(await items(client, headers, path, {"customer_id": str(ann.id)})) == ["custom"]
        assert len(await items(client, headers, path, {"is_granted": "true"})) == 2
        params = {"organization_id": str(organization.id)}
        assert len(await items(client, headers, path, params)) == 3

    async def test_other_organizations(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        customers: list[Customer],
        benefits: dict[str, Benefit],
    ) -> None:
        await grant(
            session, await create_subscription(session, customer=customers[0]), benefits["custom"]
        )
        other = await create_organization(session, name="Other")
        token = bearer(await create_organization_token(session, organization=other, scopes=SCOPES))
        assert await items(client, token, "/v1/benefit-grants/") == []
        params = {"organization_id": str(customers[0].organization_id)}
        assert await items(client, token, "/v1/benefit-grants/", params) == []

    async def test_deleted_customers_and_benefits_are_listed(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customers: list[Customer],
        benefits: dict[str, Benefit],
    ) -> None:
        ann = customers[0]
        await grant(session, await create_subscription(session, customer=ann), benefits["custom"])
        now = utc_now()
        await service.delete_benefit(session, benefits["custom"], now=now)
        ann.deleted_at = now
        await session.flush()
        [listed] = await items(client, headers, "/v1/benefit-grants/")
        assert listed["is_revoked"] is True
        assert listed["customer"]["deleted_at"] is not None
        assert listed["benefit"]["id"] == str(benefits["custom"].id)
        response = await client.get(f"/v1/benefits/{benefits['custom'].id}/grants", headers=headers)
        assert response.status_code == 404

    async def test_today_clients_get_the_same_customer(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        session: AsyncSession,
        customers: list[Customer],
        benefits: dict[str, Benefit],
    ) -> None:
        await grant(
            session, await create_subscription(session, customer=customers[0]), benefits["custom"]
        )
        today = {**headers, "Polar-Version": "2026-04"}
        [listed] = await items(client, today, "/v1/benefit-grants/")
        assert list(listed["customer"]) == CUSTOMER_KEYS
