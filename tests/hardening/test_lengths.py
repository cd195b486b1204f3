"""Strings kept in an indexed column have a documented maximum, answered with a 422 on both
engines; filters compare values of any length without failing (docs/decisions.md#d45).

The values are made of distinct 4-byte characters: PostgreSQL compresses index entries, so a
repeated character would fit where real text does not."""

import random
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from polar_customers.kit.schemas import MAX_EXTERNAL_ID_LENGTH, MAX_NAME_LENGTH


def wide_text(length: int, *, seed: int = 0) -> str:
    """`length` random characters of 4 bytes each in UTF-8 (emoji and pictographs)."""
    rng = random.Random(seed)
    return "".join(chr(rng.randint(0x1F300, 0x1FAFF)) for _ in range(length))


def ascii_text(length: int, *, seed: int = 0) -> str:
    """`length` random printable ASCII letters and digits (nothing a URL or LIKE escapes)."""
    rng = random.Random(seed)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(length))


@pytest.fixture
async def targets(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    """What the URLs of the cases name: a team customer `acme` owned by member `olive`, and
    an individual customer without an external id."""
    team = await client.post(
        "/v1/customers/",
        json={
            "type": "team",
            "email": "billing@acme.dev",
            "external_id": "acme",
            "owner": {"email": "olive@acme.dev", "external_id": "olive"},
        },
        headers=headers,
    )
    individual = await client.post(
        "/v1/customers/", json={"email": "ian@example.com"}, headers=headers
    )
    assert (team.status_code, individual.status_code) == (201, 201)
    members = await client.get(f"/v1/customers/{team.json()['id']}/members", headers=headers)
    [owner] = members.json()["items"]
    return {"team": team.json()["id"], "owner": owner["id"], "individual": individual.json()["id"]}


@dataclass(frozen=True)
class LimitedField:
    """A write that stores `loc`'s value, and the read that shows it back. URLs name
    `targets` in braces; the read's also `{new}` (the id the write answered) and `{value}`."""

    method: str
    url: str
    body: dict[str, Any]  # "VALUE" marks where the value goes
    loc: tuple[str, ...]
    read: str
    shown: tuple[str | int, ...]  # where the read's body shows it
    limit: int

    def request_body(self, value: str) -> dict[str, Any]:
        def fill(node: Any) -> Any:
            if isinstance(node, dict):
                return {key: fill(item) for key, item in node.items()}
            return value if node == "VALUE" else node

        result: dict[str, Any] = fill(self.body)
        return result


NEW_EMAIL = {"email": "new@example.com"}
NAME, EXTERNAL_ID = MAX_NAME_LENGTH, MAX_EXTERNAL_ID_LENGTH
FIELDS = {
    "customer create name": LimitedField(
        method="POST", url="/v1/customers/", body={**NEW_EMAIL, "name": "VALUE"},
        loc=("name",), read="/v1/customers/{new}", shown=("name",), limit=NAME,
    ),
    "customer create external_id": LimitedField(
        method="POST", url="/v1/customers/", body={**NEW_EMAIL, "external_id": "VALUE"},
        loc=("external_id",), read="/v1/customers/external/{value}", shown=("external_id",),
        limit=EXTERNAL_ID,
    ),
    "customer create owner name": LimitedField(
        method="POST", url="/v1/customers/",
        body={"type": "team", "owner": {**NEW_EMAIL, "name": "VALUE"}},
        loc=("owner", "name"), read="/v1/customers/{new}/members", shown=("items", 0, "name"),
        limit=NAME,
    ),
    "customer create owner external_id": LimitedField(
        method="POST", url="/v1/customers/",
        body={"type": "team", "owner": {**NEW_EMAIL, "external_id": "VALUE"}},
        loc=("owner", "external_id"), read="/v1/customers/{new}/members",
        shown=("items", 0, "external_id"), limit=EXTERNAL_ID,
    ),
    "customer update name": LimitedField(
        method="PATCH", url="/v1/customers/{team}", body={"name": "VALUE"},
        loc=("name",), read="/v1/customers/{team}", shown=("name",), limit=NAME,
    ),
    "customer update external_id": LimitedField(
        method="PATCH", url="/v1/customers/{individual}", body={"external_id": "VALUE"},
        loc=("external_id",), read="/v1/customers/external/{value}", shown=("external_id",),
        limit=EXTERNAL_ID,
    ),
    "customer update by external id name": LimitedField(
        method="PATCH", url="/v1/customers/external/acme", body={"name": "VALUE"},
        loc=("name",), read="/v1/customers/external/acme", shown=("name",), limit=NAME,
    ),
    "member create name": LimitedField(
        method="POST", url="/v1/customers/{team}/members", body={**NEW_EMAIL, "name": "VALUE"},
        loc=("name",), read="/v1/customers/{team}/members/{new}", shown=("name",), limit=NAME,
    ),
    "member create external_id": LimitedField(
        method="POST", url="/v1/customers/external/acme/members",
        body={**NEW_EMAIL, "external_id": "VALUE"}, loc=("external_id",),
        read="/v1/customers/external/acme/members/{value}", shown=("external_id",),
        limit=EXTERNAL_ID,
    ),
    "member update name": LimitedField(
        method="PATCH", url="/v1/customers/{team}/members/{owner}", body={"name": "VALUE"},
        loc=("name",), read="/v1/customers/{team}/members/{owner}", shown=("name",),
        limit=NAME,
    ),
    "member update by external ids name": LimitedField(
        method="PATCH", url="/v1/customers/external/acme/members/olive", body={"name": "VALUE"},
        loc=("name",), read="/v1/customers/external/acme/members/olive", shown=("name",),
        limit=NAME,
    ),
}  # fmt: skip


def dig(document: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


async def write(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    targets: dict[str, str],
    field: LimitedField,
    value: str,
) -> httpx.Response:
    url = field.url.format(**targets)
    return await client.request(field.method, url, json=field.request_body(value), headers=headers)


@pytest.mark.parametrize("field", FIELDS.values(), ids=FIELDS.keys())
class TestLimitedFields:
    async def test_at_the_limit_is_stored(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        targets: dict[str, str],
        field: LimitedField,
    ) -> None:
        value = wide_text(field.limit)
        response = await write(client, headers, targets, field, value)
        assert response.status_code in (200, 201), response.text
        read = field.read.format(**targets, new=response.json()["id"], value=value)
        shown = await client.get(read, headers=headers)
        assert shown.status_code == 200, shown.text
        assert dig(shown.json(), field.shown) == value

    @pytest.mark.parametrize(
        "over",
        [lambda limit: wide_text(limit + 1), lambda limit: ascii_text(10_000)],
        ids=["one over", "10,000 characters"],
    )
    async def test_over_the_limit_is_a_422(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        targets: dict[str, str],
        field: LimitedField,
        over: Any,
    ) -> None:
        value = over(field.limit)
        response = await write(client, headers, targets, field, value)
        assert response.status_code == 422, response.text
        assert response.json() == {
            "error": "RequestValidationError",
            "detail": [
                {
                    "type": "string_too_long",
                    "loc": ["body", *field.loc],
                    "msg": f"String should have at most {field.limit} characters",
                    "input": value,
                    "ctx": {"max_length": field.limit},
                }
            ],
        }


# Filters: longer than any stored value and than a btree entry, within the URL limit. -------

LONG_FILTER_VALUES = {"6,000 ASCII": ascii_text(6000), "500 wide": wide_text(500)}
EMPTY_LISTS = [
    "/v1/customers/?query={value}",
    "/v1/customers/?email={value}",
    "/v1/customers/?metadata[key]={value}",
    "/v1/products/?query={value}",
    "/v1/benefits/?query={value}",
    "/v1/meters/?query={value}",
    "/v1/events/?name={value}",
    "/v1/events/?external_customer_id={value}",
    "/v1/events/names?query={value}",
    "/v1/subscriptions/?external_customer_id={value}",
    "/v1/customer-meters/?external_customer_id={value}",
    "/v1/payments/?method={value}",
]
NOT_FOUND = [
    ("GET", "/v1/customers/external/{value}"),
    ("PATCH", "/v1/customers/external/{value}"),
    ("DELETE", "/v1/customers/external/{value}"),
    ("GET", "/v1/customers/external/{value}/state"),
    ("GET", "/v1/customers/external/{value}/members"),
    ("GET", "/v1/customers/external/{value}/payment-methods"),
    ("GET", "/v1/customers/external/acme/members/{value}"),
]


@pytest.mark.parametrize("value", LONG_FILTER_VALUES.values(), ids=LONG_FILTER_VALUES.keys())
class TestLongFilters:
    @pytest.mark.parametrize("url", EMPTY_LISTS)
    async def test_lists_are_empty(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        targets: dict[str, str],
        url: str,
        value: str,
    ) -> None:
        response = await client.get(url.format(value=value), headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []

    @pytest.mark.parametrize(("method", "url"), NOT_FOUND)
    async def test_lookups_are_not_found(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        targets: dict[str, str],
        method: str,
        url: str,
        value: str,
    ) -> None:
        body = {"name": "x"} if method == "PATCH" else None
        response = await client.request(method, url.format(value=value), json=body, headers=headers)
        assert response.status_code == 404, response.text


# Values that reach an index through another column. --------------------------------------


async def test_unique_meter_counts_the_longest_metadata_value(
    client: httpx.AsyncClient, headers: dict[str, str], targets: dict[str, str]
) -> None:
    """A `unique` meter keeps the values it counted in a btree: the longest metadata string
    (500 characters) of 4-byte characters fits in it."""
    meter = await client.post(
        "/v1/meters/",
        json={
            "name": "Seats",
            "filter": {"conjunction": "and", "clauses": []},
            "aggregation": {"func": "unique", "property": "seat"},
        },
        headers=headers,
    )
    assert meter.status_code == 201, meter.text
    events = [
        {"name": "seat", "customer_id": targets["individual"], "metadata": {"seat": value}}
        for value in (wide_text(500, seed=1), wide_text(500, seed=2), wide_text(500, seed=1))
    ]
    ingested = await client.post("/v1/events/ingest", json={"events": events}, headers=headers)
    assert ingested.status_code == 200, ingested.text
    meters = await client.get(
        "/v1/customer-meters/",
        params={"customer_id": targets["individual"], "meter_id": meter.json()["id"]},
        headers=headers,
    )
    [customer_meter] = meters.json()["items"]
    assert customer_meter["consumed_units"] == 2


async def test_unindexed_strings_are_stored_at_any_length(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """Address lines and tax ids live in unindexed JSON columns: no maximum but the body's."""
    line1, tax_id = ascii_text(200_000), wide_text(20_000)
    created = await client.post(
        "/v1/customers/",
        json={
            "email": "long@example.com",
            "billing_address": {"country": "FR", "line1": line1},
            "tax_id": [tax_id, "eu_vat"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text[:500]
    shown = (await client.get(f"/v1/customers/{created.json()['id']}", headers=headers)).json()
    assert (shown["billing_address"]["line1"], shown["tax_id"]) == (line1, [tax_id, "eu_vat"])
