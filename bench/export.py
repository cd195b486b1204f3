"""Timing the streamed CSV export of every customer, and the server's peak memory."""

import time
from dataclasses import dataclass

import httpx

from bench.processes import peak_rss_bytes

EXPORT_PATH = "/v1/customers/export"
EXPORT_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class ExportResult:
    """One full export: rows and bytes received, seconds taken, peak RSS in bytes."""

    status: int
    rows: int
    bytes: int
    seconds: float
    peak_rss_before: int
    peak_rss: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def measure(base_url: str, token: str, server_pid: int) -> ExportResult:
    """Stream GET /v1/customers/export (CSV) to the end, counting rows and bytes."""
    before = peak_rss_bytes(server_pid)
    size, newlines = 0, 0
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=EXPORT_TIMEOUT_S) as client:
        started = time.perf_counter()
        with client.stream("GET", EXPORT_PATH, headers=headers) as response:
            for chunk in response.iter_bytes():
                size += len(chunk)
                newlines += chunk.count(b"\n")
        seconds = time.perf_counter() - started
    return ExportResult(
        status=response.status_code,
        rows=max(0, newlines - 1),  # minus the header line; generated values hold no newline
        bytes=size,
        seconds=seconds,
        peak_rss_before=before,
        peak_rss=peak_rss_bytes(server_pid),
    )
