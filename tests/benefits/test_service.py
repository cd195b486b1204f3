"""The benefit grant changes other domains ask for, through the benefits service: a
subscription's grants (granted, revoked, cycled), a deleted customer's, and what a benefit's
update or deletion does to the grants it has."""

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.benefits import repository, service
from polar_customers.benefits.schemas import BenefitLicenseKeysUpdate
from polar_customers.kit.time import utc_now
from polar_customers.models import (
    Benefit,
    BenefitGrant,
    Customer,
    CustomerMeter,
    LicenseKey,
    Meter,
    Organization,
    Subscription,
)
from tests.factories import (
    create_benefit,
    create_benefit_grant,
    create_benefit_with_properties,
    create_customer,
    create_organization,
    create_subscription,
)

LICENSE_PROPERTIES = {
    "prefix": "acme",
    "expires": {"ttl": 1, "timeframe": "month"},
    "activations": {"limit": 5, "enable_customer_admin": True},
    "limit_usage": 100,
}
KEY = re.compile(r"^ACME-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


@pytest.fixture
async def customer(session: AsyncSession, organization: Organization) -> Customer:
    return await create_customer(session, organization=organization)


@pytest.fixture
async def subscription(session: AsyncSession, customer: Customer) -> Subscription:
    return await create_subscription(session, customer=customer)


@pytest.fixture
async def license_keys(session: AsyncSession, organization: Organization) -> Benefit:
    return await create_benefit_with_properties(
        session, organization=organization, type="license_keys", properties=LICENSE_PROPERTIES
    )


async def meter_credit(
    session: AsyncSession, organization: Organization, meter: Meter, *, rollover: bool = False
) -> Benefit:
    properties = {"units": 100, "rollover": rollover, "meter_id": str(meter.id)}
    return await create_benefit_with_properties(
        session, organization=organization, type="meter_credit", properties=properties
    )


async def grants_of(session: AsyncSession, subscription: Subscription) -> list[BenefitGrant]:
    statement = select(BenefitGrant).where(BenefitGrant.subscription_id == subscription.id)
    return list((await session.scalars(statement.order_by(BenefitGrant.created_at))).all())


async def keys_of(session: AsyncSession, customer: Customer) -> list[LicenseKey]:
    statement = select(LicenseKey).where(LicenseKey.customer_id == customer.id)
    return list((await session.scalars(statement)).all())


async def meter_totals(
    session: AsyncSession, customer: Customer, meter: Meter
) -> tuple[float, int, float]:
    """The customer's (consumed, credited, balance) on the meter."""
    statement = select(CustomerMeter).where(
        CustomerMeter.customer_id == customer.id, CustomerMeter.meter_id == meter.id
    )
    row = await session.scalar(statement)
    assert row is not None
    await session.refresh(row)
    return row.consumed_units, row.credited_units, row.balance


async def consume(session: AsyncSession, customer: Customer, meter: Meter, units: float) -> None:
    """Usage of the meter, as event ingestion would count it."""
    statement = select(CustomerMeter).where(
        CustomerMeter.customer_id == customer.id, CustomerMeter.meter_id == meter.id
    )
    row = await session.scalar(statement)
    assert row is not None
    row.consumed_units += units
    row.balance -= units
    await session.flush()


class TestGrantSubscriptionBenefits:
    async def test_custom(
        self, session: AsyncSession, organization: Organization, subscription: Subscription
    ) -> None:
        benefit = await create_benefit(session, organization=organization)
        now = utc_now()
        granted = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[benefit.id], now=now
        )
        assert granted == await grants_of(session, subscription)
        [grant] = granted
        assert (grant.benefit_id, grant.customer_id) == (benefit.id, subscription.customer_id)
        assert (grant.granted_at, grant.revoked_at, grant.properties) == (now, None, {})

    async def test_license_keys(
        self,
        session: AsyncSession,
        customer: Customer,
        subscription: Subscription,
        license_keys: Benefit,
    ) -> None:
        now = utc_now()
        [grant] = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[license_keys.id], now=now
        )
        [key] = await keys_of(session, customer)
        assert KEY.match(key.key), key.key
        assert key.display_key == f"****-{key.key[-6:]}"
        assert (key.status, key.benefit_id, key.organization_id) == (
            "granted",
            license_keys.id,
            customer.organization_id,
        )
        assert (key.limit_activations, key.limit_usage, key.usage) == (5, 100, 0)
        assert key.expires_at == now + relativedelta(months=1)
        assert grant.properties == {"license_key_id": str(key.id), "display_key": key.display_key}

    async def test_license_keys_without_prefix_nor_expiry(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
    ) -> None:
        benefit = await create_benefit_with_properties(
            session, organization=organization, type="license_keys", properties={"prefix": None}
        )
        await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[benefit.id], now=utc_now()
        )
        [key] = await keys_of(session, customer)
        assert re.fullmatch(r"[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}", key.key)
        assert (key.expires_at, key.limit_activations, key.limit_usage) == (None, None, None)

    async def test_meter_credit(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
        meter: Meter,
    ) -> None:
        benefit = await meter_credit(session, organization, meter)
        now = utc_now()
        [grant] = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[benefit.id], now=now
        )
        assert await meter_totals(session, customer, meter) == (0, 100, 100)
        assert grant.properties == {
            "last_credited_meter_id": str(meter.id),
            "last_credited_units": 100,
            "last_credited_at": now.isoformat(),
        }

    async def test_meter_credit_on_a_deleted_meter(
        self,
        session: AsyncSession,
        organization: Organization,
        subscription: Subscription,
        meter: Meter,
    ) -> None:
        benefit = await meter_credit(session, organization, meter)
        meter.deleted_at = utc_now()
        await session.flush()
        [grant] = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[benefit.id], now=utc_now()
        )
        assert grant.granted_at is not None
        assert grant.properties == {}

    async def test_twice_is_one_grant_and_one_key(
        self,
        session: AsyncSession,
        customer: Customer,
        subscription: Subscription,
        license_keys: Benefit,
    ) -> None:
        first = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[license_keys.id], now=utc_now()
        )
        again = await service.grant_subscription_benefits(
            session,
            subscription=subscription,
            benefit_ids=[license_keys.id, license_keys.id],
            now=utc_now() + timedelta(days=1),
        )
        assert again == []
        assert await grants_of(session, subscription) == first
        assert len(await keys_of(session, customer)) == 1

    async def test_revoked_grant_is_granted_again_with_its_key(
        self,
        session: AsyncSession,
        customer: Customer,
        subscription: Subscription,
        license_keys: Benefit,
    ) -> None:
        [grant] = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[license_keys.id], now=utc_now()
        )
        properties = grant.properties
        await service.revoke_subscription_benefits(
            session, subscription=subscription, now=utc_now()
        )
        [key] = await keys_of(session, customer)
        assert key.status == "revoked"
        later = utc_now() + timedelta(days=3)
        assert await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[license_keys.id], now=later
        ) == [grant]
        assert (grant.granted_at, grant.revoked_at, grant.properties) == (later, None, properties)
        assert [key] == await keys_of(session, customer)
        assert (key.status, key.expires_at) == ("granted", later + relativedelta(months=1))

    async def test_deleted_and_unknown_benefits_are_skipped(
        self, session: AsyncSession, organization: Organization, subscription: Subscription
    ) -> None:
        deleted = await create_benefit(session, organization=organization)
        deleted.deleted_at = utc_now()
        elsewhere = await create_organization(session, name="Elsewhere")
        other = await create_benefit(session, organization=elsewhere)
        granted = await service.grant_subscription_benefits(
            session,
            subscription=subscription,
            benefit_ids=[deleted.id, other.id, uuid.uuid4()],
            now=utc_now(),
        )
        assert granted == []
        assert await grants_of(session, subscription) == []

    async def test_insert_lost_to_a_concurrent_grant(
        self,
        session: AsyncSession,
        subscription: Subscription,
        license_keys: Benefit,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The other request inserted between our look-up and our insert: the unique index
        refuses ours and the winner's grant is the one."""
        [winner] = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[license_keys.id], now=utc_now()
        )
        lock = repository.lock_subscription_grants
        calls: list[int] = []

        async def missing_once(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return [] if len(calls) == 1 else await lock(*args, **kwargs)

        monkeypatch.setattr(repository, "lock_subscription_grants", missing_once)
        again = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[license_keys.id], now=utc_now()
        )
        assert (again, len(calls)) == ([], 2)
        assert await grants_of(session, subscription) == [winner]


class TestRevokeSubscriptionBenefits:
    async def test_all(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
        license_keys: Benefit,
        meter: Meter,
    ) -> None:
        credit = await meter_credit(session, organization, meter)
        custom = await create_benefit(session, organization=organization)
        ids = [license_keys.id, credit.id, custom.id]
        granted = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=ids, now=utc_now()
        )
        now = utc_now()
        revoked = await service.revoke_subscription_benefits(
            session, subscription=subscription, now=now
        )
        assert sorted(grant.id for grant in revoked) == sorted(grant.id for grant in granted)
        assert {(grant.granted_at, grant.revoked_at) for grant in revoked} == {(None, now)}
        [key] = await keys_of(session, customer)
        assert key.status == "revoked"
        assert await meter_totals(session, customer, meter) == (0, 0, 0)
        assert (
            await service.revoke_subscription_benefits(
                session, subscription=subscription, now=utc_now()
            )
            == []
        )

    async def test_named_benefits_only(
        self,
        session: AsyncSession,
        organization: Organization,
        subscription: Subscription,
        license_keys: Benefit,
    ) -> None:
        custom = await create_benefit(session, organization=organization)
        await service.grant_subscription_benefits(
            session,
            subscription=subscription,
            benefit_ids=[license_keys.id, custom.id],
            now=utc_now(),
        )
        [revoked] = await service.revoke_subscription_benefits(
            session, subscription=subscription, benefit_ids=[custom.id], now=utc_now()
        )
        assert revoked.benefit_id == custom.id
        kept = [grant for grant in await grants_of(session, subscription) if grant is not revoked]
        assert [grant.granted_at is not None for grant in kept] == [True]

    @pytest.mark.parametrize(
        ("consumed", "totals"),
        [(30, (30, 30, 0)), (99.5, (99.5, 100, 0.5)), (130, (130, 100, -30))],
    )
    async def test_meter_credit_removes_what_is_left(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
        meter: Meter,
        consumed: float,
        totals: tuple[float, int, float],
    ) -> None:
        benefit = await meter_credit(session, organization, meter)
        await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[benefit.id], now=utc_now()
        )
        await consume(session, customer, meter, consumed)
        await service.revoke_subscription_benefits(
            session, subscription=subscription, now=utc_now()
        )
        assert await meter_totals(session, customer, meter) == totals


class TestCycleSubscriptionBenefits:
    @pytest.mark.parametrize(
        ("rollover", "consumed", "totals"),
        [
            (False, 30, (0, 100, 100)),
            (True, 30, (0, 170, 170)),
            (False, 130, (0, 100, 100)),
            (True, 130, (0, 100, 100)),
        ],
    )
    async def test_meter_credit(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
        meter: Meter,
        rollover: bool,
        consumed: float,
        totals: tuple[float, int, float],
    ) -> None:
        """The meter starts over, then is credited again: what is left of the period's credit
        carries over with rollover only; usage beyond the credit (billed) does not."""
        benefit = await meter_credit(session, organization, meter, rollover=rollover)
        [grant] = await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[benefit.id], now=utc_now()
        )
        await consume(session, customer, meter, consumed)
        now = utc_now() + timedelta(days=30)
        await service.cycle_subscription_benefits(session, subscription=subscription, now=now)
        assert await meter_totals(session, customer, meter) == totals
        assert grant.properties["last_credited_units"] == 100
        assert grant.properties["last_credited_at"] == now.isoformat()
        assert grant.modified_at == now

    async def test_one_reset_for_two_credits_of_a_meter(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
        meter: Meter,
    ) -> None:
        first = await meter_credit(session, organization, meter)
        second = await create_benefit_with_properties(
            session,
            organization=organization,
            type="meter_credit",
            properties={"units": 50, "rollover": False, "meter_id": str(meter.id)},
        )
        await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[first.id, second.id], now=utc_now()
        )
        await consume(session, customer, meter, 30)
        now = utc_now() + timedelta(days=30)
        await service.cycle_subscription_benefits(session, subscription=subscription, now=now)
        assert await meter_totals(session, customer, meter) == (0, 150, 150)

    async def test_revoked_and_other_grants_are_kept(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
        license_keys: Benefit,
        meter: Meter,
    ) -> None:
        credit = await meter_credit(session, organization, meter)
        await service.grant_subscription_benefits(
            session,
            subscription=subscription,
            benefit_ids=[license_keys.id, credit.id],
            now=utc_now(),
        )
        [key] = await keys_of(session, customer)
        expires_at = key.expires_at
        await service.revoke_subscription_benefits(
            session, subscription=subscription, benefit_ids=[credit.id], now=utc_now()
        )
        await service.cycle_subscription_benefits(
            session, subscription=subscription, now=utc_now() + timedelta(days=30)
        )
        assert (key.status, key.expires_at) == ("granted", expires_at)
        assert await meter_totals(session, customer, meter) == (0, 0, 0)


class TestRevokeCustomerGrants:
    async def test_returns_what_it_revoked(
        self, session: AsyncSession, organization: Organization
    ) -> None:
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

    async def test_revokes_license_keys(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
        license_keys: Benefit,
    ) -> None:
        await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[license_keys.id], now=utc_now()
        )
        await service.revoke_customer_grants(session, organization.id, customer.id, now=utc_now())
        [key] = await keys_of(session, customer)
        assert key.status == "revoked"


class TestBenefitChanges:
    async def test_new_license_settings_apply_to_issued_keys(
        self,
        session: AsyncSession,
        customer: Customer,
        subscription: Subscription,
        license_keys: Benefit,
    ) -> None:
        await service.grant_subscription_benefits(
            session, subscription=subscription, benefit_ids=[license_keys.id], now=utc_now()
        )
        now = utc_now() + timedelta(days=2)
        update = BenefitLicenseKeysUpdate.model_validate(
            {
                "type": "license_keys",
                "properties": {"prefix": "acme", "expires": {"ttl": 3, "timeframe": "day"}},
            }
        )
        await service.update_benefit(session, license_keys, update=update, now=now)
        [key] = await keys_of(session, customer)
        assert (key.limit_activations, key.limit_usage) == (None, None)
        assert key.expires_at == now + timedelta(days=3)

    async def test_delete_revokes_the_grants(
        self,
        session: AsyncSession,
        organization: Organization,
        customer: Customer,
        subscription: Subscription,
        license_keys: Benefit,
        meter: Meter,
    ) -> None:
        credit = await meter_credit(session, organization, meter)
        await service.grant_subscription_benefits(
            session,
            subscription=subscription,
            benefit_ids=[license_keys.id, credit.id],
            now=utc_now(),
        )
        now = utc_now()
        await service.delete_benefit(session, license_keys, now=now)
        await service.delete_benefit(session, credit, now=now)
        assert license_keys.deleted_at == now
        grants = await grants_of(session, subscription)
        assert [(grant.granted_at, grant.revoked_at) for grant in grants] == [(None, now)] * 2
        [key] = await keys_of(session, customer)
        assert key.status == "revoked"
        assert await meter_totals(session, customer, meter) == (0, 0, 0)
        granted = select(func.count()).where(
            BenefitGrant.organization_id == organization.id, BenefitGrant.granted_at.is_not(None)
        )
        assert await session.scalar(granted) == 0
