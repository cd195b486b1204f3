"""Property-based run of Schemathesis against our own OpenAPI document, in-process.

Every operation of the document is called with generated requests (the schema's examples, the
coverage phase's boundary values, then Hypothesis fuzzing; valid and invalid inputs alike) on a
real application built with `create_app(settings)` over the run's committed database. Each
response must not be a 5xx, must use a documented status code and content type, and must match
its documented schema and headers.

One organization with every kind of row is committed first (see `schemathesis_support`), with
a token of every grantable scope. Dictionaries steer some generated IDs, external IDs, emails and
organization IDs to those rows, so that lookups, updates and uniqueness checks sometimes hit real
data. Deletes (of customers, members, benefits, subscriptions) only ever get the rows kept for
them, so the other operations keep finding theirs. So that valid inputs get past the checks of
the caller itself and reach the operation, generated `uuid4` values are UUIDs, every request
names the token's organization in `Polar-Organization`, and a body's `organization_id` UUIDs are
sent as null (an organization token may not name one).

Generation is bounded and deterministic (fixed seed, derandomized, no example database), so a
failure reproduces and the module stays within about three minutes per engine. The customer
operations get more examples than the billing ones: they are the API this server is about.

The last tests replay, with plain requests, what earlier fuzzing runs found.
"""

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.python import asgi

from polar_customers.app import create_app
from polar_customers.config import Settings
from tests import factories
from tests.schemathesis_support import Seeded, seed

SEED = 20251005
CUSTOMER_OPERATIONS = "^customers:"
CUSTOMER_MAX_EXAMPLES = 100
BILLING_MAX_EXAMPLES = 30
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
HEALTH_CHECKS = [
    # Real database round trips are slow next to data generation, and invalid inputs are
    # generated on purpose; neither says anything about the server.
    hypothesis.HealthCheck.too_slow,
    hypothesis.HealthCheck.filter_too_much,
    hypothesis.HealthCheck.data_too_large,
    hypothesis.HealthCheck.large_base_example,
]


# Our IDs are documented as `uuid4`, a format Schemathesis does not know: without this, valid
# inputs would carry arbitrary strings where IDs go, and stop at validation.
schemathesis.openapi.format("uuid4", st.uuids(version=4).map(str))


@pytest.fixture(scope="module")
async def seeded(settings: Settings) -> Seeded:
    return await seed(settings)


def _dictionaries(seeded: Seeded) -> dict[str, list[str]]:
    return {
        "organization_ids": [seeded.organization_id],
        "customer_ids": [*seeded.customer_ids, seeded.team_id],
        "customer_external_ids": [*seeded.customer_external_ids, seeded.team_external_id],
        "emails": seeded.emails,
        "deletable_customer_ids": seeded.deletable_customer_ids,
        "deletable_customer_external_ids": seeded.deletable_customer_external_ids,
        "team_ids": [seeded.team_id],
        "team_external_ids": [seeded.team_external_id],
        "member_ids": seeded.member_ids,
        "member_external_ids": seeded.member_external_ids,
        "deletable_member_ids": seeded.deletable_member_ids,
        "deletable_member_external_ids": seeded.deletable_member_external_ids,
        "meter_ids": seeded.meter_ids,
        "benefit_ids": seeded.benefit_ids,
        "deletable_benefit_ids": seeded.deletable_benefit_ids,
        "product_ids": seeded.product_ids,
        "subscription_ids": seeded.subscription_ids,
        "revocable_subscription_ids": seeded.revocable_subscription_ids,
        "order_ids": seeded.order_ids,
        "checkout_ids": seeded.checkout_ids,
        "payment_ids": seeded.payment_ids,
        "event_ids": seeded.event_ids,
        "event_names": seeded.event_names,
        "customer_meter_ids": seeded.customer_meter_ids,
    }


# Inputs that name a row, wherever they appear: `parameter: (dictionary, probability)`.
# Existing emails and external IDs in bodies exercise the uniqueness checks of create and update.
SHARED_BINDINGS = {
    "query.organization_id": ("organization_ids", 0.3),
    "query.customer_id": ("customer_ids", 0.4),
    "query.external_customer_id": ("customer_external_ids", 0.4),
    "query.email": ("emails", 0.3),
    "query.product_id": ("product_ids", 0.4),
    "query.benefit_id": ("benefit_ids", 0.4),
    "query.meter_id": ("meter_ids", 0.4),
    "query.order_id": ("order_ids", 0.4),
    "query.checkout_id": ("checkout_ids", 0.4),
    "query.subscription_id": ("subscription_ids", 0.4),
    "query.name": ("event_names", 0.4),
    "body.email": ("emails", 0.1),
    "body.external_id": ("customer_external_ids", 0.1),
    "body.product_id": ("product_ids", 0.5),
    "body.customer_id": ("customer_ids", 0.5),
    "body.external_customer_id": ("customer_external_ids", 0.5),
    "body.order_id": ("order_ids", 0.5),
    "body.properties.meter_id": ("meter_ids", 0.5),
    "body.prices[*].meter_id": ("meter_ids", 0.5),
    "body.benefits[*]": ("benefit_ids", 0.5),
    "body.events[*].customer_id": ("customer_ids", 0.5),
    "body.events[*].external_customer_id": ("customer_external_ids", 0.5),
    "body.events[*].name": ("event_names", 0.3),
}
# The rows named in the path, by operation: each operation matches one pattern only.
PATH_BINDINGS: dict[str, dict[str, tuple[str, float]]] = {
    r"^customers:(?!members:|delete)": {
        "path.id": ("customer_ids", 0.5),
        "path.external_id": ("customer_external_ids", 0.5),
    },
    r"^customers:delete(_external)?$": {
        "path.id": ("deletable_customer_ids", 0.2),
        "path.external_id": ("deletable_customer_external_ids", 0.2),
    },
    r"^customers:members:(?!delete)": {
        "path.id": ("team_ids", 0.6),
        "path.external_id": ("team_external_ids", 0.6),
        "path.member_id": ("member_ids", 0.5),
        "path.member_external_id": ("member_external_ids", 0.5),
    },
    r"^customers:members:delete": {
        "path.id": ("team_ids", 0.6),
        "path.external_id": ("team_external_ids", 0.6),
        "path.member_id": ("deletable_member_ids", 0.2),
        "path.member_external_id": ("deletable_member_external_ids", 0.2),
    },
    r"^products:": {"path.id": ("product_ids", 0.5)},
    r"^benefits:(?!delete$)": {"path.id": ("benefit_ids", 0.5)},
    r"^benefits:delete$": {"path.id": ("deletable_benefit_ids", 0.2)},
    r"^subscriptions:(?!revoke$)": {"path.id": ("subscription_ids", 0.5)},
    r"^subscriptions:revoke$": {"path.id": ("revocable_subscription_ids", 0.2)},
    r"^meters:": {"path.id": ("meter_ids", 0.5)},
    r"^customer_meters:": {"path.id": ("customer_meter_ids", 0.5)},
    r"^events:": {"path.id": ("event_ids", 0.5)},
    r"^orders:": {"path.id": ("order_ids", 0.5)},
    r"^payments:": {"path.id": ("payment_ids", 0.5)},
}


def _parameters(bindings: dict[str, tuple[str, float]]) -> dict[str, Any]:
    return {
        parameter: {"dictionary": dictionary, "probability": probability}
        for parameter, (dictionary, probability) in bindings.items()
    }


def _config(seeded: Seeded) -> schemathesis.Config:
    """Phases, checks, the bearer token, and the dictionaries that point inputs at real rows."""
    checks: dict[str, Any] = {"enabled": False}
    checks.update({name: {"enabled": True} for name in CHECKS})
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Generated `Polar-Organization` headers name no organization the token reaches, and
            # the coverage phase keeps its one generated value: every request would stop there.
            "headers": {
                "Authorization": f"Bearer {seeded.token}",
                "Polar-Organization": seeded.organization_id,
            },
            "checks": checks,
            "generation": {"mode": "all", "database": "none", "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "dictionaries": {
                name: {"values": values} for name, values in _dictionaries(seeded).items()
            },
            "parameters": _parameters(SHARED_BINDINGS),
            "operations": [
                {"include-operation-id-regex": pattern, "parameters": _parameters(bindings)}
                for pattern, bindings in PATH_BINDINGS.items()
            ],
        }
    )


@pytest.fixture(autouse=True)
def _schemathesis_node_id(request: pytest.FixtureRequest) -> None:
    """Let Schemathesis 4.32 rename the running item on pytest 9.2.

    Its lazy schemas read and write `item._nodeid`, which pytest 9.2 replaced with a structured
    `_id`. The attribute only feeds Schemathesis's own messages; pytest still reports each
    operation as a subtest.
    """
    request.node._nodeid = request.node.nodeid


@pytest.fixture(scope="module")
def api_schema(settings: Settings, seeded: Seeded) -> Iterator[Any]:
    """Our own document, loaded from the application it describes, which uses the real engine.

    Schemathesis serves the application from its own event loop thread and ends its lifespan
    (disposing the engines in that loop) when the test that started it ends; the teardown makes
    sure of it, since pooled SQLite connections would otherwise keep the process alive.
    """
    app = create_app(settings)
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(seeded))
    asgi.shutdown_lifespans()


schema = schemathesis.pytest.from_fixture("api_schema")


def _without_organization_ids(value: Any) -> Any:
    """`value` with each UUID under an `organization_id` key made null."""
    if isinstance(value, list):
        return [_without_organization_ids(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: None
        if key == "organization_id" and isinstance(item, str) and _is_uuid(item)
        else _without_organization_ids(item)
        for key, item in value.items()
    }


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _call_and_validate(case: Case[Any]) -> None:
    """An organization token may not name an organization in a body, so a generated UUID there
    (and the coverage phase keeps one in all its cases) stops every create at that check. Those
    become null, as clients with an organization token send; other values still test the
    validation of the field."""
    case.body = _without_organization_ids(case.body)
    case.call_and_validate()


def test_each_operation_with_a_path_has_one_set_of_rows(settings: Settings) -> None:
    """Every operation whose path names a row matches exactly one pattern of PATH_BINDINGS:
    Schemathesis uses the parameters of the first matching entry only, and an operation left
    out would only ever look up random IDs."""
    patterns = [re.compile(pattern) for pattern in PATH_BINDINGS]
    document = create_app(settings).openapi()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            operation_id = operation["operationId"]
            matching = [pattern.pattern for pattern in patterns if pattern.search(operation_id)]
            assert len(matching) <= 1, (operation_id, matching)
            if "{" in path:
                assert matching, operation_id


@schema.include(operation_id_regex=CUSTOMER_OPERATIONS).parametrize()
@hypothesis.settings(
    max_examples=CUSTOMER_MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=HEALTH_CHECKS,
)
def test_customer_operations(case: Case[Any]) -> None:
    _call_and_validate(case)


@schema.exclude(operation_id_regex=CUSTOMER_OPERATIONS).parametrize()
@hypothesis.settings(
    max_examples=BILLING_MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=HEALTH_CHECKS,
)
def test_billing_operations(case: Case[Any]) -> None:
    _call_and_validate(case)


# Findings of earlier, longer fuzzing runs, replayed as plain requests.


@pytest.fixture(scope="module")
async def replay_client(settings: Settings, seeded: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    headers = factories.bearer(seeded.token)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client
    await app.state.database.dispose()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/customers/"),
        ("PATCH", "/v1/customers/{id}"),
        ("PATCH", "/v1/customers/external/{external_id}"),
    ],
)
async def test_undecodable_json_body_is_a_validation_error(
    replay_client: httpx.AsyncClient, seeded: Seeded, method: str, path: str
) -> None:
    """A JSON body that is not valid UTF-8 is malformed JSON: 422 `json_invalid`, never 400."""
    url = path.format(id=seeded.customer_ids[0], external_id=seeded.customer_external_ids[0])
    response = await replay_client.request(
        method, url, content=b"\xff\x17\xfe}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "RequestValidationError"
    assert [(error["type"], error["loc"][0]) for error in body["detail"]] == [
        ("json_invalid", "body")
    ]


async def test_id_with_trailing_newline_is_not_routed_to_list(
    replay_client: httpx.AsyncClient,
) -> None:
    """`GET /v1/customers/%0A` is a get by ID (a 422 for the bad UUID), not a customer list."""
    response = await replay_client.get("/v1/customers/%0A")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "RequestValidationError"
    assert [(error["type"], error["loc"]) for error in body["detail"]] == [
        ("uuid_parsing", ["path", "id"])
    ]


# A timestamp whose offset takes it outside the years a datetime holds, once in UTC.
BEFORE_YEAR_ONE = "0001-01-01T00:00:00+00:01"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-00:01"
OUTSIDE_UTC_REQUESTS = [
    (
        "GET",
        "/v1/meters/{meter}/quantities",
        {
            "start_timestamp": BEFORE_YEAR_ONE,
            "end_timestamp": "2000-01-01T00:00:00Z",
            "interval": "day",
        },
        None,
        "start_timestamp",
    ),
    (
        "GET",
        "/v1/meters/{meter}/quantities",
        {
            "start_timestamp": "2000-01-01T00:00:00Z",
            "end_timestamp": AFTER_YEAR_9999,
            "interval": "year",
        },
        None,
        "end_timestamp",
    ),
    ("GET", "/v1/events/", {"start_timestamp": BEFORE_YEAR_ONE}, None, "start_timestamp"),
    ("GET", "/v1/events/", {"end_timestamp": AFTER_YEAR_9999}, None, "end_timestamp"),
    (
        "POST",
        "/v1/events/ingest",
        None,
        {
            "events": [
                {"name": "api_call", "customer_id": "{customer}", "timestamp": BEFORE_YEAR_ONE}
            ]
        },
        "timestamp",
    ),
    (
        "PATCH",
        "/v1/subscriptions/{subscription}",
        None,
        {"trial_end": AFTER_YEAR_9999},
        "trial_end",
    ),
]


def _filled(value: Any, keys: dict[str, str]) -> Any:
    """`value` with the `{name}` placeholders of its strings replaced by seeded keys."""
    if isinstance(value, str):
        return value.format(**keys) if "{" in value else value
    if isinstance(value, dict):
        return {key: _filled(item, keys) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, keys) for item in value]
    return value


@pytest.mark.parametrize(("method", "path", "params", "body", "field"), OUTSIDE_UTC_REQUESTS)
async def test_timestamp_outside_the_utc_calendar_is_a_validation_error(
    replay_client: httpx.AsyncClient,
    seeded: Seeded,
    method: str,
    path: str,
    params: dict[str, str] | None,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    """`0001-01-01T00:00:00+00:01` is in year 0 in UTC: converting it raised an
    `OverflowError`, a 500 (docs/decisions.md#d1). It is a 422 on the field."""
    keys = {
        "meter": seeded.meter_ids[0],
        "customer": seeded.customer_ids[0],
        "subscription": seeded.subscription_ids[1],
    }
    response = await replay_client.request(
        method, _filled(path, keys), params=params, json=_filled(body, keys)
    )
    assert response.status_code == 422, response.text
    document = response.json()
    assert document["error"] == "RequestValidationError"
    # The subscription update is a union: its other members refuse the field as unknown.
    [error] = [error for error in document["detail"] if error["type"] == "value_error"]
    assert field in error["loc"], error
    assert "outside 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z" in error["msg"]


@pytest.mark.parametrize(
    ("interval", "start", "periods"),
    [
        ("hour", "9999-12-31T22:30:00Z", ["9999-12-31T22:30:00Z", "9999-12-31T23:30:00Z"]),
        ("day", "9999-12-30T12:00:00Z", ["9999-12-30T12:00:00Z", "9999-12-31T12:00:00Z"]),
        ("week", "9999-12-20T00:00:00Z", ["9999-12-20T00:00:00Z", "9999-12-27T00:00:00Z"]),
        ("month", "9999-11-30T00:00:00Z", ["9999-11-30T00:00:00Z", "9999-12-30T00:00:00Z"]),
        ("year", "9999-06-01T00:00:00Z", ["9999-06-01T00:00:00Z"]),
    ],
)
async def test_meter_quantities_end_on_the_last_day_of_the_calendar(
    replay_client: httpx.AsyncClient, seeded: Seeded, interval: str, start: str, periods: list[str]
) -> None:
    """A series whose next period would start after 9999-12-31 ends there; it raised an
    `OverflowError` (and, by month, a `ValueError` already on reaching December 9999)."""
    response = await replay_client.get(
        f"/v1/meters/{seeded.meter_ids[0]}/quantities",
        params={
            "start_timestamp": start,
            "end_timestamp": "9999-12-31T23:59:59Z",
            "interval": interval,
        },
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "quantities": [{"timestamp": moment, "quantity": 0.0} for moment in periods],
        "total": 0.0,
    }


async def test_event_before_the_year_1000_is_read_back_and_counted(
    replay_client: httpx.AsyncClient, seeded: Seeded
) -> None:
    """On SQLite, ingestion wrote the timestamp with `strftime`, which does not pad a year below
    1000 (`999-01-03 ...`): reading the event and counting it in quantities failed."""
    name = "st_year_999"
    created = await replay_client.post(
        "/v1/meters/",
        json={
            "name": "Year 999",
            "filter": {
                "conjunction": "and",
                "clauses": [{"property": "name", "operator": "eq", "value": name}],
            },
            "aggregation": {"func": "count"},
        },
    )
    assert created.status_code == 201, created.text
    timestamp = "0999-01-03T00:00:00Z"
    ingested = await replay_client.post(
        "/v1/events/ingest",
        json={
            "events": [
                {"name": name, "customer_id": seeded.customer_ids[0], "timestamp": timestamp}
            ]
        },
    )
    assert ingested.json() == {"inserted": 1}
    listed = await replay_client.get("/v1/events/", params={"name": name})
    assert listed.status_code == 200, listed.text
    [event] = listed.json()["items"]
    assert event["timestamp"] == timestamp
    read = await replay_client.get(f"/v1/events/{event['id']}")
    assert (read.status_code, read.json()["timestamp"]) == (200, timestamp)
    for interval in ("hour", "day", "week", "month", "year"):
        response = await replay_client.get(
            f"/v1/meters/{created.json()['id']}/quantities",
            params={
                "start_timestamp": timestamp,
                "end_timestamp": "0999-01-03T12:00:00Z",
                "interval": interval,
            },
        )
        assert response.status_code == 200, (interval, response.text)
        assert response.json()["total"] == 1.0, interval


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("POST", "/v1/events/ingest", 413, "RequestBodyTooLarge"),
        ("GET", "/v1/benefits/", 414, "URITooLong"),
    ],
)
async def test_request_limits_answer_documented_statuses(
    replay_client: httpx.AsyncClient,
    settings: Settings,
    seeded: Seeded,
    method: str,
    path: str,
    status: int,
    error: str,
) -> None:
    """Found by fuzzing: a batch of events over the body limit got a 413, and many long filters
    a 414, neither documented. Every operation now documents the request limits' statuses
    (and those that take a body, the 413)."""
    # An ingest batch has the larger of the two body limits; JSON allows trailing spaces.
    body = b'{"events": []}' + b" " * settings.max_ingest_body_bytes if method == "POST" else None
    params = {"query": "q" * settings.max_url_bytes} if method == "GET" else None
    response = await replay_client.request(method, path, params=params, content=body)
    refusal = (response.status_code, response.json()["error"])
    assert refusal == (status, error), response.text[:500]
    document = (await replay_client.get("/openapi.json")).json()
    responses = document["paths"][path][method.lower()]["responses"]
    assert responses[str(status)]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{error}"
    }
