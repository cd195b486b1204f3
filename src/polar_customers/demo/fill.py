"""Filling an organization with the demo's data, a step at a time, each step its own
transaction that first looks for what it makes (see the package's docstring)."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth.principal import AuthSubject, Principal, SubjectKind
from polar_customers.auth.scopes import GRANTABLE_SCOPES
from polar_customers.checkouts import service as checkouts_service
from polar_customers.customers import service as customers_service
from polar_customers.customers.repository import ByExternalId, ById
from polar_customers.customers.schemas import CustomerCreate
from polar_customers.db import Database
from polar_customers.demo.catalog import (
    METERS,
    WORKSHOP_PRICE,
    Catalog,
    benefits,
    ensure_catalog,
    products,
)
from polar_customers.demo.plan import (
    BUYING,
    PLAN,
    SUBSCRIBED,
    CustomerPlan,
    Fate,
    SubscriptionPlan,
)
from polar_customers.errors import ResourceNotFound
from polar_customers.events import service as events_service
from polar_customers.events.repository import EventFilters
from polar_customers.events.schemas import EventCreate, EventCreateExternalCustomer
from polar_customers.kit.pagination import PaginationParams
from polar_customers.kit.sorting import SortCriterion
from polar_customers.kit.tenancy import OrganizationIds
from polar_customers.kit.time import utc_now
from polar_customers.members import service as members_service
from polar_customers.members.schemas import MemberCreateFromCustomer
from polar_customers.models import EventSource, PaymentStatus, RefundReason, Subscription
from polar_customers.orders import ledger
from polar_customers.orders import service as orders_service
from polar_customers.orders.ledger_schemas import PaymentCreate, RefundCreate
from polar_customers.organizations import repository as organizations_repository
from polar_customers.organizations.service import NotFoundError
from polar_customers.subscriptions import service as subscriptions_service
from polar_customers.subscriptions.schemas import (
    CustomerCancellationReason,
    SubscriptionCancel,
    SubscriptionCreateCustomer,
    SubscriptionRevoke,
)

DEMO_STEPS = 1 + len(PLAN) + 2 * len(SUBSCRIBED) + len(BUYING)
"""The units of progress `fill_demo` reports: the catalog, each customer, each subscription,
each purchase, each customer's usage."""
PARTIAL_REFUND = 5_000
_ALL = PaginationParams(1, 100)
_ONE = PaginationParams(1, 1)
_OLDEST_FIRST = [SortCriterion("created_at", descending=False)]


@dataclass(frozen=True)
class DemoReport:
    """What the organization holds of the demo's data once `fill_demo` returns."""

    organization_id: uuid.UUID
    customers: int
    products: int
    benefits: int
    meters: int
    subscriptions: int
    events: int
    orders: int
    payments: int
    refunds: int
    created: bool
    """False when the organization already had all of it (nothing was written)."""

    def lines(self) -> list[str]:
        """A summary for people, one line per kind."""
        first, last = PLAN[0].external_id, PLAN[-1].external_id
        credit = f"${WORKSHOP_PRICE / 100:,.2f}"
        return [
            f"{self.customers:>6,} customers ({first} to {last}; one team with members)",
            f"{self.products:>6,} products (Pro monthly and yearly, Free, a one-time workshop)",
            f"{self.benefits:>6,} benefits (custom, license keys, meter credit)",
            f"{self.meters:>6,} meters (API calls, data transfer)",
            f"{self.subscriptions:>6,} subscriptions (1 past due, 1 ending, 1 revoked)",
            f"{self.events:>6,} usage events",
            f"{self.orders:>6,} orders (3 one-time purchases through checkouts)",
            f"{self.payments:>6,} payments (1 failed)",
            f"{self.refunds:>6,} refunds ({first} has a balance of {credit} in credit)",
        ]


def _report(organization_id: uuid.UUID, *, created: bool) -> DemoReport:
    subscriptions = [plan.subscription for plan in SUBSCRIBED if plan.subscription]
    billed = [planned for planned in subscriptions if planned.product != "free"]
    refunded = [plan for plan in BUYING if plan.purchase and plan.purchase.refunded is not None]
    partially = [planned for planned in billed if planned.fate == Fate.partially_refunded]
    meters = dict.fromkeys(METERS, uuid.UUID(int=0))  # stand-ins: only the keys count here
    return DemoReport(
        organization_id=organization_id,
        customers=len(PLAN),
        products=len(products(meters)),
        benefits=len(benefits(meters)),
        meters=len(METERS),
        subscriptions=len(subscriptions),
        events=sum(len(plan.usage) for plan in PLAN),
        # A free subscription's order is paid as it is made, without a payment.
        orders=len(subscriptions) + len(BUYING),
        payments=len(billed) + len(BUYING),
        refunds=len(refunded) + len(partially),
        created=created,
    )


def organization_principal(organization_id: uuid.UUID) -> Principal:
    """What the authentication middleware makes of an organization token with every scope."""
    organization_ids = OrganizationIds((organization_id,))
    subject = AuthSubject(
        SubjectKind.organization, organization_id, frozenset(GRANTABLE_SCOPES), organization_ids
    )
    return Principal(subject, organization_ids)


def _no_progress(_units: int) -> None:
    pass


async def fill_demo(
    database: Database,
    organization_id: uuid.UUID,
    *,
    now: datetime | None = None,
    progress: Callable[[int], None] = _no_progress,
) -> DemoReport:
    """Fill the organization with what it lacks of the demo's data, at times before `now`
    (which must not be in the future: events are refused there). `progress` is told of each
    of the `DEMO_STEPS` units once its transaction committed. `NotFoundError` when there is
    no such organization."""
    principal = organization_principal(organization_id)
    filler = _Filler(database, principal, now=now or utc_now(), progress=progress)
    await filler.run(organization_id)
    return _report(organization_id, created=filler.wrote)


class _Filler:
    def __init__(
        self,
        database: Database,
        principal: Principal,
        *,
        now: datetime,
        progress: Callable[[int], None],
    ) -> None:
        self.database, self.principal, self.now, self.progress = database, principal, now, progress
        self.organization_ids = principal.organization_ids
        self.wrote = False
        self.catalog = Catalog()
        self.customers: dict[int, uuid.UUID] = {}

    def at(self, seconds_before: int) -> datetime:
        return self.now - timedelta(seconds=seconds_before)

    async def run(self, organization_id: uuid.UUID) -> None:
        async with self.database.read_sessions() as session:
            if await organizations_repository.get_organization(session, organization_id) is None:
                raise NotFoundError(f"no organization {organization_id}")
        await self._step(self._catalog)
        steps = [partial(self._customer, plan=plan) for plan in PLAN]
        steps += [partial(self._subscription, plan=plan) for plan in SUBSCRIBED]
        steps += [partial(self._purchase, plan=plan) for plan in BUYING]
        steps += [partial(self._usage, plan=plan) for plan in SUBSCRIBED]
        for step in steps:
            await self._step(step)

    async def _step(self, work: Callable[[AsyncSession], Awaitable[bool]]) -> None:
        async with self.database.write_sessions() as session, session.begin():
            self.wrote |= await work(session)
        self.progress(1)

    async def _catalog(self, session: AsyncSession) -> bool:
        self.catalog = await ensure_catalog(session, self.principal, now=self.now)
        return self.catalog.created

    # Customers, found by external id.

    async def _customer(self, session: AsyncSession, plan: CustomerPlan) -> bool:
        try:
            lookup = ByExternalId(plan.external_id)
            found = await customers_service.lock(session, self.principal, lookup)
        except ResourceNotFound:
            pass
        else:
            self.customers[plan.number] = found.id
            return False
        create = CustomerCreate.model_validate(plan.body).root
        row = await customers_service.create_customer(session, self.principal, create=create)
        self.customers[plan.number] = row["id"]
        if plan.members:
            customer = await customers_service.lock(session, self.principal, ById(row["id"]))
            for member in plan.members:
                create_member = MemberCreateFromCustomer.model_validate(member)
                await members_service.create_member(session, customer, create=create_member)
        return True

    # Subscriptions, their first orders and payments, and what happened to them since.

    async def _subscription(self, session: AsyncSession, plan: CustomerPlan) -> bool:
        planned, customer_id = plan.subscription, self.customers[plan.number]
        assert planned is not None
        _, existing = await subscriptions_service.list_subscriptions(
            session, self.organization_ids, product_ids=None, customer_ids=[customer_id],
            external_customer_ids=None, discount_ids=None, active=None, metadata={},
            pagination=_ONE, sorting=[SortCriterion("started_at", descending=False)],
        )  # fmt: skip
        if existing:
            return False
        body = SubscriptionCreateCustomer(
            customer_id=customer_id, product_id=self.catalog.products[planned.product]
        )
        subscription = await subscriptions_service.create_subscription(
            session, self.principal, body, now=self.at(planned.started)
        )
        if planned.product != "free":
            order_id = await self._pay_first_order(session, subscription, planned)
            if planned.fate == Fate.partially_refunded:
                refund = RefundCreate(
                    order_id=order_id,
                    reason=RefundReason.service_disruption,
                    amount=PARTIAL_REFUND,
                    comment="Credit for the outage of the export service.",
                )
                refunded_at = self.at(planned.changed)
                await ledger.create_refund(session, self.principal, create=refund, now=refunded_at)
        await self._cancel(session, subscription, planned)
        return True

    async def _pay_first_order(
        self, session: AsyncSession, subscription: Subscription, planned: SubscriptionPlan
    ) -> uuid.UUID:
        orders, _, _ = await orders_service.list_orders(
            session, self.organization_ids, product_ids=None, recurring=None,
            discount_ids=None, customer_ids=[subscription.customer_id], checkout_ids=None,
            metadata={}, pagination=_ALL, sorting=_OLDEST_FIRST,
        )  # fmt: skip
        [order] = [order for order in orders if order["subscription_id"] == subscription.id]
        if planned.fate == Fate.payment_failed:
            payment = PaymentCreate(
                order_id=order["id"],
                status=PaymentStatus.failed,
                method="card",
                decline_reason="insufficient_funds",
                decline_message="Your card has insufficient funds.",
            )
        else:
            payment = PaymentCreate(
                order_id=order["id"], status=PaymentStatus.succeeded, method="card"
            )
        paid_at = self.at(planned.started) + timedelta(minutes=2)
        await ledger.record_payment(session, self.principal, create=payment, now=paid_at)
        return order["id"]

    async def _cancel(
        self, session: AsyncSession, subscription: Subscription, planned: SubscriptionPlan
    ) -> None:
        at = self.at(planned.changed)
        if planned.fate == Fate.cancel_at_period_end:
            cancel = SubscriptionCancel(
                cancel_at_period_end=True,
                customer_cancellation_reason=CustomerCancellationReason.too_expensive,
            )
            await subscriptions_service.cancel(session, subscription, cancel, now=at)
        elif planned.fate == Fate.revoked:
            revoke = SubscriptionRevoke(
                revoke=True,
                customer_cancellation_reason=CustomerCancellationReason.switched_service,
            )
            await subscriptions_service.revoke(session, subscription, revoke, now=at)

    # One-time purchases through checkouts; the refunded one leaves a non-zero balance.

    async def _purchase(self, session: AsyncSession, plan: CustomerPlan) -> bool:
        planned, customer_id = plan.purchase, self.customers[plan.number]
        assert planned is not None
        product_id = self.catalog.products["workshop"]
        _, _, existing = await orders_service.list_orders(
            session, self.organization_ids, product_ids=[product_id], recurring=None,
            discount_ids=None, customer_ids=[customer_id], checkout_ids=None, metadata={},
            pagination=_ONE, sorting=_OLDEST_FIRST,
        )  # fmt: skip
        if existing:
            return False
        purchase = await checkouts_service.complete_purchase(
            session,
            self.principal,
            customer_id=customer_id,
            product_id=product_id,
            now=self.at(planned.bought),
        )
        if planned.refunded is not None:
            refund = RefundCreate(
                order_id=purchase.order.id,
                reason=RefundReason.satisfaction_guarantee,
                amount=purchase.order.subtotal_amount,
                comment="The workshop was canceled.",
            )
            refunded_at = self.at(planned.refunded)
            await ledger.create_refund(session, self.principal, create=refund, now=refunded_at)
        return True

    # Usage: each customer's events in one batch, as a client ingests them.

    async def _usage(self, session: AsyncSession, plan: CustomerPlan) -> bool:
        filters = EventFilters(
            customer_ids=[self.customers[plan.number]], sources=[EventSource.user]
        )
        _, existing = await events_service.list_events(
            session, self.organization_ids, event_filter=None, meter_id=None, filters=filters,
            pagination=_ONE, sorting=[SortCriterion("timestamp", descending=False)],
        )  # fmt: skip
        if existing:
            return False
        events: list[EventCreate] = [
            EventCreateExternalCustomer(
                external_customer_id=plan.external_id,
                name=event.name,
                timestamp=self.at(event.ago),
                metadata=event.metadata,
            )
            for event in plan.usage
        ]
        await events_service.ingest(session, self.principal, events, now=self.now)
        return True
