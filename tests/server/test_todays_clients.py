"""Today's official clients against the real server: the whole customer surface of
polar-sdk 1.0.2 (`polar.v2026_10`, and a smoke run of `v2026_04` and `v2027_01`) and of
@polar-sh/sdk 1.0.1, typed errors included.

Each client runs as its own process: polar-sdk 1.x has the same distribution name as the
0.27.1 of the suite's environment, so it lives in `.venv-sdk1`, made here on first use from
tests/clients/sdk1/requirements.txt; the TypeScript client is installed with `npm ci` from
tests/clients/ts/package-lock.json. Both come from the package registries.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.models import Organization
from tests import factories
from tests.factories import bearer
from tests.server.support import ALL_SCOPES, Tenant, new_tenant

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "tests" / "clients"
SDK1_VENV = ROOT / ".venv-sdk1"
RUN_TIMEOUT_S = 300


def _missing(tool: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{tool} is needed to run today's clients")
    pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="session")
def sdk1_python() -> Path:
    """The interpreter of a virtual environment holding polar-sdk 1.0.2."""
    python = SDK1_VENV / "bin" / "python"
    check = [str(python), "-c", "import polar.v2026_10, polar.v2026_04, polar.v2027_01"]
    if not python.exists() or subprocess.run(check, capture_output=True).returncode != 0:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(SDK1_VENV)], check=True)
        requirements = CLIENTS / "sdk1" / "requirements.txt"
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--no-deps", "-r", str(requirements)], check=True)
    return python


@pytest.fixture(scope="session")
def node_client() -> Path:
    """The folder of the TypeScript client check, its pinned packages installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _missing("Node.js with npm")
    folder = CLIENTS / "ts"
    if not (folder / "node_modules" / "@polar-sh" / "sdk" / "package.json").exists():
        subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=folder, check=True)
    return folder


async def _member_of(sessions: async_sessionmaker[AsyncSession], tenants: Iterable[Tenant]) -> str:
    async with sessions() as session, session.begin():
        organizations = [
            await session.get_one(Organization, uuid.UUID(tenant.organization_id))
            for tenant in tenants
        ]
        user = await factories.create_user(session, member_of=organizations)
        return await factories.create_personal_token(session, user=user, scopes=ALL_SCOPES)


@pytest.fixture
async def config(
    seed_sessions: async_sessionmaker[AsyncSession], live_server: str
) -> dict[str, Any]:
    """Two organizations with full tokens, a user of both with a personal token, and in each
    organization a customer with the same external id."""
    tenant = await new_tenant(seed_sessions, "Today", ALL_SCOPES)
    other = await new_tenant(seed_sessions, "Today, other", ALL_SCOPES)
    shared = f"shared-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=live_server) as http:
        for index, owner in enumerate((tenant, other)):
            response = await http.post(
                "/v1/customers/",
                json={"email": f"shared{index}@example.com", "external_id": shared},
                headers=bearer(owner.token),
            )
            assert response.status_code == 201, response.text
    return {
        "base_url": live_server,
        "token": tenant.token,
        "other_token": other.token,
        "organization_id": tenant.organization_id,
        "personal_token": await _member_of(seed_sessions, [tenant, other]),
        "shared_external_id": shared,
    }


def _run(command: list[str], cwd: Path) -> list[str]:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["ok"] is True
    calls: list[str] = outcome["calls"]
    return calls


def test_python_client_whole_surface(sdk1_python: Path, config: dict[str, Any]) -> None:
    script = CLIENTS / "sdk1" / "customers_surface.py"
    calls = _run(
        [str(sdk1_python), str(script), json.dumps({**config, "version": "v2026_10"})], ROOT
    )
    assert "export" in calls
    assert "Polar-Organization" in calls


@pytest.mark.parametrize("version", ["v2026_04", "v2027_01"])
def test_python_client_other_versions(
    sdk1_python: Path, config: dict[str, Any], version: str
) -> None:
    script = CLIENTS / "sdk1" / "customers_surface.py"
    settings = {**config, "version": version, "mode": "smoke"}
    assert "delete" in _run([str(sdk1_python), str(script), json.dumps(settings)], ROOT)


def test_typescript_client_whole_surface(node_client: Path, config: dict[str, Any]) -> None:
    settings = {**config, "version": "2026-10"}
    calls = _run(["node", "customers_surface.mjs", json.dumps(settings)], node_client)
    assert "Polar-Organization" in calls


@pytest.mark.parametrize("version", ["2026-04", "2027-01"])
def test_typescript_client_other_versions(
    node_client: Path, config: dict[str, Any], version: str
) -> None:
    settings = {**config, "version": version, "mode": "smoke"}
    assert "delete" in _run(["node", "customers_surface.mjs", json.dumps(settings)], node_client)


def _readme_snippet(install_line: str) -> str:
    """The README's Python block that starts with `install_line`."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index(f"```python\n{install_line}\n") + len("```python\n")
    return readme[start : readme.index("```", start)]


@pytest.mark.parametrize(
    "install_line", ["# pip install polar-sdk==1.0.2", "# pip install polar-sdk==0.27.1"]
)
async def test_readme_snippets_run_as_written(
    install_line: str,
    sdk1_python: Path,
    seed_sessions: async_sessionmaker[AsyncSession],
    live_server: str,
) -> None:
    """The first code a newcomer copies works with the client its first line installs."""
    tenant = await new_tenant(seed_sessions, "README", ALL_SCOPES)
    snippet = _readme_snippet(install_line)
    assert "polar_oat_..." in snippet
    assert "http://127.0.0.1:8000" in snippet
    code = snippet.replace("polar_oat_...", tenant.token).replace(
        "http://127.0.0.1:8000", live_server
    )
    code += "\nassert same.id == customer.id\nprint(same.id)\n"
    python = sdk1_python if "1.0.2" in install_line else Path(sys.executable)
    result = await asyncio.to_thread(
        subprocess.run,
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr
    async with httpx.AsyncClient(base_url=live_server) as http:
        found = await http.get("/v1/customers/external/usr_1", headers=bearer(tenant.token))
    assert found.json()["id"] == result.stdout.strip()


async def test_readme_typescript_snippet_runs_as_written(
    node_client: Path, seed_sessions: async_sessionmaker[AsyncSession], live_server: str
) -> None:
    tenant = await new_tenant(seed_sessions, "README TypeScript", ALL_SCOPES)
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```js\n// npm install @polar-sh/sdk@1.0.1\n") + len("```js\n")
    snippet = readme[start : readme.index("```", start)]
    code = snippet.replace("polar_oat_...", tenant.token).replace(
        "http://127.0.0.1:8000", live_server
    )
    # Imports resolve from the folder that has the pinned client installed.
    script = node_client / f"readme-{uuid.uuid4().hex[:8]}.mjs"
    script.write_text(code + "\nconsole.log(same.id === customer.id ? same.id : 'mismatch');\n")
    try:
        result = await asyncio.to_thread(
            subprocess.run,
            ["node", str(script)],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    finally:
        script.unlink()
    assert result.returncode == 0, result.stderr
    async with httpx.AsyncClient(base_url=live_server) as http:
        found = await http.get("/v1/customers/external/usr_1", headers=bearer(tenant.token))
    assert found.json()["id"] == result.stdout.strip()
