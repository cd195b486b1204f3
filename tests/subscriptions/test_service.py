"""The subscription changes other domains ask for, through the subscriptions service."""

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.kit.time import utc_now
from polar_customers.models import Organization
from polar_customers.subscriptions import service
from tests.factories import create_customer, create_organization, create_subscription


class TestRevokeCustomerSubscriptions:
    async def test_returns_what_it_ended(self, session: AsyncSession) -> None:
        organization: Organization = await create_organization(session)
        customer = await create_customer(session, organization=organization)
        ended = {
            await create_subscription(session, customer=customer, status=status)
            for status in ("active", "trialing")
        }
        kept = await create_subscription(session, customer=customer, status="past_due")
        other = await create_subscription(
            session, customer=await create_customer(session, organization=organization)
        )
        now = utc_now()

        changed = await service.revoke_customer_subscriptions(
            session, organization.id, customer.id, now=now
        )

        assert set(changed) == ended
        assert all(row.status == "canceled" and row.ended_at == now for row in changed)
        assert kept.status == "past_due"
        assert other.status == "active"

    async def test_nothing_to_end(self, session: AsyncSession) -> None:
        organization = await create_organization(session)
        customer = await create_customer(session, organization=organization)

        changed = await service.revoke_customer_subscriptions(
            session, organization.id, customer.id, now=utc_now()
        )

        assert changed == []
