"""The benchmark harness end to end, tiny: `python -m bench.run --smoke` on the test engine."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ENGINE, POSTGRES_URL

TIMEOUT_S = 240
MEASURED = (
    "get_by_id",
    "get_by_id_limited",
    "get_by_id_v2026",
    "get_by_external_id",
    "get_state",
    "get_balance",
    "list_first_page",
    "list_first_page_v2026",
    "list_query",
    "list_metadata",
    "list_deep_page",
    "create",
    "update",
    "ingest",
    "floor_get_by_id",
)
ROW = re.compile(r"^(\w+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+(\d+)\s+(\S+)$", re.MULTILINE)


@pytest.mark.server
def test_smoke_run_measures_every_scenario(repository_root: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("POLAR_")}
    env["POLAR_CUSTOMERS_BENCH_POSTGRES_URL"] = POSTGRES_URL
    output = tmp_path / "latest.json"
    command = [sys.executable, "-m", "bench.run", "--smoke", "--engines", ENGINE]
    completed = subprocess.run(
        [*command, "--output", str(output)],
        cwd=repository_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    printed = completed.stdout + completed.stderr
    assert completed.returncode == 0, printed

    rows = {match[1]: match.groups()[1:] for match in ROW.finditer(completed.stdout)}
    for name in MEASURED:
        assert name in rows, f"{name} missing from the table:\n{printed}"
        requests_per_second, _p50, _p99, errors, _ratio = rows[name]
        assert float(requests_per_second) > 0, f"{name}: no requests\n{printed}"
        if name.startswith(("get", "list", "create", "ingest", "floor")):
            assert int(errors) == 0, f"{name}: {errors} errors\n{printed}"
    # The export runs before the write scenarios: exactly the seeded customers.
    assert re.search(r"^export: HTTP 200, 300 customers", completed.stdout, re.MULTILINE), printed

    results = json.loads(output.read_text())
    assert set(results["engines"]) == {ENGINE}
    assert results["engines"][ENGINE]["seed"]["customers"] == 300
