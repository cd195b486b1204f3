"""Starting the server and the floor as process groups, waiting for them, stopping them."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPOSITORY = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
ZERO_ID = "00000000-0000-4000-8000-000000000000"


class ProcessError(RuntimeError):
    """A benchmark process failed to start."""


def stop_process_group(process: "subprocess.Popen[bytes]") -> None:
    """SIGTERM a process group (a server master and its workers); SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


@dataclass
class Service:
    """A started process group and its base URL."""

    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM the process group (the master and its workers); SIGKILL if it hangs."""
        stop_process_group(self.process)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(database_url: str, secret: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("POLAR_")}
    env.update(
        POLAR_CUSTOMERS_DATABASE_URL=database_url,
        POLAR_CUSTOMERS_SECRET=secret,
        # The seeded subscriptions' periods have ended: a scheduler would renew them while
        # the scenarios measure.
        POLAR_CUSTOMERS_SCHEDULER_INTERVAL="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait(service: Service, probe: str, expected: int) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with httpx.Client(base_url=service.base_url, timeout=2.0) as client:
        while True:
            if service.process.poll() is not None:
                raise ProcessError(f"{service.name} exited early:\n{service.output()}")
            try:
                if client.get(probe).status_code == expected:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise ProcessError(f"{service.name} did not answer in time:\n{service.output()}")
            time.sleep(0.1)


@contextmanager
def _started(
    name: str, command: list[str], env: dict[str, str], log_dir: Path, port: int
) -> Iterator[Service]:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPOSITORY,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its workers
        )
    service = Service(name, process, f"http://127.0.0.1:{port}", log_path)
    try:
        yield service
    finally:
        service.stop()


def _server_command() -> list[str]:
    script = BIN / "polar-customers"
    return [str(script)] if script.exists() else [sys.executable, "-m", "polar_customers"]


@contextmanager
def server(
    database_url: str,
    secret: str,
    *,
    workers: int,
    log_dir: Path,
    name: str = "server",
    settings: dict[str, str] | None = None,
) -> Iterator[Service]:
    """`polar-customers serve` on a free port, ready (401 to an anonymous list) on entry;
    `settings` are extra POLAR_CUSTOMERS_ variables (without the prefix)."""
    port = free_port()
    command = [*_server_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log"]
    env = _environment(database_url, secret)
    env.update({f"POLAR_CUSTOMERS_{key}": value for key, value in (settings or {}).items()})
    with _started(name, command, env, log_dir, port) as service:
        _wait(service, "/v1/customers/", 401)
        yield service


@contextmanager
def floor(database_url: str, *, workers: int, log_dir: Path) -> Iterator[Service]:
    """`uvicorn bench.floor:app` on a free port, ready (404 to an unknown id) on entry."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.floor:app", "--app-dir", str(REPOSITORY)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--no-access-log", "--log-level", "warning"]
    env = _environment(database_url, "unused")
    with _started("floor", command, env, log_dir, port) as service:
        _wait(service, f"/v1/customers/{ZERO_ID}", 404)
        yield service


def _parents() -> dict[int, int]:
    """Every process id on the machine and its parent's, from /proc/<pid>/stat."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the fields follow the last ")".
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for child, parent in _parents().items():
        children.setdefault(parent, []).append(child)
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def peak_rss_bytes(pid: int) -> int:
    """The largest VmHWM (peak resident set) over the process and its descendants."""
    peak = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]) * 1024)
    return peak


IDLE_BUSY_FRACTION = 0.15  # of all cores, over one sample
IDLE_SAMPLE_S = 0.5


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def wait_until_idle(timeout: float) -> float:
    """Wait until the machine is nearly idle: requests a load generator gave up on may still be
    running in the server or the database, and would slow the next measurement down.
    Returns the seconds waited (the timeout when the machine never settled)."""
    started = time.monotonic()
    busy, total = _cpu_times()
    while time.monotonic() - started < timeout:
        time.sleep(IDLE_SAMPLE_S)
        now_busy, now_total = _cpu_times()
        if now_total > total and (now_busy - busy) / (now_total - total) < IDLE_BUSY_FRACTION:
            break
        busy, total = now_busy, now_total
    return time.monotonic() - started
