"""Plain keyword-only factories that write rows through the real services, or directly for
the entities no operation writes (subscriptions, benefits, meters, orders...)."""

import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.auth import service as auth_service
from polar_customers.auth.scopes import Scope
from polar_customers.kit.time import utc_now
from polar_customers.models import (
    Base,
    Benefit,
    BenefitGrant,
    Checkout,
    Customer,
    CustomerMeter,
    Meter,
    Order,
    Organization,
    Payment,
    PaymentMethod,
    Product,
    ProductPrice,
    Subscription,
    SubscriptionMeter,
    SubscriptionPrice,
    User,
)
from polar_customers.organizations import service as organizations_service

TEST_SECRET = "test-secret-not-for-production"
TEST_KEY = TEST_SECRET.encode()
READ_WRITE = (Scope.customers_read, Scope.customers_write)
# The keys of a `Customer` of the 2025 contract on the wire, in order.
CUSTOMER_KEYS_2025 = [
    "id",
    "created_at",
    "modified_at",
    "metadata",
    "external_id",
    "email",
    "email_verified",
    "name",
    "billing_address",
    "tax_id",
    "organization_id",
    "deleted_at",
    "avatar_url",
]
# The keys of the one `Customer` served to every client: the 2025 ones in their order, and
# today's among them where Polar puts them.
CUSTOMER_KEYS = [
    "id",
    "created_at",
    "modified_at",
    "metadata",
    "external_id",
    "email",
    "email_verified",
    "type",
    "name",
    "billing_name",
    "billing_address",
    "tax_id",
    "locale",
    "organization_id",
    "default_payment_method_id",
    "deleted_at",
    "first_user_event_at",
    "avatar_url",
]
assert [key for key in CUSTOMER_KEYS if key in CUSTOMER_KEYS_2025] == CUSTOMER_KEYS_2025


async def create_organization(session: AsyncSession, *, name: str = "Acme") -> Organization:
    return await organizations_service.create_organization(session, name=name)


async def create_organization_token(
    session: AsyncSession, *, organization: Organization, scopes: Iterable[Scope] = READ_WRITE
) -> str:
    _, token = await auth_service.create_organization_token(
        session, organization_id=organization.id, scopes=scopes, key=TEST_KEY
    )
    return token


async def create_user(session: AsyncSession, *, member_of: Iterable[Organization] = ()) -> User:
    user = await organizations_service.create_user(session, email=f"{uuid.uuid4().hex}@user.dev")
    for organization in member_of:
        await organizations_service.add_member(
            session, user_id=user.id, organization_id=organization.id
        )
    return user


async def create_personal_token(
    session: AsyncSession, *, user: User, scopes: Iterable[Scope] = READ_WRITE
) -> str:
    _, token = await auth_service.create_personal_token(
        session, user_id=user.id, scopes=scopes, key=TEST_KEY
    )
    return token


async def create_customer(
    session: AsyncSession,
    *,
    organization: Organization,
    email: str | None = None,
    external_id: str | None = None,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
    email_verified: bool = False,
    **fields: Any,
) -> Customer:
    customer = Customer(
        organization_id=organization.id,
        email=email or f"{uuid.uuid4().hex[:12]}@example.com",
        external_id=external_id,
        name=name,
        user_metadata=metadata or {},
        email_verified=email_verified,
        **fields,
    )
    session.add(customer)
    await session.flush()
    return customer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# Entities behind customer state and balance ------------------------------------------------

Row = TypeVar("Row", bound=Base)


async def _add(session: AsyncSession, row: Row) -> Row:
    session.add(row)
    await session.flush()
    return row


async def create_product(
    session: AsyncSession, *, organization: Organization, name: str = "Pro"
) -> Product:
    return await _add(session, Product(organization_id=organization.id, name=name))


async def create_product_price(session: AsyncSession, *, product: Product) -> ProductPrice:
    return await _add(
        session, ProductPrice(organization_id=product.organization_id, product_id=product.id)
    )


async def create_subscription(
    session: AsyncSession,
    *,
    customer: Customer,
    product: Product | None = None,
    prices: Sequence[ProductPrice] | None = None,
    status: str = "active",
    amount: int = 1000,
    currency: str = "usd",
    recurring_interval: str = "month",
    **fields: Any,
) -> Subscription:
    """A subscription of `customer` to `prices` in this order (by default, one new price of
    `product`, itself new by default)."""
    organization_id = customer.organization_id
    if product is None:
        product = await _add(session, Product(organization_id=organization_id, name="Pro"))
    if prices is None:
        prices = [await create_product_price(session, product=product)]
    start = utc_now()
    fields.setdefault("current_period_start", start)
    fields.setdefault("current_period_end", start + timedelta(days=30))
    subscription = await _add(
        session,
        Subscription(
            organization_id=organization_id,
            customer_id=customer.id,
            product_id=product.id,
            status=status,
            amount=amount,
            currency=currency,
            recurring_interval=recurring_interval,
            **fields,
        ),
    )
    for position, price in enumerate(prices):
        session.add(
            SubscriptionPrice(
                organization_id=organization_id,
                subscription_id=subscription.id,
                product_price_id=price.id,
                position=position,
            )
        )
    await session.flush()
    return subscription


async def create_meter(
    session: AsyncSession, *, organization: Organization, name: str = "API calls"
) -> Meter:
    return await _add(session, Meter(organization_id=organization.id, name=name))


async def create_subscription_meter(
    session: AsyncSession,
    *,
    subscription: Subscription,
    meter: Meter,
    consumed_units: float = 0,
    credited_units: int = 0,
    amount: int = 0,
    **fields: Any,
) -> SubscriptionMeter:
    return await _add(
        session,
        SubscriptionMeter(
            organization_id=subscription.organization_id,
            subscription_id=subscription.id,
            meter_id=meter.id,
            consumed_units=consumed_units,
            credited_units=credited_units,
            amount=amount,
            **fields,
        ),
    )


async def create_customer_meter(
    session: AsyncSession,
    *,
    customer: Customer,
    meter: Meter,
    consumed_units: float = 0,
    credited_units: int = 0,
    **fields: Any,
) -> CustomerMeter:
    return await _add(
        session,
        CustomerMeter(
            organization_id=customer.organization_id,
            customer_id=customer.id,
            meter_id=meter.id,
            consumed_units=consumed_units,
            credited_units=credited_units,
            balance=credited_units - consumed_units,
            **fields,
        ),
    )


async def create_benefit(
    session: AsyncSession,
    *,
    organization: Organization,
    type: str = "custom",
    metadata: dict[str, Any] | None = None,
) -> Benefit:
    return await _add(
        session,
        Benefit(
            organization_id=organization.id,
            type=type,
            description=f"A {type} benefit",
            user_metadata=metadata or {},
        ),
    )


async def create_benefit_grant(
    session: AsyncSession,
    *,
    customer: Customer,
    benefit: Benefit,
    properties: dict[str, Any] | None = None,
    granted: bool = True,
    **fields: Any,
) -> BenefitGrant:
    """A grant of `benefit` to `customer`: granted now, or never granted (`granted=False`)."""
    return await _add(
        session,
        BenefitGrant(
            organization_id=customer.organization_id,
            customer_id=customer.id,
            benefit_id=benefit.id,
            properties=properties or {},
            granted_at=utc_now() if granted else None,
            **fields,
        ),
    )


async def create_checkout(
    session: AsyncSession, *, organization: Organization, customer: Customer | None = None
) -> Checkout:
    customer_id = None if customer is None else customer.id
    return await _add(session, Checkout(organization_id=organization.id, customer_id=customer_id))


async def create_order(
    session: AsyncSession,
    *,
    customer: Customer,
    status: str = "paid",
    subtotal_amount: int = 1000,
    currency: str = "usd",
    checkout: Checkout | None = None,
    **fields: Any,
) -> Order:
    """An order of `customer`; discount, tax and refunds are 0 unless given."""
    return await _add(
        session,
        Order(
            organization_id=customer.organization_id,
            customer_id=customer.id,
            checkout_id=None if checkout is None else checkout.id,
            status=status,
            subtotal_amount=subtotal_amount,
            currency=currency,
            **fields,
        ),
    )


async def create_payment(
    session: AsyncSession,
    *,
    organization: Organization,
    amount: int,
    order: Order | None = None,
    checkout: Checkout | None = None,
    status: str = "succeeded",
    currency: str = "usd",
) -> Payment:
    return await _add(
        session,
        Payment(
            organization_id=organization.id,
            order_id=None if order is None else order.id,
            checkout_id=None if checkout is None else checkout.id,
            status=status,
            amount=amount,
            currency=currency,
        ),
    )


async def create_payment_method(
    session: AsyncSession,
    *,
    customer: Customer,
    type: str = "card",
    method_metadata: dict[str, Any] | None = None,
    **fields: Any,
) -> PaymentMethod:
    """A payment method of `customer` (a Visa card by default)."""
    card = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}
    return await _add(
        session,
        PaymentMethod(
            organization_id=customer.organization_id,
            customer_id=customer.id,
            type=type,
            method_metadata=card if method_metadata is None else method_metadata,
            **fields,
        ),
    )


async def create_benefit_with_properties(
    session: AsyncSession,
    *,
    organization: Organization,
    type: str = "custom",
    properties: dict[str, Any] | None = None,
    description: str | None = None,
) -> Benefit:
    """A benefit with the settings of its type (`{"note": None}` for a custom one by default),
    as Polar's clients parse them."""
    return await _add(
        session,
        Benefit(
            organization_id=organization.id,
            type=type,
            description=description or f"A {type} benefit",
            properties={"note": None} if properties is None else properties,
            user_metadata={},
        ),
    )
