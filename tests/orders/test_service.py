"""`orders.service.create_subscription_order`: one order per billing period of a
subscription, its items, amounts, status and invoice number."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from polar_customers.kit.time import utc_now
from polar_customers.models import (
    Customer,
    OrderBillingReason,
    OrderItem,
    Organization,
    Product,
    Subscription,
)
from polar_customers.models import Order as OrderModel
from polar_customers.orders import repository, service
from polar_customers.orders.service import OrderLine, invoice_number
from tests.conftest import ENGINE
from tests.factories import (
    create_checkout,
    create_customer,
    create_organization,
    create_product_price,
    create_subscription,
)
from tests.orders.conftest import Bill, bill_subscription, recurring_product


async def items_of(session: AsyncSession, order: OrderModel) -> list[OrderItem]:
    statement = (
        select(OrderItem)
        .where(OrderItem.order_id == order.id)
        .order_by(OrderItem.created_at, OrderItem.id)
    )
    return list((await session.scalars(statement)).all())


class TestCreateSubscriptionOrder:
    async def test_valid(
        self, session: AsyncSession, subscription: Subscription, customer: Customer
    ) -> None:
        product = await session.get_one(Product, subscription.product_id)
        price_id = (await create_product_price(session, product=product)).id
        lines = [
            OrderLine(label="Pro", amount=1000, product_price_id=None),
            OrderLine(label="Pro: 12 units", amount=250, product_price_id=price_id),
        ]
        now = utc_now()
        order, created = await service.create_subscription_order(
            session,
            subscription=subscription,
            billing_reason=OrderBillingReason.subscription_create,
            period_start=subscription.current_period_start,
            lines=lines,
            now=now,
        )
        assert created
        assert (order.status, order.subtotal_amount, order.currency) == ("pending", 1250, "usd")
        assert (order.customer_id, order.product_id) == (customer.id, subscription.product_id)
        assert (order.subscription_id, order.billing_period_start) == (
            subscription.id,
            subscription.current_period_start,
        )
        assert (order.billing_reason, order.billing_name, order.created_at) == (
            "subscription_create",
            "Jane",
            now,
        )
        items = await items_of(session, order)
        assert [(item.label, item.amount, item.product_price_id) for item in items] == [
            ("Pro", 1000, None),
            ("Pro: 12 units", 250, price_id),
        ]

    async def test_free_is_paid(self, bill: Bill) -> None:
        order = await bill(amounts=(0,))
        assert order.status == "paid"

    async def test_no_lines_is_paid(self, bill: Bill) -> None:
        order = await bill(amounts=())
        assert (order.status, order.subtotal_amount) == ("paid", 0)

    async def test_same_period_twice(self, session: AsyncSession, bill: Bill) -> None:
        first = await bill(amounts=(1000,))
        order, created = await service.create_subscription_order(
            session,
            subscription=await session.get_one(Subscription, first.subscription_id),
            billing_reason=OrderBillingReason.subscription_cycle,
            period_start=first.billing_period_start,  # type: ignore[arg-type]
            lines=[OrderLine(label="Other", amount=5, product_price_id=None)],
            now=utc_now(),
        )
        assert (order.id, created, order.subtotal_amount) == (first.id, False, 1000)

    async def test_next_period(self, bill: Bill) -> None:
        first = await bill(period=0)
        second = await bill(period=1, reason=OrderBillingReason.subscription_cycle)
        assert first.id != second.id
        assert second.billing_reason == "subscription_cycle"

    async def test_invoice_numbers_follow_each_other(
        self, bill: Bill, organization: Organization
    ) -> None:
        orders = [await bill(period=period) for period in range(3)]
        assert [order.invoice_sequence for order in orders] == [1, 2, 3]
        prefix = organization.id.hex[:8].upper()
        assert [order.invoice_number for order in orders] == [
            f"{prefix}-0001",
            f"{prefix}-0002",
            f"{prefix}-0003",
        ]

    async def test_invoice_numbers_per_organization(
        self, session: AsyncSession, bill: Bill
    ) -> None:
        await bill(period=0)
        other = await create_organization(session, name="Other")
        customer = await create_customer(session, organization=other)
        product = await recurring_product(session, other)
        subscription = await create_subscription(session, customer=customer, product=product)
        order = await bill_subscription(session, subscription)
        assert order.invoice_number == invoice_number(other.id, 1)

    def test_invoice_number_beyond_four_digits(self) -> None:
        organization_id = uuid.UUID("1dbfc517-0bbf-4301-9ba8-555ca42b9737")
        assert invoice_number(organization_id, 12345) == "1DBFC517-12345"

    async def test_first_order_takes_the_checkout(
        self, session: AsyncSession, subscription: Subscription, bill: Bill
    ) -> None:
        organization = await session.get_one(Organization, subscription.organization_id)
        checkout = await create_checkout(session, organization=organization)
        subscription.checkout_id = checkout.id
        first = await bill(period=0)
        renewal = await bill(period=1, reason=OrderBillingReason.subscription_cycle)
        assert (first.checkout_id, renewal.checkout_id) == (checkout.id, None)

    async def test_copies_metadata_and_billing_address(
        self, session: AsyncSession, subscription: Subscription, customer: Customer, bill: Bill
    ) -> None:
        subscription.user_metadata = {"plan": "gold"}
        customer.billing_name = "Jane Inc."
        customer.billing_address = {"country": "FR", "city": "Paris"}
        order = await bill()
        assert order.user_metadata == {"plan": "gold"}
        assert (order.billing_name, order.billing_address) == (
            "Jane Inc.",
            {"country": "FR", "city": "Paris"},
        )

    async def test_lost_race_finds_the_order(
        self, session: AsyncSession, bill: Bill, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first = await bill()
        calls = 0
        found = repository.find_subscription_order

        async def not_yet(*args: object) -> OrderModel | None:
            # Unseen by both checks, as an order committed meanwhile by another transaction.
            nonlocal calls
            calls += 1
            return None if calls <= 2 else await found(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(repository, "find_subscription_order", not_yet)
        subscription = await session.get_one(Subscription, first.subscription_id)
        order = await bill_subscription(session, subscription, (700,))
        assert order.id == first.id
        assert calls == 3


# Concurrency on PostgreSQL: two transactions of their own, committed -------------------------


RACE = "Orders race"


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions that commit for real; the organizations named `RACE` (and all their rows)
    are deleted afterwards."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    yield sessions
    async with sessions() as session, session.begin():
        await session.execute(delete(Organization).where(Organization.name == RACE))


@pytest.mark.skipif(ENGINE != "postgresql", reason="SQLite serializes writers")
class TestConcurrentCreate:
    async def test_two_calls_make_one_order(
        self, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        async with committed() as session, session.begin():
            organization = await create_organization(session, name=RACE)
            customer = await create_customer(session, organization=organization)
            product = await recurring_product(session, organization)
            subscription = await create_subscription(session, customer=customer, product=product)

        async def create(amount: int) -> tuple[uuid.UUID, bool]:
            async with committed() as session, session.begin():
                mine = await session.get_one(Subscription, subscription.id)
                order, created = await service.create_subscription_order(
                    session,
                    subscription=mine,
                    billing_reason=OrderBillingReason.subscription_create,
                    period_start=subscription.current_period_start,
                    lines=[OrderLine(label="Pro", amount=amount, product_price_id=None)],
                    now=utc_now(),
                )
                await asyncio.sleep(0.05)  # hold the transaction while the other one runs
                return order.id, created

        results = await asyncio.gather(create(1000), create(2000))
        assert {order_id for order_id, _ in results} == {results[0][0]}
        assert sorted(created for _, created in results) == [False, True]
        async with committed() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OrderModel)
                .where(OrderModel.subscription_id == subscription.id)
            )
            items = await session.scalar(
                select(func.count())
                .select_from(OrderItem)
                .where(OrderItem.order_id == results[0][0])
            )
        assert (count, items) == (1, 1)

    async def test_two_subscriptions_get_two_numbers(
        self, committed: async_sessionmaker[AsyncSession]
    ) -> None:
        async with committed() as session, session.begin():
            organization = await create_organization(session, name=RACE)
            subscriptions = []
            for _ in range(2):
                customer = await create_customer(session, organization=organization)
                product = await recurring_product(session, organization)
                subscriptions.append(
                    await create_subscription(session, customer=customer, product=product)
                )

        async def create(subscription: Subscription) -> str | None:
            async with committed() as session, session.begin():
                mine = await session.get_one(Subscription, subscription.id)
                order = await bill_subscription(session, mine, (1000,))
                await asyncio.sleep(0.05)
                return order.invoice_number

        numbers = await asyncio.gather(*(create(s) for s in subscriptions))
        assert sorted(numbers) == [  # type: ignore[type-var]
            invoice_number(organization.id, 1),
            invoice_number(organization.id, 2),
        ]
