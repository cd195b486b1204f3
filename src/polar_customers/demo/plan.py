"""The demo's customers and what happens to them: who subscribes to what and when, who
pays, cancels or is refunded, who buys the one-time product, and each one's usage events.
Seeded: every run plans the same data, at times given in seconds before the run's `now`."""

import random
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SEED = 11
DAY = 86_400


class Fate(StrEnum):
    paid = "paid"
    payment_failed = "payment_failed"  # the subscription is past due
    cancel_at_period_end = "cancel_at_period_end"
    revoked = "revoked"
    partially_refunded = "partially_refunded"


@dataclass(frozen=True)
class SubscriptionPlan:
    product: str
    started: int
    """Seconds before `now`, as every time of the plan."""
    fate: Fate
    changed: int
    """When the fate happened (the cancellation, the revocation, the refund)."""


@dataclass(frozen=True)
class PurchasePlan:
    bought: int
    refunded: int | None


@dataclass(frozen=True)
class UsageEvent:
    name: str
    ago: int
    metadata: dict[str, Any]


@dataclass(frozen=True)
class CustomerPlan:
    number: int
    body: dict[str, Any]
    """The customer to create, as its API body."""
    members: tuple[dict[str, Any], ...]
    subscription: SubscriptionPlan | None
    purchase: PurchasePlan | None
    usage: tuple[UsageEvent, ...]

    @property
    def external_id(self) -> str:
        return f"demo_customer_{self.number:02d}"


_PEOPLE = (
    "Amara Okafor", "Lukas Schneider", "Sofia Rossi", "Hiroshi Tanaka", "Emma Dubois",
    "Mateo García", "Priya Sharma", "Oliver Smith", "Chloé Martin", "Noah Johnson",
    "Ingrid Larsen", "Wei Chen", "Fatima Zahra", "Jonas Berg", "Isabella Costa", "Daniel Kim",
    "Aisha Bello", "Lucas Müller", "Mia Novák", "Ethan Brown", "Yuki Sato", "Elena Petrova",
    "Omar Haddad", "Grace O'Brien",
)  # fmt: skip
_TEAM = "Northwind Traders"
_TEAM_MEMBERS = (
    {"email": "maria.anders@northwind.example.com", "name": "Maria Anders", "role": "member"},
    {
        "email": "thomas.hardy@northwind.example.com",
        "name": "Thomas Hardy",
        "role": "billing_manager",
    },
)
_ADDRESSES = {
    1: {"line1": "14 Hanover Square", "city": "London", "postal_code": "W1S 1HP", "country": "GB"},
    2: {"line1": "Friedrichstr. 68", "city": "Berlin", "postal_code": "10117", "country": "DE"},
    4: {"line1": "1-1 Marunouchi", "city": "Tokyo", "postal_code": "100-0005", "country": "JP"},
    5: {"line1": "12 rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"},
    10: {
        "line1": "500 Market Street",
        "city": "San Francisco",
        "state": "CA",
        "postal_code": "94105",
        "country": "US",
    },
    25: {
        "line1": "100 King Street West",
        "city": "Toronto",
        "state": "ON",
        "postal_code": "M5X 1A9",
        "country": "CA",
    },
}
_LOCALES = {"DE": "de", "JP": "ja", "FR": "fr"}
# Customers 1-12 are on Pro, 13-16 and the team on Pro (yearly), 17-21 on Free, 22-24 on
# nothing; 1, 22 and 23 bought the workshop (1's was refunded).
_FATES = {
    4: Fate.payment_failed,
    7: Fate.cancel_at_period_end,
    10: Fate.revoked,
    15: Fate.partially_refunded,
}
_BUYERS = {1: True, 22: False, 23: False}  # whether the purchase was refunded


def _product_of(number: int) -> str | None:
    if number <= 12:
        return "pro"
    if number <= 16 or number == 25:
        return "pro_yearly"
    return "free" if number <= 21 else None


def _email_of(name: str) -> str:
    """`chloe.martin@example.com` of "Chloé Martin"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return ascii_name.lower().replace("'", "").replace(" ", ".") + "@example.com"


def _customer_body(rng: random.Random, number: int, plan: str | None) -> dict[str, Any]:
    name = _TEAM if number == 25 else _PEOPLE[number - 1]
    address = _ADDRESSES.get(number)
    body: dict[str, Any] = {
        "external_id": f"demo_customer_{number:02d}",
        "name": name,
        "email": "billing@northwind.example.com" if number == 25 else _email_of(name),
        "metadata": {
            "plan": plan or "none",
            "segment": "enterprise" if number == 25 else rng.choice(("startup", "smb", "solo")),
            "signup_source": rng.choice(("organic", "referral", "ads", "partner")),
            "seats": 12 if number == 25 else rng.randint(1, 5),
            "newsletter": rng.random() < 0.6,
        },
    }
    if number == 25:
        body["type"] = "team"
    if address is not None:
        body["billing_address"] = address
        body["locale"] = _LOCALES.get(address["country"])
    return body


def _subscription(rng: random.Random, number: int, product: str) -> SubscriptionPlan:
    days = rng.randint(30, 300) if product == "pro_yearly" else rng.randint(3, 25)
    started = days * DAY + rng.randint(0, DAY - 1)
    return SubscriptionPlan(product, started, _FATES.get(number, Fate.paid), started // 2)


def _usage(rng: random.Random, plan: SubscriptionPlan) -> tuple[UsageEvent, ...]:
    """API calls and data transfers since the subscription started (in the last 30 days at
    most), until now or until it was revoked."""
    first = min(plan.started, 30 * DAY) - 3600
    last = plan.changed + 60 if plan.fate == Fate.revoked else 120
    calls = rng.randint(20, 80) if plan.product == "free" else rng.randint(150, 400)
    events = [
        UsageEvent(
            "api_call",
            rng.randint(last, first),
            {
                "endpoint": rng.choice(("/v1/search", "/v1/documents", "/v1/exports")),
                "method": rng.choice(("GET", "GET", "GET", "POST")),
                "status": rng.choice((200,) * 30 + (429, 500)),
                "duration_ms": rng.randint(12, 900),
            },
        )
        for _ in range(calls)
    ]
    events += [
        UsageEvent(
            "data_transfer",
            rng.randint(last, first),
            {"gb": round(rng.uniform(0.05, 4.0), 2), "region": rng.choice(("eu-west", "us-east"))},
        )
        for _ in range(rng.randint(5, 20))
    ]
    return tuple(sorted(events, key=lambda event: -event.ago))


def _plan() -> tuple[CustomerPlan, ...]:
    rng = random.Random(SEED)
    plans = []
    for number in range(1, 26):
        product = _product_of(number)
        subscription = None if product is None else _subscription(rng, number, product)
        purchase = None
        if number in _BUYERS:
            bought = rng.randint(2, 20) * DAY + rng.randint(0, DAY - 1)
            purchase = PurchasePlan(bought, bought // 2 if _BUYERS[number] else None)
        plans.append(
            CustomerPlan(
                number=number,
                body=_customer_body(rng, number, product),
                members=_TEAM_MEMBERS if number == 25 else (),
                subscription=subscription,
                purchase=purchase,
                usage=() if subscription is None else _usage(rng, subscription),
            )
        )
    return tuple(plans)


PLAN = _plan()
SUBSCRIBED = tuple(plan for plan in PLAN if plan.subscription is not None)
BUYING = tuple(plan for plan in PLAN if plan.purchase is not None)
