"""The measured scenarios: which requests each one sends, to the server or to the floor."""

import random
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote

from bench import ingest
from bench.data import LAST_NAMES, PLANS
from bench.seed import SeedResult

LIST = "/v1/customers/"
DEEP_PAGE = 500
DEEP_LIMIT = 100
FLOOR_SCENARIO = "floor_get_by_id"
# What today's clients (polar-sdk 1.x, @polar-sh/sdk 1.x) send with every request.
TODAYS_CLIENT = (("Polar-Version", "2026-10"),)


class Body(StrEnum):
    """What a request carries; bodies are generated per request by the load generator."""

    none = "none"
    create = "create"  # a new customer with a unique email and external id
    update = "update"  # {"name": ...}
    ingest = "ingest"  # 1,000 events of the scenario's customers (bench/ingest.py)


class Target(StrEnum):
    server = "server"
    # The same server with its rate limiter on, at a limit no scenario reaches: what counting
    # and syncing cost (compare with the same scenario on `server`).
    limited_server = "limited_server"
    floor = "floor"


@dataclass(frozen=True)
class Scenario:
    """Requests picked uniformly at random from `paths`, all with `method` and `body`."""

    name: str
    method: str
    paths: tuple[str, ...]
    body: Body = Body.none
    target: Target = Target.server
    headers: tuple[tuple[str, str], ...] = ()  # beyond the token and Accept
    # Whom the events of `Body.ingest` are of: customer ids, and external ids.
    customers: tuple[str, ...] = ()
    external_customers: tuple[str, ...] = ()


def deep_page(customers: int) -> int:
    """Page 500 of 100, or the last full page when there are fewer customers."""
    return max(1, min(DEEP_PAGE, customers // DEEP_LIMIT))


def build(seeded: SeedResult, *, seed: int = 7) -> list[Scenario]:
    """Every scenario, in the order they run: reads, then writes, then the floor."""
    rng = random.Random(seed)
    by_id = tuple(LIST + id for id in seeded.sample_ids)
    by_external_id = tuple(
        f"{LIST}external/{quote(e, safe='')}" for e in seeded.sample_external_ids
    )
    searches = [name[:4] for name in rng.sample(LAST_NAMES, 20)]  # as typed in a search box
    plans = [plan for plan, _ in PLANS]
    page = deep_page(seeded.customers)
    return [
        Scenario("get_by_id", "GET", by_id),
        Scenario("get_by_id_limited", "GET", by_id, target=Target.limited_server),
        Scenario("get_by_id_v2026", "GET", by_id, headers=TODAYS_CLIENT),
        Scenario("get_by_external_id", "GET", by_external_id),
        Scenario("get_state", "GET", tuple(f"{path}/state" for path in by_id)),
        Scenario("get_balance", "GET", tuple(f"{path}/balance" for path in by_id)),
        # 10 subscriptions, 30 grants, 5 meters fed by 1,000,000 events (bench/heavy_state.py).
        Scenario("get_state_heavy", "GET", tuple(f"{LIST}{id}/state" for id in seeded.heavy_ids)),
        Scenario("list_first_page", "GET", (f"{LIST}?limit=10",)),
        Scenario("list_first_page_v2026", "GET", (f"{LIST}?limit=10",), headers=TODAYS_CLIENT),
        Scenario("list_query", "GET", tuple(f"{LIST}?query={term}" for term in searches)),
        Scenario("list_metadata", "GET", tuple(f"{LIST}?metadata%5Bplan%5D={p}" for p in plans)),
        Scenario("list_deep_page", "GET", (f"{LIST}?page={page}&limit={DEEP_LIMIT}",)),
        Scenario("create", "POST", (LIST,), Body.create),
        Scenario("update", "PATCH", by_id, Body.update),
        Scenario(
            "ingest",
            "POST",
            (ingest.PATH,),
            Body.ingest,
            customers=tuple(seeded.sample_ids),
            external_customers=tuple(seeded.sample_external_ids),
        ),
        Scenario(FLOOR_SCENARIO, "GET", by_id, target=Target.floor),
    ]
