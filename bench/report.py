"""The per-engine results: printed as a table, saved as JSON."""

from dataclasses import dataclass, field
from typing import Any

from bench.export import ExportResult
from bench.ingest import BATCH as INGEST_BATCH
from bench.load import LoadResult
from bench.scenarios import FLOOR_SCENARIO
from bench.seed import SeedResult

MB = 1024 * 1024


@dataclass
class EngineReport:
    """Everything measured on one engine."""

    engine: str
    seeded: SeedResult
    results: dict[str, LoadResult] = field(default_factory=dict)
    export: ExportResult | None = None

    @property
    def floor_rps(self) -> float:
        floor = self.results.get(FLOOR_SCENARIO)
        return floor.requests_per_second if floor else 0.0

    def ratio(self, result: LoadResult) -> float | None:
        return result.requests_per_second / self.floor_rps if self.floor_rps else None


HEADER = f"{'scenario':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'vs floor':>10}"


def _row(report: EngineReport, name: str, result: LoadResult) -> str:
    ratio = report.ratio(result)
    shown = f"{ratio:.2f}x" if ratio is not None else "-"
    return (
        f"{name:<22}{result.requests_per_second:>10.1f}{result.p50_ms:>10.2f}"
        f"{result.p99_ms:>10.2f}{result.errors:>8d}{shown:>10}"
    )


def export_line(export: ExportResult) -> str:
    return (
        f"export: HTTP {export.status}, {export.rows:,} customers, {export.bytes / MB:.1f} MB "
        f"in {export.seconds:.2f} s ({export.rows_per_second:,.0f} rows/s); server peak RSS "
        f"{export.peak_rss / MB:.1f} MB (before export {export.peak_rss_before / MB:.1f} MB)"
    )


def ingest_line(result: LoadResult) -> str:
    events = result.requests_per_second * INGEST_BATCH
    return f"ingest: {events:,.0f} events/s in batches of {INGEST_BATCH:,}"


def table(report: EngineReport) -> str:
    lines = [HEADER, "-" * len(HEADER)]
    lines += [_row(report, name, result) for name, result in report.results.items()]
    if (ingested := report.results.get("ingest")) is not None:
        lines.append(ingest_line(ingested))
    if report.export is not None:
        lines.append(export_line(report.export))
    return "\n".join(lines)


def _load_json(report: EngineReport, name: str, result: LoadResult) -> dict[str, Any]:
    return {
        "requests": result.requests,
        "seconds": round(result.seconds, 3),
        "requests_per_second": round(result.requests_per_second, 1),
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.errors,
        "status_errors": result.status_errors,
        "socket_errors": result.socket_errors,
        "vs_floor": report.ratio(result),
        **(
            {"events_per_second": round(result.requests_per_second * INGEST_BATCH)}
            if name == "ingest"
            else {}
        ),
    }


def as_json(report: EngineReport) -> dict[str, Any]:
    export = report.export
    return {
        "seed": {
            "customers": report.seeded.customers,
            "seconds": round(report.seeded.seconds, 3),
            "rows_per_second": round(report.seeded.rows_per_second),
            "state_and_balance_rows": report.seeded.related_rows,
        },
        "scenarios": {name: _load_json(report, name, r) for name, r in report.results.items()},
        "export": None
        if export is None
        else {
            "status": export.status,
            "rows": export.rows,
            "bytes": export.bytes,
            "seconds": round(export.seconds, 3),
            "rows_per_second": round(export.rows_per_second),
            "peak_rss_bytes": export.peak_rss,
            "peak_rss_before_export_bytes": export.peak_rss_before,
        },
    }
