"""Helpers of the hardening tests that run the real server: a database of their own and a
whole process group killed at once."""

import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from bench.processes import process_tree

from tests.conftest import ENGINE, POSTGRES_URL, _admin
from tests.server.support import ServerProcess

KILL_TIMEOUT = 15.0


@asynccontextmanager
async def own_database(directory: Path) -> AsyncIterator[str]:
    """The URL of a new database on the run's engine, without any schema (`serve` migrates it
    and makes the first organization and token); dropped afterwards."""
    if ENGINE == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'own.db'}"
        return
    name = f"polar_customers_hardening_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await _admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def kill_process_group(server: ServerProcess) -> list[int]:
    """SIGKILL the server's process group at once (the master and every worker, as a power cut
    would) and wait until none of them runs; returns their pids."""
    pids = process_tree(server.process.pid)
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=KILL_TIMEOUT)
    deadline = time.monotonic() + KILL_TIMEOUT
    while alive := [pid for pid in pids if _running(pid)]:
        if time.monotonic() > deadline:
            pytest.fail(f"processes {alive} of the server survived SIGKILL")
        time.sleep(0.05)
    return pids
