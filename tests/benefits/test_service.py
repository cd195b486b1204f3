"""The benefit grant changes other domains ask for, through the benefits service."""

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.benefits import service
from polar_customers.kit.time import utc_now
from tests.factories import (
    create_benefit,
    create_benefit_grant,
    create_customer,
    create_organization,
)


class TestRevokeCustomerGrants:
    async def test_returns_what_it_revoked(self, session: AsyncSession) -> None:
        organization = await create_organization(session)
        customer = await create_customer(session, organization=organization)
        benefit = await create_benefit(session, organization=organization)
        granted = await create_benefit_grant(session, customer=customer, benefit=benefit)
        already = await create_benefit_grant(
            session, customer=customer, benefit=benefit, granted=False, revoked_at=utc_now()
        )
        other = await create_benefit_grant(
            session,
            customer=await create_customer(session, organization=organization),
            benefit=benefit,
        )
        now = utc_now()

        changed = await service.revoke_customer_grants(
            session, organization.id, customer.id, now=now
        )

        assert list(changed) == [granted]
        assert granted.granted_at is None
        assert granted.revoked_at == now
        assert already.revoked_at != now
        assert other.granted_at is not None
