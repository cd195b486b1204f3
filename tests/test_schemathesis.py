"""Property-based run of Schemathesis against our own OpenAPI document, in-process.

Every customer operation is called with generated requests (the schema's examples, the coverage
phase's boundary values, then Hypothesis fuzzing; valid and invalid inputs alike) on a real
application built with `create_app(settings)` over the run's committed database. Each response
must not be a 5xx, must use a documented status code and content type, and must match its
documented schema and headers.

An organization, its read+write token and a few customers are committed first, one of them
with subscriptions, benefit grants, meters, orders and payments (so that state and balance
responses carry every nested schema). Dictionaries
steer some generated IDs, external IDs, emails and organization IDs to those rows, so that
lookups, updates and uniqueness checks sometimes hit real data. Deletes only ever get the
customers kept for them, so the other operations keep finding theirs.

Generation is bounded and deterministic (fixed seed, derandomized, no example database), so a
failure reproduces and the module stays within a couple of minutes per engine.

The last tests replay, with plain requests, what earlier fuzzing runs found.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.python import asgi
from sqlalchemy.ext.asyncio import AsyncSession

from polar_customers.app import create_app
from polar_customers.config import Settings
from polar_customers.db import Database
from polar_customers.models import Customer, Organization
from tests import factories

SEED = 20251005
MAX_EXAMPLES = 200
CUSTOMER_OPERATIONS = "^customers:"
DELETE_OPERATIONS = ["customers:delete", "customers:delete_external"]
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]


@dataclass(frozen=True, slots=True)
class Seeded:
    """What the module committed: the organization's token and its customers' keys."""

    token: str
    organization_id: uuid.UUID
    ids: list[str]
    external_ids: list[str]
    emails: list[str]
    deletable_ids: list[str]
    deletable_external_ids: list[str]


async def _seed_state(
    session: AsyncSession, organization: Organization, customer: Customer
) -> None:
    """What a customer's state and balance show: one of each kind of row."""
    subscription = await factories.create_subscription(
        session, customer=customer, status="trialing", custom_field_data={"size": 3}
    )
    meter = await factories.create_meter(session, organization=organization)
    await factories.create_subscription_meter(
        session, subscription=subscription, meter=meter, consumed_units=2.5, credited_units=10
    )
    await factories.create_customer_meter(
        session, customer=customer, meter=meter, consumed_units=2.5, credited_units=10
    )
    grants: list[tuple[str, dict[str, Any]]] = [
        ("license_keys", {"license_key_id": "lk_1", "display_key": "****-ABCD"}),
        ("github_repository", {"repository_owner": "o", "permission": "admin"}),
        ("meter_credit", {"last_credited_units": 10}),
    ]
    for benefit_type, properties in grants:
        benefit = await factories.create_benefit(
            session, organization=organization, type=benefit_type, metadata={"k": 1}
        )
        await factories.create_benefit_grant(
            session, customer=customer, benefit=benefit, properties=properties
        )
    checkout = await factories.create_checkout(
        session, organization=organization, customer=customer
    )
    order = await factories.create_order(session, customer=customer, checkout=checkout)
    await factories.create_payment(
        session, organization=organization, order=order, checkout=checkout, amount=400
    )


@pytest.fixture(scope="module")
async def seeded(settings: Settings) -> Seeded:
    database = Database(settings)
    try:
        async with database.write_sessions() as session:
            organization = await factories.create_organization(session, name="Schemathesis")
            token = await factories.create_organization_token(session, organization=organization)
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
            await _seed_state(session, organization, kept[0])
            doomed = [
                await factories.create_customer(
                    session,
                    organization=organization,
                    external_id=f"st-doomed-{index}",
                    metadata={"doomed": True},
                )
                for index in range(4)
            ]
            await session.commit()
            return Seeded(
                token=token,
                organization_id=organization.id,
                ids=[str(customer.id) for customer in kept],
                external_ids=[customer.external_id or "" for customer in kept],
                emails=[customer.email or "" for customer in kept],
                deletable_ids=[str(customer.id) for customer in doomed[:2]],
                deletable_external_ids=[customer.external_id or "" for customer in doomed[2:]],
            )
    finally:
        await database.dispose()


def _config(seeded: Seeded) -> schemathesis.Config:
    """Phases, checks, the bearer token, and the dictionaries that point inputs at real rows."""
    checks: dict[str, Any] = {"enabled": False}
    checks.update({name: {"enabled": True} for name in CHECKS})
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {seeded.token}"},
            "checks": checks,
            "generation": {"mode": "all", "database": "none", "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "dictionaries": {
                "ids": {"values": seeded.ids},
                "external_ids": {"values": seeded.external_ids},
                "emails": {"values": seeded.emails},
                "organization_ids": {"values": [str(seeded.organization_id)]},
                "deletable_ids": {"values": seeded.deletable_ids},
                "deletable_external_ids": {"values": seeded.deletable_external_ids},
            },
            "parameters": {
                "path.id": {"dictionary": "ids", "probability": 0.5},
                "path.external_id": {"dictionary": "external_ids", "probability": 0.5},
                "query.organization_id": {"dictionary": "organization_ids", "probability": 0.3},
                "query.email": {"dictionary": "emails", "probability": 0.3},
                # Existing values exercise the uniqueness checks of create and update.
                "body.email": {"dictionary": "emails", "probability": 0.1},
                "body.external_id": {"dictionary": "external_ids", "probability": 0.1},
            },
            "operations": [
                {
                    "include-operation-id": DELETE_OPERATIONS,
                    "parameters": {
                        "path.id": {"dictionary": "deletable_ids", "probability": 0.2},
                        "path.external_id": {
                            "dictionary": "deletable_external_ids",
                            "probability": 0.2,
                        },
                    },
                }
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


schema = schemathesis.pytest.from_fixture("api_schema").include(
    operation_id_regex=CUSTOMER_OPERATIONS
)


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        # Real database round trips are slow next to data generation, and invalid inputs are
        # generated on purpose; neither says anything about the server.
        hypothesis.HealthCheck.too_slow,
        hypothesis.HealthCheck.filter_too_much,
        hypothesis.HealthCheck.data_too_large,
        hypothesis.HealthCheck.large_base_example,
    ],
)
def test_customer_operations(case: Case[Any]) -> None:
    case.call_and_validate()


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
    url = path.format(id=seeded.ids[0], external_id=seeded.external_ids[0])
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
