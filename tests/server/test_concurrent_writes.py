"""Racing writes on the real server: emails, external IDs, deletes, commit before response."""

import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.models import Customer
from tests.factories import bearer
from tests.server.concurrency_support import gather_responses
from tests.server.support import ALL_SCOPES, Tenant, new_tenant

pytestmark = pytest.mark.server

RACERS = 20
ROUNDS = 5
DUPLICATE_EMAIL = "A customer with this email address already exists."
DUPLICATE_EXTERNAL_ID = "A customer with this external ID already exists."


@pytest.fixture
async def http(live_server: str, tenant: Tenant) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client with the tenant's token; a connection per concurrent request."""
    limits = httpx.Limits(max_connections=RACERS * 2)
    async with httpx.AsyncClient(
        base_url=live_server, headers=bearer(tenant.token), timeout=60.0, limits=limits
    ) as client:
        yield client


def validation_body(field: str, msg: str, value: str) -> dict[str, Any]:
    """The exact PolarRequestValidationError body of contract Appendix A."""
    return {
        "error": "PolarRequestValidationError",
        "detail": [{"type": "value_error", "loc": ["body", field], "msg": msg, "input": value}],
    }


def assert_one_winner(
    responses: list[httpx.Response], success: int, loser_body: dict[str, Any]
) -> httpx.Response:
    statuses = sorted(response.status_code for response in responses)
    assert statuses == sorted([success] + [422] * (len(responses) - 1)), [
        (response.status_code, response.text) for response in responses
    ]
    for response in responses:
        if response.status_code == 422:
            assert response.headers["content-type"] == "application/json"
            assert response.json() == loser_body
    [winner] = [response for response in responses if response.status_code == success]
    return winner


async def list_total(http: httpx.AsyncClient, **params: str) -> int:
    response = await http.get("/v1/customers/", params=params)
    assert response.status_code == 200, response.text
    total: int = response.json()["pagination"]["total_count"]
    return total


async def test_concurrent_creates_with_the_same_email(http: httpx.AsyncClient) -> None:
    email = "race@example.com"
    responses = await gather_responses(
        *(http.post("/v1/customers/", json={"email": email}) for _ in range(RACERS))
    )
    winner = assert_one_winner(responses, 201, validation_body("email", DUPLICATE_EMAIL, email))
    assert winner.json()["email"] == email
    assert await list_total(http, email=email) == 1
    assert await list_total(http) == 1


async def test_concurrent_creates_with_the_same_email_in_other_cases(
    http: httpx.AsyncClient,
) -> None:
    variants = ["race@example.com", "RACE@example.com", "Race@example.com"]
    emails = [variants[n % len(variants)] for n in range(RACERS)]
    responses = await gather_responses(
        *(http.post("/v1/customers/", json={"email": email}) for email in emails)
    )
    assert sorted(response.status_code for response in responses) == [201] + [422] * (RACERS - 1), [
        (response.status_code, response.text) for response in responses
    ]
    for email, response in zip(emails, responses, strict=True):
        if response.status_code == 422:
            assert response.json() == validation_body("email", DUPLICATE_EMAIL, email)
    assert await list_total(http) == 1


async def test_concurrent_creates_with_the_same_external_id(http: httpx.AsyncClient) -> None:
    external_id = "usr_race"
    responses = await gather_responses(
        *(
            http.post(
                "/v1/customers/",
                json={"email": f"racer{n}@example.com", "external_id": external_id},
            )
            for n in range(RACERS)
        )
    )
    winner = assert_one_winner(
        responses, 201, validation_body("external_id", DUPLICATE_EXTERNAL_ID, external_id)
    )
    assert winner.json()["external_id"] == external_id
    response = await http.get(f"/v1/customers/external/{external_id}")
    assert response.status_code == 200
    assert response.json()["id"] == winner.json()["id"]
    assert await list_total(http) == 1


async def _create_many(http: httpx.AsyncClient, count: int) -> list[str]:
    ids = []
    for n in range(count):
        response = await http.post("/v1/customers/", json={"email": f"owner{n}@example.com"})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def test_concurrent_updates_to_the_same_email(http: httpx.AsyncClient) -> None:
    ids = await _create_many(http, RACERS)
    for round in range(ROUNDS):  # the race is timing-dependent: run it several times
        email = f"wanted{round}@example.com"
        responses = await gather_responses(
            *(http.patch(f"/v1/customers/{id}", json={"email": email}) for id in ids)
        )
        winner = assert_one_winner(responses, 200, validation_body("email", DUPLICATE_EMAIL, email))
        assert winner.json()["email"] == email
        assert await list_total(http, email=email) == 1


async def test_concurrent_updates_to_the_same_external_id(http: httpx.AsyncClient) -> None:
    ids = await _create_many(http, RACERS + ROUNDS)
    for round in range(ROUNDS):  # each round's winner is out: its external ID is now set
        external_id = f"wanted-{round}"
        responses = await gather_responses(
            *(http.patch(f"/v1/customers/{id}", json={"external_id": external_id}) for id in ids)
        )
        winner = assert_one_winner(
            responses, 200, validation_body("external_id", DUPLICATE_EXTERNAL_ID, external_id)
        )
        response = await http.get(f"/v1/customers/external/{external_id}")
        assert response.status_code == 200
        assert response.json()["id"] == winner.json()["id"]
        ids.remove(winner.json()["id"])


async def test_concurrent_first_external_ids_of_one_customer(http: httpx.AsyncClient) -> None:
    """An external ID can be set once (contract 6): of racing first values, exactly one wins."""
    ids = await _create_many(http, 2 * ROUNDS)
    for id in ids:
        values = [f"first-{id[:8]}-{n}" for n in range(RACERS)]
        responses = await gather_responses(
            *(http.patch(f"/v1/customers/{id}", json={"external_id": value}) for value in values)
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [422] * (RACERS - 1), [r.text for r in responses]
        [winner] = [response for response in responses if response.status_code == 200]
        for value, response in zip(values, responses, strict=True):
            if response.status_code == 422:
                assert response.json() == validation_body(
                    "external_id", "Customer external ID cannot be updated.", value
                )
        stored = await http.get(f"/v1/customers/{id}")
        assert stored.json()["external_id"] == winner.json()["external_id"]


async def test_concurrent_deletes_of_one_customer(http: httpx.AsyncClient) -> None:
    """Delete is not idempotent (contract 5.6): one 204, and 404 for every other attempt."""
    ids = await _create_many(http, 2 * ROUNDS)
    for id in ids:
        responses = await gather_responses(
            *(http.delete(f"/v1/customers/{id}") for _ in range(RACERS))
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [204] + [404] * (RACERS - 1), [r.text for r in responses]
        for response in responses:
            if response.status_code == 404:
                assert response.json() == {"error": "ResourceNotFound", "detail": "Not found"}
    assert await list_total(http) == 0


async def test_a_write_is_committed_before_its_response_is_sent(
    http: httpx.AsyncClient,
    database_url: str,
    seed_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Once a client holds a 2xx, every other reader must see the write (read-your-writes).

    The database is read directly, in a new transaction, right after each response (on SQLite
    with the standard library driver, which answers without a thread hop).
    """

    async def stored(id: str) -> tuple[str | None, bool] | None:
        """The stored name and whether the customer is deleted; None when there is no row."""
        if database_url.startswith("sqlite"):
            path = database_url.split(":///", 1)[1]
            with closing(sqlite3.connect(path, isolation_level=None)) as connection:
                row = connection.execute(
                    "SELECT name, deleted_at IS NOT NULL FROM customers WHERE id = ?",
                    (uuid.UUID(id).hex,),
                ).fetchone()
            return None if row is None else (row[0], bool(row[1]))
        async with seed_sessions() as session:
            customer = await session.get(Customer, uuid.UUID(id))
            return None if customer is None else (customer.name, customer.deleted_at is not None)

    stale: list[str] = []
    for n in range(30):
        created = await http.post("/v1/customers/", json={"email": f"commit{n}@example.com"})
        assert created.status_code == 201, created.text
        id = created.json()["id"]
        if await stored(id) != (None, False):
            stale.append(f"POST #{n}: the created customer is not in the database yet")

        updated = await http.patch(f"/v1/customers/{id}", json={"name": f"Name {n}"})
        assert updated.status_code == 200, updated.text
        if await stored(id) != (f"Name {n}", False):
            stale.append(f"PATCH #{n}: the database still has the old name")

        deleted = await http.delete(f"/v1/customers/{id}")
        assert deleted.status_code == 204, deleted.text
        if await stored(id) != (f"Name {n}", True):
            stale.append(f"DELETE #{n}: the customer is not deleted in the database yet")
    assert stale == []


async def test_concurrent_members_with_the_same_email(
    live_server: str, seed_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Member emails are unique per customer, whatever the case, also when requests race."""
    tenant = await new_tenant(seed_sessions, "Members race", ALL_SCOPES)
    limits = httpx.Limits(max_connections=RACERS * 2)
    async with httpx.AsyncClient(
        base_url=live_server, headers=bearer(tenant.token), timeout=60.0, limits=limits
    ) as client:
        created = await client.post(
            "/v1/customers/", json={"type": "team", "email": "team@example.com"}
        )
        assert created.status_code == 201, created.text
        url = f"/v1/customers/{created.json()['id']}/members"
        emails = [f"{'M' if index % 2 else 'm'}ember@example.com" for index in range(RACERS)]
        responses = await gather_responses(
            *(client.post(url, json={"email": email}) for email in emails)
        )
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201] + [422] * (RACERS - 1), [r.text for r in responses]
        for response in responses:
            if response.status_code == 422:
                [error] = response.json()["detail"]
                assert error["msg"] == "A member with this email already exists for this customer."
        listed = await client.get(url)
        assert listed.json()["pagination"]["total_count"] == 2  # the owner and the winner
