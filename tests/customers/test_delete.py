"""DELETE /v1/customers/{id} and /v1/customers/external/{external_id}"""

import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import BenefitGrant, Customer, Organization, Subscription
from polar_customers.models.base import RecordModel
from tests.factories import (
    create_benefit,
    create_benefit_grant,
    create_customer,
    create_subscription,
)


async def reload(session: AsyncSession, row: RecordModel) -> Any:
    """The row as the database now holds it."""
    return await session.scalar(
        select(type(row)).where(type(row).id == row.id).execution_options(populate_existing=True)
    )


async def subscriptions_and_grants(
    session: AsyncSession, organization: Organization, customer: Customer
) -> dict[str, RecordModel]:
    """One subscription per status and grants in every state, for `customer`, and a live
    subscription and grant of another customer."""
    rows: dict[str, RecordModel] = {}
    for status in ("active", "trialing", "past_due", "canceled"):
        rows[status] = await create_subscription(session, customer=customer, status=status)
    benefit = await create_benefit(session, organization=organization)
    rows["granted"] = await create_benefit_grant(session, customer=customer, benefit=benefit)
    rows["revoked"] = await create_benefit_grant(
        session, customer=customer, benefit=benefit, granted=False, revoked_at=utc_now()
    )
    other = await create_customer(session, organization=organization)
    rows["other_subscription"] = await create_subscription(session, customer=other)
    rows["other_grant"] = await create_benefit_grant(session, customer=other, benefit=benefit)
    return rows


async def assert_canceled_and_revoked(
    session: AsyncSession, customer: Customer, rows: dict[str, RecordModel]
) -> None:
    """D8: what the delete ended, at the very time of the soft delete, and what it left."""
    deleted: Customer = await reload(session, customer)
    now = deleted.deleted_at
    assert isinstance(now, datetime)
    for status in ("active", "trialing"):
        subscription: Subscription = await reload(session, rows[status])
        assert subscription.status == "canceled"
        assert subscription.canceled_at == subscription.ends_at == now
        assert subscription.ended_at == subscription.modified_at == now
    past_due: Subscription = await reload(session, rows["past_due"])
    assert (past_due.status, past_due.canceled_at, past_due.modified_at) == ("past_due", None, None)
    canceled: Subscription = await reload(session, rows["canceled"])
    assert canceled.modified_at is None
    grant: BenefitGrant = await reload(session, rows["granted"])
    assert (grant.granted_at, grant.revoked_at, grant.modified_at) == (None, now, now)
    revoked: BenefitGrant = await reload(session, rows["revoked"])
    assert revoked.revoked_at != now
    assert revoked.modified_at is None
    other_subscription: Subscription = await reload(session, rows["other_subscription"])
    assert other_subscription.status == "active"
    other_grant: BenefitGrant = await reload(session, rows["other_grant"])
    assert other_grant.granted_at is not None


class TestDeleteCustomer:
    async def test_valid(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(
            session, organization=organization, external_id="ext", metadata={"k": "v"}
        )
        response = await client.delete(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 204
        assert response.content == b""
        assert "content-type" not in response.headers
        row = await session.scalar(
            select(Customer)
            .where(Customer.id == customer.id)
            .execution_options(populate_existing=True)
        )
        assert row is not None
        assert row.deleted_at is not None
        assert row.modified_at == row.deleted_at
        assert row.external_id is None
        assert row.user_metadata == {"k": "v"}
        again = await client.delete(f"/v1/customers/{customer.id}", headers=headers)
        assert again.status_code == 404

    async def test_cancels_subscriptions_and_revokes_grants(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=organization)
        rows = await subscriptions_and_grants(session, organization, customer)
        response = await client.delete(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 204
        await assert_canceled_and_revoked(session, customer, rows)

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.delete(f"/v1/customers/{uuid.uuid4()}", headers=headers)
        assert response.status_code == 404

    async def test_other_organization(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        other_organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=other_organization)
        response = await client.delete(f"/v1/customers/{customer.id}", headers=headers)
        assert response.status_code == 404


class TestDeleteCustomerExternal:
    async def test_valid_frees_external_id(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        await create_customer(session, organization=organization, external_id="ext")
        response = await client.delete("/v1/customers/external/ext", headers=headers)
        assert response.status_code == 204
        assert (await client.get("/v1/customers/external/ext", headers=headers)).status_code == 404
        created = await client.post(
            "/v1/customers/", json={"email": "n@example.com", "external_id": "ext"}, headers=headers
        )
        assert created.status_code == 201

    async def test_not_existing(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        response = await client.delete("/v1/customers/external/nobody", headers=headers)
        assert response.status_code == 404

    async def test_cancels_subscriptions_and_revokes_grants(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        headers: dict[str, str],
        organization: Organization,
    ) -> None:
        customer = await create_customer(session, organization=organization, external_id="gone")
        rows = await subscriptions_and_grants(session, organization, customer)
        response = await client.delete("/v1/customers/external/gone", headers=headers)
        assert response.status_code == 204
        await assert_canceled_and_revoked(session, customer, rows)
