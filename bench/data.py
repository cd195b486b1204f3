"""Deterministic, realistic customer rows, shaped exactly as the API stores them."""

import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "james mary john patricia robert jennifer michael linda william elizabeth david barbara "
    "richard susan joseph jessica thomas sarah charles karen daniel nancy matthew lisa anthony "
    "betty mark margaret donald sandra steven ashley paul kimberly andrew emily joshua donna "
    "kenneth michelle kevin carol brian amanda george melissa timothy deborah lucas emma noah "
    "olivia liam sofia hugo chloe elias maja oscar alma yuki hana arjun priya mateo lucia"
)
LAST_NAMES = _words(
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez "
    "gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris "
    "sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen "
    "hill flores green adams nelson baker hall rivera campbell mitchell carter roberts muller "
    "schmidt schneider fischer weber dubois moreau laurent bernard andersson johansson karlsson "
    "nilsson tanaka suzuki sato kumar sharma silva santos rossi russo ferrari kowalski novak"
)
DOMAINS = (
    ("gmail.com", 40),
    ("outlook.com", 12),
    ("yahoo.com", 8),
    ("icloud.com", 8),
    ("proton.me", 5),
    ("hey.com", 2),
    ("acme.io", 5),
    ("globex.com", 5),
    ("initech.dev", 5),
    ("example.org", 10),
)
PLANS = (("free", 50), ("starter", 25), ("pro", 18), ("enterprise", 7))
SOURCES = ("ads", "organic", "referral", "newsletter")
STREETS = ("Main St", "Oak Ave", "Maple Rd", "Market St", "High St", "Church Rd", "Park Lane")
# (country, weight, cities, subdivisions stored as the API normalizes them, or None)
COUNTRIES: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...] | None], ...] = (
    (
        "US",
        40,
        ("New York", "San Francisco", "Austin", "Seattle", "Chicago"),
        ("US-NY", "US-CA", "US-TX", "US-WA", "US-IL", "US-FL", "US-MA"),
    ),
    ("CA", 6, ("Toronto", "Vancouver", "Montreal"), ("CA-ON", "CA-BC", "CA-QC")),
    ("GB", 10, ("London", "Manchester", "Edinburgh"), None),
    ("DE", 10, ("Berlin", "Munich", "Hamburg"), None),
    ("FR", 8, ("Paris", "Lyon", "Marseille"), None),
    ("SE", 5, ("Stockholm", "Gothenburg", "Malmo"), None),
    ("NL", 5, ("Amsterdam", "Rotterdam", "Utrecht"), None),
    ("AU", 5, ("Sydney", "Melbourne", "Brisbane"), None),
    ("JP", 5, ("Tokyo", "Osaka", "Kyoto"), None),
    ("BR", 6, ("Sao Paulo", "Rio de Janeiro", "Curitiba"), None),
)
TAX_FORMATS = {"US": ("us_ein", 9), "CA": ("ca_bn", 9), "GB": ("gb_vat", 9), "AU": ("au_abn", 11)}
YEAR = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One customer with the Python values the ORM would hold for it."""

    id: uuid.UUID
    created_at: datetime
    modified_at: datetime | None
    external_id: str | None
    email: str
    email_verified: bool
    name: str | None
    billing_address: dict[str, Any] | None
    tax_id: list[str] | None
    user_metadata: dict[str, Any]


class _Weighted:
    """Weighted choice with precomputed cumulative weights."""

    def __init__(self, choices: tuple[tuple[str, int], ...]) -> None:
        self.names = [name for name, _ in choices]
        self.cumulative = list(itertools.accumulate(weight for _, weight in choices))

    def __call__(self, rng: random.Random) -> str:
        return rng.choices(self.names, cum_weights=self.cumulative)[0]


_domain, _plan = _Weighted(DOMAINS), _Weighted(PLANS)
_COUNTRY_WEIGHTS = list(itertools.accumulate(country[1] for country in COUNTRIES))


def _address(rng: random.Random) -> dict[str, Any]:
    country, _, cities, subdivisions = rng.choices(COUNTRIES, cum_weights=_COUNTRY_WEIGHTS)[0]
    # Key order and None placeholders as `AddressInput.model_dump(mode="json")` writes them.
    return {
        "line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "line2": f"Apt {rng.randint(1, 300)}" if rng.random() < 0.2 else None,
        "postal_code": f"{rng.randint(10000, 99999)}",
        "city": rng.choice(cities),
        "state": rng.choice(subdivisions) if subdivisions else None,
        "country": country,
    }


def _tax_id(rng: random.Random, address: dict[str, Any] | None) -> list[str]:
    country = address["country"] if address else "DE"
    if country in TAX_FORMATS:
        format_, digits = TAX_FORMATS[country]
        return [str(rng.randrange(10 ** (digits - 1), 10**digits)), format_]
    return [f"{country}{rng.randrange(10**8, 10**9)}", "eu_vat"]


def _metadata(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.1:
        return {}
    metadata: dict[str, Any] = {"plan": _plan(rng), "seats": rng.randint(1, 50)}
    metadata["vip"] = rng.random() < 0.05
    if rng.random() < 0.4:
        metadata["source"] = rng.choice(SOURCES)
    return metadata


def generate(count: int, *, now: datetime, seed: int = 42) -> Iterator[CustomerRow]:
    """`count` customers, the same for the same seed; ids are fresh uuid4s (never reused)."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        created_at = now - YEAR * rng.random()
        modified = rng.random() < 0.3
        address = _address(rng) if rng.random() < 0.7 else None
        yield CustomerRow(
            id=uuid.uuid4(),
            created_at=created_at,
            modified_at=created_at + (now - created_at) * rng.random() if modified else None,
            external_id=f"usr_{n}" if rng.random() < 0.9 else None,
            email=f"{first}.{last}{n}@{_domain(rng)}",
            email_verified=rng.random() < 0.6,
            name=f"{first.title()} {last.title()}" if rng.random() < 0.95 else None,
            billing_address=address,
            tax_id=_tax_id(rng, address) if rng.random() < 0.15 else None,
            user_metadata=_metadata(rng),
        )
