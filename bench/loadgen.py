"""Built-in closed-loop load generator (asyncio + httpx), used when wrk is not installed.

    python -m bench.loadgen SPEC.json   (a `bench.load.LoadSpec` as JSON)

Each of `connections` workers sends its next request as soon as the previous one answered.
Prints the same result line as the wrk script. Much slower than wrk: figures are a floor.
"""

import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass, field

import httpx

from bench import ingest
from bench.load import RESULT_MARKER, LoadSpec, create_body, update_body


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    status_errors: int = 0
    socket_errors: int = 0


def percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile of `values` (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(percent / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _body(spec: LoadSpec, worker: int, counter: int, rng: random.Random) -> str | None:
    if spec.body == "ingest":
        return ingest.body(rng, spec.customers, spec.external_customers)
    if spec.body == "create":
        return create_body(f"{spec.nonce}-{worker}-{counter}", str(counter))
    if spec.body == "update":
        return update_body(worker, counter)
    return None


async def _worker(
    client: httpx.AsyncClient, spec: LoadSpec, worker: int, deadline: float, tally: Tally
) -> None:
    rng, counter = random.Random(worker), 0
    while time.perf_counter() < deadline:
        counter += 1
        content = _body(spec, worker, counter, rng)
        started = time.perf_counter()
        try:
            response = await client.request(
                spec.method, rng.choice(spec.paths), content=content, headers=spec.headers
            )
        except httpx.HTTPError:
            tally.socket_errors += 1
            continue
        tally.latencies_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            tally.status_errors += 1


async def drive(spec: LoadSpec) -> dict[str, float | int]:
    """Run the spec for its duration and return the result fields."""
    tally = Tally()
    limits = httpx.Limits(
        max_connections=spec.connections, max_keepalive_connections=spec.connections
    )
    async with httpx.AsyncClient(base_url=spec.base_url, limits=limits, timeout=30.0) as client:
        started = time.perf_counter()
        deadline = started + spec.duration
        await asyncio.gather(
            *(_worker(client, spec, n + 1, deadline, tally) for n in range(spec.connections))
        )
        seconds = time.perf_counter() - started
    return {
        "requests": len(tally.latencies_ms),  # answered, as wrk counts
        "seconds": seconds,
        "p50_ms": percentile(tally.latencies_ms, 50),
        "p99_ms": percentile(tally.latencies_ms, 99),
        "status_errors": tally.status_errors,
        "socket_errors": tally.socket_errors,
    }


def main() -> None:
    with open(sys.argv[1]) as file:
        spec = LoadSpec(**json.load(file))
    print(RESULT_MARKER + json.dumps(asyncio.run(drive(spec))), flush=True)


if __name__ == "__main__":
    main()
