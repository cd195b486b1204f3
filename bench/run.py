"""Benchmark the real server against the floor, on SQLite and PostgreSQL.

    python -m bench.run [--customers 100000] [--million] [--engines sqlite,postgresql]
                        [--workers 2] [--connections 32] [--duration 10] [--smoke]

Per engine: a fresh database, migrated and seeded; the server and the floor started on it;
a full export, then the read scenarios driven over loopback, then the write and floor
scenarios.
Prints one table per engine and writes bench/results/latest.json. Processes and databases are
removed on exit, Ctrl-C included.
"""

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from bench import export, load, processes
from bench.databases import DEFAULT_POSTGRES_URL, RESULTS_DIR, fresh_database
from bench.load import LoadResult
from bench.report import EngineReport, as_json, table
from bench.scenarios import FLOOR_SCENARIO, Body, Scenario, Target, build
from bench.seed import SeedResult, describe, seed
from polar_customers import migrate

ENGINES = ("sqlite", "postgresql")
SMOKE_CUSTOMERS, SMOKE_DURATION, SMOKE_CONNECTIONS = 300, 1.0, 4
IDLE_TIMEOUT_S, SMOKE_IDLE_TIMEOUT_S = 900.0, 5.0
WARMUP_S = 2.0
# The limited server's limit: far above what any scenario sends, so that nothing is blocked
# and no subject ever wakes an early sync (one sync per interval per worker).
UNREACHED_LIMIT = {"RATE_LIMIT_ENABLED": "true", "RATE_LIMIT_PER_MINUTE": str(10**9)}


@dataclass(frozen=True)
class Options:
    customers: int
    engines: tuple[str, ...]
    workers: int
    connections: int
    duration: float
    postgres_url: str
    output: Path
    generator: load.Generator
    idle_timeout: float = IDLE_TIMEOUT_S  # the longest wait for the machine to settle
    warmup: float = WARMUP_S  # seconds of unmeasured load before each scenario (0: none)
    scenarios: frozenset[str] | None = None  # names to run (None: all); the floor always runs


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="seed 1,000,000 customers")
    parser.add_argument("--engines", help="comma-separated (default: sqlite,postgresql)")
    parser.add_argument("--workers", type=int, default=2, help="of the server and of the floor")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument(
        "--smoke", action="store_true", help="300 customers, 1 s per scenario, 4 connections"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("POLAR_CUSTOMERS_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="an existing database, used only to create and drop the benchmark's own",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument(
        "--scenarios",
        help=f"comma-separated names to run (default: all); {FLOOR_SCENARIO} always runs",
    )
    parser.add_argument(
        "--generator",
        choices=["auto", *load.Generator],
        default="auto",
        help="load generator (auto: wrk when installed, else the built-in one)",
    )
    args = parser.parse_args(argv)
    engines = tuple(args.engines.split(",")) if args.engines else ENGINES
    if unknown := set(engines) - set(ENGINES):
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    customers = 1_000_000 if args.million else args.customers
    connections, duration, idle_timeout = args.connections, args.duration, IDLE_TIMEOUT_S
    warmup = WARMUP_S
    if args.smoke:
        customers, connections, duration = SMOKE_CUSTOMERS, SMOKE_CONNECTIONS, SMOKE_DURATION
        idle_timeout, warmup = SMOKE_IDLE_TIMEOUT_S, 0.0
    return Options(
        customers=customers,
        engines=engines,
        workers=args.workers,
        connections=connections,
        duration=duration,
        postgres_url=args.postgres_url,
        output=args.output,
        generator=load.choose_generator(args.generator),
        idle_timeout=idle_timeout,
        warmup=warmup,
        scenarios=frozenset(args.scenarios.split(",")) if args.scenarios else None,
    )


def _progress(engine: str, message: str) -> None:
    print(f"[{engine}] {message}", flush=True)


def _alive(service: processes.Service) -> None:
    if service.process.poll() is not None:
        raise processes.ProcessError(f"the {service.name} died:\n{service.output()}")


def run_engine(engine: str, options: Options) -> EngineReport:
    """Everything on one engine: a fresh database, seeded, measured, removed."""
    secret, nonce = secrets.token_urlsafe(32), secrets.token_hex(4)
    log_dir = options.output.parent / "logs" / engine  # server.log and floor.log, kept
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(engine, postgres_url=options.postgres_url))
        _progress(engine, "migrating a fresh database")
        migrate.upgrade(url)
        seeded = asyncio.run(seed(url, customers=options.customers, key=secret.encode()))
        _progress(engine, describe(seeded))
        server = stack.enter_context(
            processes.server(url, secret, workers=options.workers, log_dir=log_dir)
        )
        floor = stack.enter_context(processes.floor(url, workers=options.workers, log_dir=log_dir))
        report = EngineReport(engine, seeded)
        scenarios = [
            scenario
            for scenario in build(seeded)
            if options.scenarios is None or scenario.name in options.scenarios | {FLOOR_SCENARIO}
        ]
        services = {Target.server: server, Target.floor: floor}
        if any(scenario.target is Target.limited_server for scenario in scenarios):
            services[Target.limited_server] = stack.enter_context(
                processes.server(
                    url,
                    secret,
                    workers=options.workers,
                    log_dir=log_dir,
                    name="limited-server",
                    settings=UNREACHED_LIMIT,
                )
            )
        # The export first, on an idle server (slow lists of the read scenarios go on running
        # after the load stops) and of exactly the seeded customers; then reads, then writes.
        processes.wait_until_idle(options.idle_timeout)  # after the seeding's VACUUM ANALYZE
        _progress(engine, "export")
        report.export = export.measure(server.base_url, seeded.token, server.process.pid)
        _alive(server)
        reads = [s for s in scenarios if s.body is Body.none and s.target is not Target.floor]
        for scenario in [*reads, *(s for s in scenarios if s not in reads)]:
            service = services[scenario.target]
            report.results[scenario.name] = _drive(
                engine, scenario, options, seeded, service, nonce
            )
        return report


def _drive(
    engine: str,
    scenario: Scenario,
    options: Options,
    seeded: SeedResult,
    service: processes.Service,
    nonce: str,
) -> LoadResult:
    _progress(engine, f"{scenario.name}: {options.duration:g} s")
    spec = load.spec_for(
        scenario,
        base_url=service.base_url,
        token=seeded.token,
        nonce=nonce,
        connections=options.connections,
        duration=options.duration,
    )
    if options.warmup:
        # Caches (PostgreSQL's buffers after the export's scan, prepared statements) filled by
        # load that is not measured; with another nonce, so that no create repeats an email.
        _settle(engine, options)
        warmup = dataclasses.replace(spec, nonce=f"{nonce}-warmup", duration=options.warmup)
        load.run(warmup, options.generator)
    _settle(engine, options)
    result = load.run(spec, options.generator)
    _alive(service)
    return result


def _settle(engine: str, options: Options) -> None:
    waited = processes.wait_until_idle(options.idle_timeout)
    if waited > 2:
        _progress(engine, f"waited {waited:.0f} s for the machine to settle")


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # clean up on kill too, as on Ctrl-C
    generator = load.describe_generator(options.generator)
    print(f"load generator: {generator}", flush=True)
    reports: dict[str, EngineReport] = {}
    try:
        for engine in options.engines:
            report = run_engine(engine, options)
            reports[engine] = report
            print(
                f"\n== {engine}: {options.customers:,} customers, {options.workers} workers, "
                f"{options.connections} connections, {options.duration:g} s per scenario =="
            )
            print(table(report), flush=True)
    except KeyboardInterrupt:
        print("interrupted: processes stopped, databases removed", file=sys.stderr)
        return 130
    document = {
        "generator": generator,
        "customers": options.customers,
        "workers": options.workers,
        "connections": options.connections,
        "duration": options.duration,
        "engines": {engine: as_json(report) for engine, report in reports.items()},
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nresults written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
