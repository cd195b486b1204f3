"""Two requests grant a subscription the same benefit at once, on PostgreSQL (SQLite runs one
writer at a time): one grant, one license key, whoever wins."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from polar_customers.benefits import repository, service
from polar_customers.kit.time import utc_now
from polar_customers.models import BenefitGrant, LicenseKey, Subscription
from tests.conftest import ENGINE
from tests.factories import (
    create_benefit_with_properties,
    create_customer,
    create_organization,
    create_subscription,
)

pytestmark = pytest.mark.skipif(ENGINE != "postgresql", reason="SQLite serializes writers")


async def test_concurrent_double_grant(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        organization = await create_organization(session, name="Race")
        customer = await create_customer(session, organization=organization)
        subscription = await create_subscription(session, customer=customer)
        benefit = await create_benefit_with_properties(
            session, organization=organization, type="license_keys", properties={"prefix": "R"}
        )

    # Both look for the grant before either inserts it.
    both_looked = asyncio.Barrier(2)
    lock = repository.lock_subscription_grants
    looked: list[int] = []

    async def look_together(session: AsyncSession, *args: Any, **kwargs: Any) -> Any:
        found = await lock(session, *args, **kwargs)
        if id(session) not in looked:
            await both_looked.wait()
        looked.append(id(session))
        return found

    monkeypatch.setattr(repository, "lock_subscription_grants", look_together)

    async def grant() -> list[BenefitGrant]:
        async with sessions() as session, session.begin():
            own = await session.get(Subscription, subscription.id)
            assert own is not None
            return await service.grant_subscription_benefits(
                session, subscription=own, benefit_ids=[benefit.id], now=utc_now()
            )

    results = await asyncio.wait_for(asyncio.gather(grant(), grant()), timeout=30)

    assert sorted(len(granted) for granted in results) == [0, 1]
    # The loser looked again, for the winner's grant, after its insert failed.
    assert len(looked) == 3
    async with sessions() as session:
        grants = select(func.count()).where(BenefitGrant.subscription_id == subscription.id)
        keys = select(func.count()).where(LicenseKey.customer_id == customer.id)
        assert (await session.scalar(grants), await session.scalar(keys)) == (1, 1)
