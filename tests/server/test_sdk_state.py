"""The official client (`polar-sdk==0.27.1`) against the real server: customer state (by ID
and by external ID) and balance, on rows seeded in each test's own organization."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from polar_sdk import models
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.models import BenefitGrant, Customer, Organization, Subscription
from polar_customers.organizations import repository as organizations_repository
from tests import factories
from tests.server.sdk_support import assert_not_found
from tests.server.support import Api, ApiFactory, Tenant

pytestmark = pytest.mark.server

T0 = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """The ids of a customer's seeded state."""

    customer_id: str
    external_id: str
    subscription_id: str
    first_price_id: str
    subscription_meter_id: str
    grant_id: str
    customer_meter_id: str


async def _seed(session: AsyncSession, organization: Organization) -> Seeded:
    customer = await factories.create_customer(
        session, organization=organization, external_id=f"usr_{uuid.uuid4().hex[:8]}"
    )
    product = await factories.create_product(session, organization=organization)
    prices = [await factories.create_product_price(session, product=product) for _ in range(2)]
    subscription = await factories.create_subscription(
        session, customer=customer, product=product, prices=prices, current_period_start=T0
    )
    meter = await factories.create_meter(session, organization=organization)
    subscription_meter = await factories.create_subscription_meter(
        session, subscription=subscription, meter=meter, consumed_units=25, credited_units=100
    )
    benefit = await factories.create_benefit(
        session, organization=organization, type="license_keys", metadata={"tier": "gold"}
    )
    grant = await factories.create_benefit_grant(
        session,
        customer=customer,
        benefit=benefit,
        properties={"license_key_id": "lk_1", "display_key": "****-ABCD"},
    )
    customer_meter = await factories.create_customer_meter(
        session, customer=customer, meter=meter, consumed_units=25, credited_units=100
    )
    # Owes 1200 - 1000: -200.
    order = await factories.create_order(session, customer=customer, subtotal_amount=1200)
    await factories.create_payment(session, organization=organization, order=order, amount=1000)
    return Seeded(
        customer_id=str(customer.id),
        external_id=customer.external_id or "",
        subscription_id=str(subscription.id),
        first_price_id=str(prices[0].id),
        subscription_meter_id=str(subscription_meter.id),
        grant_id=str(grant.id),
        customer_meter_id=str(customer_meter.id),
    )


@pytest.fixture
async def seeded(seed_sessions: async_sessionmaker[AsyncSession], tenant: Tenant) -> Seeded:
    """A customer of `tenant` with a subscription, a grant, a meter and an order, committed."""
    async with seed_sessions() as session, session.begin():
        organization = await organizations_repository.get_organization(
            session, uuid.UUID(tenant.organization_id)
        )
        assert organization is not None
        return await _seed(session, organization)


def test_get_state(api: Api, seeded: Seeded) -> None:
    state = api.polar.customers.get_state(id=seeded.customer_id)
    assert isinstance(state, models.CustomerState)
    assert state.id == seeded.customer_id
    assert state.external_id == seeded.external_id
    [subscription] = state.active_subscriptions
    assert subscription.id == seeded.subscription_id
    assert subscription.status == models.CustomerStateSubscriptionStatus.ACTIVE
    assert subscription.recurring_interval == models.SubscriptionRecurringInterval.MONTH
    assert (subscription.amount, subscription.currency) == (1000, "usd")
    assert subscription.current_period_start == T0
    [meter] = subscription.meters
    assert meter.id == seeded.subscription_meter_id
    assert (meter.consumed_units, meter.credited_units) == (25.0, 100)
    [grant] = state.granted_benefits
    assert grant.id == seeded.grant_id
    assert grant.benefit_type == models.BenefitType.LICENSE_KEYS
    assert grant.benefit_metadata == {"tier": "gold"}
    [active_meter] = state.active_meters
    assert active_meter.id == seeded.customer_meter_id
    assert (active_meter.consumed_units, active_meter.balance) == (25.0, 75.0)
    # The hidden, deprecated `price_id` is on the wire only; the client ignores it.
    body = api.last.json()
    assert body["active_subscriptions"][0]["price_id"] == seeded.first_price_id
    assert body["granted_benefits"][0]["properties"] == {
        "license_key_id": "lk_1",
        "display_key": "****-ABCD",
    }


def test_get_state_external(api: Api, seeded: Seeded) -> None:
    state = api.polar.customers.get_state_external(external_id=seeded.external_id)
    assert isinstance(state, models.CustomerState)
    assert state.id == seeded.customer_id
    assert [item.id for item in state.active_subscriptions] == [seeded.subscription_id]
    external_body = api.last.json()
    api.polar.customers.get_state(id=seeded.customer_id)
    assert api.last.json() == external_body


def test_get_balance(api: Api, seeded: Seeded) -> None:
    balance = api.polar.customers.get_balance(id=seeded.customer_id)
    assert isinstance(balance, models.CustomerBalance)
    assert (balance.balance, balance.currency) == (-200, "USD")


def test_empty_state_and_balance(api: Api) -> None:
    customer = api.polar.customers.create(request={"email": "empty@example.com"})
    state = api.polar.customers.get_state(id=customer.id)
    assert state.active_subscriptions == []
    assert state.granted_benefits == []
    assert state.active_meters == []
    assert state.email == "empty@example.com"
    balance = api.polar.customers.get_balance(id=customer.id)
    assert (balance.balance, balance.currency) == (0, "USD")


def test_unknown_customer(api: Api) -> None:
    missing = str(uuid.uuid4())
    assert_not_found(lambda: api.polar.customers.get_state(id=missing))
    assert_not_found(lambda: api.polar.customers.get_state_external(external_id="nobody"))
    assert_not_found(lambda: api.polar.customers.get_balance(id=missing))


def test_other_organization(seeded: Seeded, other_api: Api) -> None:
    assert_not_found(lambda: other_api.polar.customers.get_state(id=seeded.customer_id))
    assert_not_found(
        lambda: other_api.polar.customers.get_state_external(external_id=seeded.external_id)
    )
    assert_not_found(lambda: other_api.polar.customers.get_balance(id=seeded.customer_id))


def test_read_only_token(seeded: Seeded, read_only_token: str, api_factory: ApiFactory) -> None:
    reader = api_factory(read_only_token)
    assert reader.polar.customers.get_state(id=seeded.customer_id).id == seeded.customer_id
    assert reader.polar.customers.get_balance(id=seeded.customer_id).balance == -200


async def test_delete_cancels_and_revokes(
    api: Api, seeded: Seeded, seed_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """D8: the delete ended the subscription and revoked the grant before answering."""
    api.polar.customers.delete(id=seeded.customer_id)
    assert api.last.status_code == 204
    assert_not_found(lambda: api.polar.customers.get_state(id=seeded.customer_id))
    async with seed_sessions() as session:
        customer = await session.get(Customer, uuid.UUID(seeded.customer_id))
        subscription = await session.get(Subscription, uuid.UUID(seeded.subscription_id))
        grant = await session.get(BenefitGrant, uuid.UUID(seeded.grant_id))
    assert customer is not None
    assert subscription is not None
    assert grant is not None
    assert customer.deleted_at is not None
    assert subscription.status == "canceled"
    assert subscription.ended_at == customer.deleted_at
    assert (grant.granted_at, grant.revoked_at) == (None, customer.deleted_at)
