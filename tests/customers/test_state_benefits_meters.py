"""GET /v1/customers/{id}/state: the benefit grants and customer meters it lists, and how.

Contract sections 4.7 and 7.
"""

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import Customer, Organization
from tests.customers.state_support import T0, get_state, iso
from tests.factories import (
    create_benefit,
    create_benefit_grant,
    create_customer_meter,
    create_meter,
)

GRANT_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "granted_at",
    "benefit_id",
    "benefit_type",
    "benefit_metadata",
    "properties",
]
METER_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "meter_id",
    "consumed_units",
    "credited_units",
    "balance",
]


class TestGetCustomerStateContents:
    async def test_granted_benefits_only_granted(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        benefit = await create_benefit(session, organization=organization, metadata={"k": "v"})
        granted = await create_benefit_grant(session, customer=customer, benefit=benefit)
        await create_benefit_grant(
            session, customer=customer, benefit=benefit, granted=False, revoked_at=utc_now()
        )
        await create_benefit_grant(session, customer=customer, benefit=benefit, granted=False)
        await create_benefit_grant(
            session, customer=customer, benefit=benefit, deleted_at=utc_now()
        )
        body = await get_state(client, customer, headers)
        [item] = body["granted_benefits"]
        assert list(item) == GRANT_KEYS
        assert granted.granted_at is not None
        assert item == {
            "id": str(granted.id),
            "created_at": iso(granted.created_at),
            "modified_at": None,
            "granted_at": iso(granted.granted_at),
            "benefit_id": str(benefit.id),
            "benefit_type": "custom",
            "benefit_metadata": {"k": "v"},
            "properties": {},
        }

    async def test_deleted_benefit_still_listed(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        benefit = await create_benefit(session, organization=organization)
        benefit.deleted_at = utc_now()
        await create_benefit_grant(session, customer=customer, benefit=benefit)
        body = await get_state(client, customer, headers)
        assert len(body["granted_benefits"]) == 1

    @pytest.mark.parametrize(
        ("benefit_type", "stored", "shown"),
        [
            (
                "discord",
                {"account_id": None, "guild_id": "g", "role_id": "r", "granted_account_id": "a"},
                {"account_id": None, "guild_id": "g", "role_id": "r", "granted_account_id": "a"},
            ),
            ("discord", {"guild_id": "g", "guild_token": "secret"}, {"guild_id": "g"}),
            (
                "github_repository",
                {
                    "account_id": "1",
                    "repository_owner": "polarsource",
                    "repository_name": "polar",
                    "permission": "pull",
                    "granted_account_id": "2",
                    "extra": "dropped",
                },
                {
                    "account_id": "1",
                    "repository_owner": "polarsource",
                    "repository_name": "polar",
                    "permission": "pull",
                    "granted_account_id": "2",
                },
            ),
            ("downloadables", {"files": ["f1", "f2"], "other": 1}, {"files": ["f1", "f2"]}),
            (
                "license_keys",
                {"license_key_id": "lk", "display_key": "****-ABCD", "user_provided_key": "x"},
                {"license_key_id": "lk", "display_key": "****-ABCD"},
            ),
            ("license_keys", {"guild_id": "g"}, {}),
            ("custom", {"note": "x"}, {}),
            (
                "meter_credit",
                {
                    "last_credited_meter_id": str(uuid.uuid4()),
                    "last_credited_units": 10,
                    "last_credited_at": "2025-10-01T00:00:00Z",
                },
                {},
            ),
        ],
    )
    async def test_properties_by_benefit_type(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
        benefit_type: str,
        stored: dict[str, Any],
        shown: dict[str, Any],
    ) -> None:
        benefit = await create_benefit(session, organization=organization, type=benefit_type)
        await create_benefit_grant(session, customer=customer, benefit=benefit, properties=stored)
        response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
        [item] = response.json()["granted_benefits"]
        assert item["benefit_type"] == benefit_type
        assert item["properties"] == shown
        assert list(item["properties"]) == list(shown)

    async def test_active_meters(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
        customer: Customer,
    ) -> None:
        meters = [await create_meter(session, organization=organization) for _ in range(3)]
        newer = await create_customer_meter(
            session, customer=customer, meter=meters[0], created_at=T0 + timedelta(hours=1)
        )
        older = await create_customer_meter(
            session,
            customer=customer,
            meter=meters[1],
            consumed_units=25.5,
            credited_units=100,
            created_at=T0,
        )
        await create_customer_meter(
            session, customer=customer, meter=meters[2], deleted_at=utc_now()
        )
        response = await client.get(f"/v1/customers/{customer.id}/state", headers=headers)
        active = response.json()["active_meters"]
        assert [meter["id"] for meter in active] == [str(older.id), str(newer.id)]
        assert list(active[0]) == METER_KEYS
        assert active[0] == {
            "id": str(older.id),
            "created_at": "2025-09-01T10:00:00.123456Z",
            "modified_at": None,
            "meter_id": str(meters[1].id),
            "consumed_units": 25.5,
            "credited_units": 100,
            "balance": 74.5,
        }
        assert '"consumed_units":0.0,"credited_units":0,"balance":0.0}' in response.text
