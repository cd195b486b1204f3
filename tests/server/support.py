"""Helpers of the server tests: the server process, and what the seeding fixtures hand out."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from bench.processes import stop_process_group
from polar_sdk import Polar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from polar_customers.auth.scopes import GRANTABLE_SCOPES, Scope
from tests import factories
from tests.factories import READ_WRITE, TEST_SECRET

STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a server or CLI process: ours, minus any POLAR_CUSTOMERS_ setting."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("POLAR_")}
    env.update(
        POLAR_CUSTOMERS_DATABASE_URL=database_url,
        POLAR_CUSTOMERS_SECRET=TEST_SECRET,
        # Seeded subscriptions have periods that ended long ago: the tests run the scheduler
        # themselves, with the clock they choose.
        POLAR_CUSTOMERS_SCHEDULER_INTERVAL="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    """A running `polar-customers serve`, its base URL and everything it printed."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Poll until the API answers (401 without a token); fail with the output if it dies."""
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    pytest.fail(
                        f"server exited with code {self.process.returncode} before answering:\n"
                        f"{self.output()}"
                    )
                try:
                    response = client.get("/v1/customers/")
                except httpx.TransportError:
                    pass
                else:
                    if response.status_code == 401:
                        return
                    self.stop()
                    pytest.fail(
                        f"server answered {response.status_code} {response.text!r} instead of "
                        f"401 to an anonymous request:\n{self.output()}"
                    )
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"server did not answer within {timeout}s:\n{self.output()}")
                time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM the server's process group (it and its workers); SIGKILL if it hangs."""
        stop_process_group(self.process)


def start_server(
    database_url: str,
    directory: Path,
    *,
    workers: int = 1,
    access_log: bool = False,
    settings: Mapping[str, str] | None = None,
) -> ServerProcess:
    """Start `python -m polar_customers serve` in `directory` and wait until it answers;
    `settings` are extra environment variables. Its output is kept in a file of `directory`."""
    port = free_port()
    log_path = directory / f"server-{port}.log"
    command = [sys.executable, "-m", "polar_customers", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    if not access_log:
        command.append("--no-access-log")
    if workers != 1:
        command += ["--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=server_env(database_url, **(settings or {})),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so the workers stop with it
        )
    server = ServerProcess(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        server.wait_until_ready()
    except BaseException:
        server.stop()
        raise
    return server


@dataclass(frozen=True)
class Tenant:
    """An organization and an organization token with customers:read and customers:write."""

    organization_id: str
    token: str


@dataclass(frozen=True)
class Member:
    """A user, a personal access token of theirs, and the organizations they belong to."""

    user_id: str
    token: str
    organization_ids: tuple[str, ...]


@dataclass
class Api:
    """The official client for one token, and every raw HTTP response it received."""

    polar: Polar
    responses: list[httpx.Response] = field(default_factory=list)

    @property
    def last(self) -> httpx.Response:
        assert self.responses, "no request was made"
        return self.responses[-1]


ApiFactory = Callable[[str], Api]


UUID4_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def run_cli(
    database_url: str, directory: Path, *args: str, timeout: float = 60.0
) -> "subprocess.CompletedProcess[str]":
    """Run `python -m polar_customers *args` on `database_url` with `directory` as cwd."""
    return subprocess.run(
        [sys.executable, "-m", "polar_customers", *args],
        cwd=directory,
        env=server_env(database_url, COLUMNS="200", NO_COLOR="1", TERM="dumb"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


ALL_SCOPES = GRANTABLE_SCOPES


async def new_tenant(
    sessions: async_sessionmaker[AsyncSession], name: str, scopes: Iterable[Scope] = READ_WRITE
) -> Tenant:
    """A new organization and an organization token of it with `scopes`."""
    async with sessions() as session, session.begin():
        organization = await factories.create_organization(session, name=name)
        token = await factories.create_organization_token(
            session, organization=organization, scopes=scopes
        )
        return Tenant(organization_id=str(organization.id), token=token)
