"""The data the Schemathesis module fuzzes against: one organization whose every kind of row
exists, committed before the run, and the keys of those rows for its dictionaries.

Rows that an operation can make are made through the API itself (a catalogue of meters,
benefits and products, a team with members, subscriptions and their orders, payments, a refund,
events), so they look as they do in production; the rows behind a customer's state that no
operation writes (subscription meters, grants of every benefit type) come from the factories.
Each deleting operation gets rows of its own, kept out of the other operations' dictionaries.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.app import create_app
from polar_customers.auth.scopes import GRANTABLE_SCOPES
from polar_customers.config import Settings
from polar_customers.db import Database
from polar_customers.models import Customer, Organization, Product, ProductPrice
from tests import factories


@dataclass(slots=True)
class Seeded:
    """What the module committed: the organization's token and the keys of its rows, as the
    strings a request carries. The `deletable_*` lists are only ever given to deletes."""

    token: str
    organization_id: str
    customer_ids: list[str] = field(default_factory=list)
    customer_external_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    deletable_customer_ids: list[str] = field(default_factory=list)
    deletable_customer_external_ids: list[str] = field(default_factory=list)
    team_id: str = ""
    team_external_id: str = ""
    member_ids: list[str] = field(default_factory=list)
    member_external_ids: list[str] = field(default_factory=list)
    deletable_member_ids: list[str] = field(default_factory=list)
    deletable_member_external_ids: list[str] = field(default_factory=list)
    meter_ids: list[str] = field(default_factory=list)
    benefit_ids: list[str] = field(default_factory=list)
    deletable_benefit_ids: list[str] = field(default_factory=list)
    product_ids: list[str] = field(default_factory=list)
    subscription_ids: list[str] = field(default_factory=list)
    revocable_subscription_ids: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    checkout_ids: list[str] = field(default_factory=list)
    payment_ids: list[str] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    event_names: list[str] = field(default_factory=list)
    customer_meter_ids: list[str] = field(default_factory=list)


async def seed(settings: Settings) -> Seeded:
    """Commit the organization and its rows, then the catalogue and activity made through the
    API with a token of every grantable scope."""
    database = Database(settings)
    try:
        async with database.write_sessions() as session:
            seeded = await _seed_customers(session)
            await session.commit()
    finally:
        await database.dispose()
    app = create_app(settings)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver",
            headers=factories.bearer(seeded.token),
        ) as client:
            await _seed_through_api(_Api(client), seeded)
    finally:
        await app.state.database.dispose()
    return seeded


async def _seed_customers(session: AsyncSession) -> Seeded:
    organization = await factories.create_organization(session, name="Schemathesis")
    token = await factories.create_organization_token(
        session, organization=organization, scopes=GRANTABLE_SCOPES
    )
    kept = [
        await factories.create_customer(
            session,
            organization=organization,
            external_id=f"st-kept-{index}",
            name=f"Kept {index}",
            metadata={"tier": "gold", "rank": index, "beta": index % 2 == 0},
        )
        for index in range(4)
    ]
    checkout_id = await _seed_state(session, organization, kept[0])
    for customer in kept[:2]:
        await factories.create_payment_method(session, customer=customer)
    doomed = [
        await factories.create_customer(
            session,
            organization=organization,
            external_id=f"st-doomed-{index}",
            metadata={"doomed": True},
        )
        for index in range(4)
    ]
    return Seeded(
        token=token,
        organization_id=str(organization.id),
        customer_ids=[str(customer.id) for customer in kept],
        customer_external_ids=[customer.external_id or "" for customer in kept],
        emails=[customer.email or "" for customer in kept],
        deletable_customer_ids=[str(customer.id) for customer in doomed[:2]],
        deletable_customer_external_ids=[customer.external_id or "" for customer in doomed[2:]],
        checkout_ids=[str(checkout_id)],
    )


async def _seed_state(
    session: AsyncSession, organization: Organization, customer: Customer
) -> uuid.UUID:
    """What a customer's state and balance show: one of each kind of row, each as the API
    would have written it. Returns the ID of the checkout its order came from."""
    product = Product(organization_id=organization.id, name="Seats", recurring_interval="month")
    session.add(product)
    await session.flush()
    price = ProductPrice(
        organization_id=organization.id,
        product_id=product.id,
        recurring_interval="month",
        price_amount=1000,
    )
    session.add(price)
    subscription = await factories.create_subscription(
        session,
        customer=customer,
        product=product,
        prices=[price],
        status="trialing",
        custom_field_data={"size": 3},
    )
    meter = await factories.create_meter(session, organization=organization)
    await factories.create_subscription_meter(
        session, subscription=subscription, meter=meter, consumed_units=2.5, credited_units=10
    )
    await factories.create_customer_meter(
        session, customer=customer, meter=meter, consumed_units=2.5, credited_units=10
    )
    license_keys = {"prefix": None, "expires": None, "activations": None, "limit_usage": None}
    grants: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        (
            "license_keys",
            license_keys,
            {"license_key_id": "lk_1", "display_key": "****-ABCD"},
        ),
        ("github_repository", {}, {"repository_owner": "o", "permission": "admin"}),
        (
            "meter_credit",
            {"units": 10, "rollover": False, "meter_id": str(meter.id)},
            {"last_credited_units": 10},
        ),
    ]
    for benefit_type, properties, grant_properties in grants:
        benefit = await factories.create_benefit_with_properties(
            session, organization=organization, type=benefit_type, properties=properties
        )
        await factories.create_benefit_grant(
            session, customer=customer, benefit=benefit, properties=grant_properties
        )
    checkout = await factories.create_checkout(
        session, organization=organization, customer=customer
    )
    order = await factories.create_order(session, customer=customer, checkout=checkout)
    await factories.create_payment(
        session, organization=organization, order=order, checkout=checkout, amount=400
    )
    return checkout.id


@dataclass(slots=True)
class _Api:
    client: httpx.AsyncClient

    async def send(
        self, method: str, path: str, body: Any = None, *, status: int = 201
    ) -> dict[str, Any]:
        response = await self.client.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
        document: dict[str, Any] = response.json()
        return document

    async def post(self, path: str, body: Any, *, status: int = 201) -> dict[str, Any]:
        return await self.send("POST", path, body, status=status)

    async def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get(path, params={"limit": 100, **params})
        assert response.status_code == 200, (path, response.text)
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def _ids(documents: Iterable[dict[str, Any]]) -> list[str]:
    return [document["id"] for document in documents]


async def _seed_through_api(api: _Api, seeded: Seeded) -> None:
    meters = await _seed_meters(api)
    seeded.meter_ids = _ids(meters)
    benefits = await _seed_benefits(api, meters[0])
    seeded.benefit_ids = _ids(benefits)
    seeded.deletable_benefit_ids = _ids(
        [
            await api.post(
                "/v1/benefits/",
                {"type": "custom", "description": f"Doomed {index}", "properties": {}},
            )
            for index in range(3)
        ]
    )
    products = await _seed_products(api, benefits, meters[0])
    seeded.product_ids = _ids(products)
    await _seed_team(api, seeded)
    await _seed_subscriptions(api, seeded, products)
    await _seed_payments(api, seeded)
    await _seed_events(api, seeded)
    seeded.customer_meter_ids = _ids(await api.items("/v1/customer-meters/"))


async def _seed_meters(api: _Api) -> list[dict[str, Any]]:
    def named(name: str) -> dict[str, Any]:
        return {
            "conjunction": "and",
            "clauses": [{"property": "name", "operator": "eq", "value": name}],
        }

    return [
        await api.post(
            "/v1/meters/",
            {"name": "API calls", "filter": named("api_call"), "aggregation": {"func": "count"}},
        ),
        await api.post(
            "/v1/meters/",
            {
                "name": "Tokens",
                "filter": named("completion"),
                "aggregation": {"func": "sum", "property": "tokens"},
                "metadata": {"unit": "token"},
            },
        ),
        await api.post(
            "/v1/meters/",
            {
                "name": "Active users",
                "filter": named("login"),
                "aggregation": {"func": "unique", "property": "user"},
            },
        ),
    ]


async def _seed_benefits(api: _Api, meter: dict[str, Any]) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = [
        {"type": "custom", "description": "Priority support", "properties": {"note": "Hi"}},
        {
            "type": "license_keys",
            "description": "License key",
            "properties": {"prefix": "ST", "limit_usage": 5},
            "metadata": {"tier": "gold"},
        },
        {
            "type": "meter_credit",
            "description": "100 API calls",
            "properties": {"units": 100, "rollover": False, "meter_id": meter["id"]},
        },
    ]
    return [await api.post("/v1/benefits/", body) for body in bodies]


async def _seed_products(
    api: _Api, benefits: list[dict[str, Any]], meter: dict[str, Any]
) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = [
        {
            "name": "Pro monthly",
            "recurring_interval": "month",
            "prices": [{"amount_type": "fixed", "price_amount": 1000}],
            "metadata": {"tier": "pro"},
        },
        {"name": "Free", "recurring_interval": "month", "prices": [{"amount_type": "free"}]},
        {
            "name": "Trial monthly",
            "recurring_interval": "month",
            "trial_interval": "day",
            "trial_interval_count": 14,
            "prices": [{"amount_type": "fixed", "price_amount": 500}],
        },
        {
            "name": "Usage",
            "recurring_interval": "month",
            "prices": [
                {"amount_type": "fixed", "price_amount": 200},
                {"amount_type": "metered_unit", "meter_id": meter["id"], "unit_amount": "0.5"},
            ],
        },
        {"name": "Lifetime", "prices": [{"amount_type": "fixed", "price_amount": 9900}]},
    ]
    products = [await api.post("/v1/products/", body) for body in bodies]
    benefit_ids = _ids(benefits)
    products[0] = await api.post(
        f"/v1/products/{products[0]['id']}/benefits", {"benefits": benefit_ids}, status=200
    )
    products[1] = await api.post(
        f"/v1/products/{products[1]['id']}/benefits", {"benefits": benefit_ids[:1]}, status=200
    )
    return products


async def _seed_team(api: _Api, seeded: Seeded) -> None:
    """A team customer with its owner and members; some members are only for the deletes."""
    team = await api.post(
        "/v1/customers/",
        {
            "type": "team",
            "email": "billing@st-team.dev",
            "name": "Team",
            "external_id": "st-team",
            "owner": {"email": "owner@st-team.dev", "name": "Owner", "external_id": "st-owner"},
        },
    )
    seeded.team_id = team["id"]
    seeded.team_external_id = "st-team"
    members = f"/v1/customers/{team['id']}/members"
    for index in range(3):
        await api.post(
            members,
            {
                "email": f"member{index}@st-team.dev",
                "name": f"Member {index}",
                "external_id": f"st-member-{index}",
                "role": "billing_manager" if index == 0 else "member",
            },
        )
    for index in range(4):
        await api.post(
            members, {"email": f"doomed{index}@st-team.dev", "external_id": f"st-gone-{index}"}
        )
    for member in await api.items(members):
        external_id = member["external_id"] or ""
        if external_id.startswith("st-gone-"):
            if int(external_id[-1]) < 2:
                seeded.deletable_member_ids.append(member["id"])
            else:
                seeded.deletable_member_external_ids.append(external_id)
        elif member["role"] != "owner":
            seeded.member_ids.append(member["id"])
            seeded.member_external_ids.append(external_id)


async def _seed_subscriptions(api: _Api, seeded: Seeded, products: list[dict[str, Any]]) -> None:
    """Subscriptions of the kept customers to the recurring products (each opens an order),
    and a few more kept for the revoking operation."""
    monthly, free, trial, usage, _ = products
    plan = [
        (seeded.customer_ids[1], monthly),
        (seeded.customer_ids[2], trial),
        (seeded.customer_ids[3], usage),
        (seeded.team_id, free),
    ]
    for customer_id, product in plan:
        subscription = await api.post(
            "/v1/subscriptions/",
            {"product_id": product["id"], "customer_id": customer_id, "metadata": {"seat": 1}},
        )
        seeded.subscription_ids.append(subscription["id"])
    for customer_id in seeded.customer_ids[1:3]:
        subscription = await api.post(
            "/v1/subscriptions/", {"product_id": free["id"], "customer_id": customer_id}
        )
        seeded.revocable_subscription_ids.append(subscription["id"])


async def _seed_payments(api: _Api, seeded: Seeded) -> None:
    """Pay the orders the subscriptions opened but the last (one of them by a failed attempt
    first), which is left for the payments the fuzzing records, and refund part of one."""
    orders = await api.items("/v1/orders/")
    seeded.order_ids = _ids(orders)
    unpaid = [order for order in orders if order["status"] == "pending"]
    assert len(unpaid) >= 2, orders
    for index, order in enumerate(unpaid[:-1]):
        if index == 0:
            await api.post("/v1/payments/", {"order_id": order["id"], "status": "failed"})
        await api.post(
            "/v1/payments/",
            {"order_id": order["id"], "status": "succeeded", "method": "card"},
        )
    await api.post(
        "/v1/refunds/",
        {"order_id": unpaid[0]["id"], "amount": 100, "reason": "customer_request"},
    )
    seeded.payment_ids = _ids(await api.items("/v1/payments/"))


async def _seed_events(api: _Api, seeded: Seeded) -> None:
    events: list[dict[str, Any]] = []
    for index, customer_id in enumerate(seeded.customer_ids):
        events.append({"name": "api_call", "customer_id": customer_id})
        events.append(
            {
                "name": "completion",
                "external_customer_id": seeded.customer_external_ids[index],
                "metadata": {"tokens": 10 * index + 1, "model": "small"},
            }
        )
        events.append({"name": "login", "customer_id": customer_id, "metadata": {"user": "u1"}})
    await api.post("/v1/events/ingest", {"events": events}, status=200)
    seeded.event_ids = _ids(await api.items("/v1/events/"))
    seeded.event_names = ["api_call", "completion", "login"]
