"""A newcomer's first hour, through the real `polar-customers` process: database URLs as
hosting providers print them, databases created or refused, one place for the data, and every
common mistake answered in one or two lines that name the setting to change."""

import asyncio
import os
import re
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import pytest
from polar_sdk import Polar

from tests.conftest import ENGINE, POSTGRES_URL, _admin
from tests.factories import TEST_SECRET, bearer
from tests.server.support import UUID4_PATTERN, free_port, start_server

pytestmark = pytest.mark.server

STRONG_SECRET = "n3w-production-secret-" + "x" * 40
OTHER_SECRET = "an0ther-production-secret-" + "y" * 40
SETTING = re.compile(r"POLAR_CUSTOMERS_[A-Z_]+")


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """What the command said on stderr, after the line naming its database."""
        return [line for line in self.stderr.splitlines() if not line.startswith("Database: ")]


def polar_customers(
    directory: Path, *args: str, env: Mapping[str, str | None] | None = None
) -> Result:
    """`polar-customers *args` run in `directory` with no POLAR_ setting but `env`'s (a None
    value leaves a setting out)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("POLAR_")}
    environment.update(
        POLAR_CUSTOMERS_SCHEDULER_INTERVAL="0", COLUMNS="200", NO_COLOR="1", TERM="dumb"
    )
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    completed = subprocess.run(
        [sys.executable, "-m", "polar_customers", *args],
        cwd=directory,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def succeeds(directory: Path, *args: str, env: Mapping[str, str | None]) -> Result:
    result = polar_customers(directory, *args, env=env)
    assert result.code == 0, (args, result.stdout, result.stderr)
    return result


def fails_briefly(directory: Path, *args: str, env: Mapping[str, str | None]) -> list[str]:
    """The one or two lines of a command that must fail without a traceback."""
    result = polar_customers(directory, *args, env=env)
    assert result.code == 1, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert 1 <= len(result.error_lines) <= 2, result.stderr
    return result.error_lines


def postgres_url(database: str, *, scheme: str = "postgresql", password: str = "postgres") -> str:
    """A URL of the suite's PostgreSQL server in the form a hosting provider prints."""
    rest = POSTGRES_URL.split("://", 1)[1].rsplit("/", 1)[0]
    user_and_password, host = rest.rsplit("@", 1)
    user = user_and_password.split(":", 1)[0]
    return f"{scheme}://{user}:{password}@{host}/{database}"


def database_exists(url: str) -> bool:
    if url.startswith("sqlite"):
        return Path(url.split(":///", 1)[1].split("?")[0]).exists()
    name = url.rsplit("/", 1)[1].split("?")[0]

    async def query() -> bool:
        connection = await asyncpg.connect(postgres_url("postgres"))
        try:
            return bool(
                await connection.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name)
            )
        finally:
            await connection.close()

    return asyncio.run(query())


@pytest.fixture
def new_database_name() -> Iterator[str]:
    """A PostgreSQL database name that does not exist yet; dropped afterwards if created."""
    name = f"polar_customers_first_hour_{uuid.uuid4().hex[:10]}"
    yield name
    if ENGINE == "postgresql":
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def new_database_url(tmp_path: Path, new_database_name: str) -> str:
    """Where no database is yet, in the plain form users have."""
    if ENGINE == "sqlite":
        return f"sqlite:///{tmp_path / 'not' / 'yet' / 'polar.db'}"
    return postgres_url(new_database_name)


def url_forms(tmp_path: Path, name: str) -> list[str]:
    if ENGINE == "sqlite":
        return [f"sqlite:///{tmp_path / 'plain.db'}", f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"]
    return [
        postgres_url(f"{name}_1"),
        postgres_url(f"{name}_2", scheme="postgres") + "?sslmode=disable",
        postgres_url(f"{name}_3", scheme="postgresql+asyncpg"),
    ]


def test_database_urls_as_users_have_them(tmp_path: Path, new_database_name: str) -> None:
    """Each form works, and `db upgrade` creates the database it names."""
    forms = url_forms(tmp_path, new_database_name)
    try:
        for url in forms:
            env = {"POLAR_CUSTOMERS_DATABASE_URL": url}
            assert not database_exists(url)
            created = succeeds(tmp_path, "db", "upgrade", env=env)
            assert created.stdout.strip() == "Database is up to date."
            assert database_exists(url)
            organization_id = succeeds(tmp_path, "org", "create", "Forms", env=env).stdout.strip()
            assert UUID4_PATTERN.match(organization_id)
            assert organization_id in succeeds(tmp_path, "org", "list", env=env).stdout
    finally:
        if ENGINE == "postgresql":
            for url in forms:
                name = url.rsplit("/", 1)[1].split("?")[0]
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_every_command_names_its_database_and_only_serve_and_upgrade_create_one(
    tmp_path: Path, new_database_url: str
) -> None:
    env = {"POLAR_CUSTOMERS_DATABASE_URL": new_database_url}
    commands = [
        ("org", "list"),
        ("org", "create", "Nope"),
        ("user", "create", "nope@example.com"),
        ("token", "list"),
        ("token", "create", "--org", str(uuid.uuid4())),
        ("token", "revoke", str(uuid.uuid4())),
        ("scheduler", "--once"),
        ("demo",),
        ("db", "reset", "--yes"),
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda args: polar_customers(tmp_path, *args, env=env), commands))
    where = "There is no SQLite file" if ENGINE == "sqlite" else "There is no PostgreSQL database"
    for args, result in zip(commands, results, strict=True):
        assert result.code == 1, (args, result.stderr)
        assert "Traceback" not in result.stderr
        first, refusal, remedy = result.stderr.splitlines()
        assert first.startswith("Database: "), first
        assert refusal.startswith(where), refusal
        assert "db upgrade` (or pass --create)" in remedy, remedy
    assert not database_exists(new_database_url)

    organization_id = succeeds(tmp_path, "org", "create", "Asked", "--create", env=env).stdout
    assert UUID4_PATTERN.match(organization_id.strip())
    assert database_exists(new_database_url)


def test_one_directory_holds_the_database_and_the_development_secret(tmp_path: Path) -> None:
    data = tmp_path / "data"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env: dict[str, str | None] = {"POLAR_CUSTOMERS_SECRET": None}
    upgraded = succeeds(tmp_path, "--data-dir", str(data), "db", "upgrade", env=env)
    assert upgraded.stderr.splitlines()[0] == f"Database: SQLite file {data / 'polar-customers.db'}"

    in_data = {**env, "POLAR_CUSTOMERS_DATA_DIR": str(data)}
    organization_id = succeeds(elsewhere, "org", "create", "Here", env=in_data).stdout.strip()
    token = succeeds(elsewhere, "token", "create", "--org", organization_id, env=in_data).stdout
    assert token.startswith("polar_oat_")
    assert sorted(
        path.name for path in data.iterdir() if not path.name.endswith(("-wal", "-shm"))
    ) == [
        "polar-customers.db",
        "polar-customers.secret",
    ]
    assert list(elsewhere.iterdir()) == []

    # Run from another directory without the setting: refused instead of a new empty database.
    refusal = fails_briefly(elsewhere, "token", "list", env=env)
    assert refusal[0] == f"There is no SQLite file {elsewhere / 'polar-customers.db'}."
    assert list(elsewhere.iterdir()) == []


def _break_revision(url: str) -> None:
    """Marks the database as migrated by a later version of the server."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split(":///", 1)[1]) as connection:
            connection.execute("UPDATE alembic_version SET version_num = '9999'")
        return

    async def update() -> None:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await connection.execute("UPDATE alembic_version SET version_num = '9999'")
        finally:
            await connection.close()

    asyncio.run(update())


def test_a_database_migrated_by_a_newer_version(tmp_path: Path, new_database_url: str) -> None:
    env = {"POLAR_CUSTOMERS_DATABASE_URL": new_database_url}
    succeeds(tmp_path, "db", "upgrade", env=env)
    _break_revision(new_database_url)
    for args in (("org", "list"), ("db", "upgrade")):
        newer, remedy = fails_briefly(tmp_path, *args, env=env)
        assert "was migrated by a newer version of polar-customers" in newer
        assert "9999" in newer
        assert "POLAR_CUSTOMERS_DATABASE_URL" in remedy


def test_settings_mistakes_name_the_setting(tmp_path: Path) -> None:
    closed_port = free_port()
    production = "POLAR_CUSTOMERS_ENVIRONMENT"
    url = "POLAR_CUSTOMERS_DATABASE_URL"
    secret = "POLAR_CUSTOMERS_SECRET"
    cases: list[tuple[dict[str, str | None], str, str]] = [
        ({url: f"postgres://u:p@127.0.0.1:{closed_port}/db"}, "connection refused", url),
        ({url: "mysql://u:p@localhost/db"}, "unsupported", url),
        ({url: "sqlite://"}, "names no SQLite file", url),
        ({production: "production", secret: None}, "is not set", secret),
        ({production: "production", secret: "changeme"}, "placeholder", secret),
        ({production: "production", secret: "short"}, "shorter than 32", secret),
        ({"POLAR_CUSTOMERS_DATABASE_POOL_SIZE": "many"}, "valid integer", "DATABASE_POOL_SIZE"),
    ]

    def run(case: tuple[dict[str, str | None], str, str]) -> list[str]:
        return fails_briefly(tmp_path, "org", "list", env=case[0])

    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(run, cases))
    for (env, expected, setting), lines in zip(cases, outputs, strict=True):
        text = "\n".join(lines)
        assert expected in text, (env, text)
        assert setting in text, (env, text)
        assert "changeme" not in text
        assert "u:p@" not in text


def test_a_database_that_does_not_answer(tmp_path: Path) -> None:
    """Something listens but never speaks PostgreSQL: the wait is bounded by the setting."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        env = {
            "POLAR_CUSTOMERS_DATABASE_URL": f"postgres://u:p@127.0.0.1:{silent.getsockname()[1]}/db",
            "POLAR_CUSTOMERS_DATABASE_CONNECT_TIMEOUT": "1",
        }
        late, remedy = fails_briefly(tmp_path, "org", "list", env=env)
    assert late.endswith("did not answer in time.")
    assert "POLAR_CUSTOMERS_DATABASE_URL" in remedy


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    unreachable = {"POLAR_CUSTOMERS_DATABASE_URL": f"postgres://u:p@127.0.0.1:{free_port()}/db"}
    for args, env in (
        (("--debug", "org", "list"), unreachable),
        (("org", "list"), {**unreachable, "POLAR_CUSTOMERS_DEBUG": "true"}),
    ):
        result = polar_customers(tmp_path, *args, env=env)
        assert result.code == 1
        assert "Traceback" in result.stderr
        assert "ConnectionRefusedError" in result.stderr


@pytest.mark.skipif(ENGINE != "postgresql", reason="PostgreSQL's logins and privileges")
def test_postgresql_login_and_creation_refusals(tmp_path: Path, new_database_name: str) -> None:
    wrong_password = {"POLAR_CUSTOMERS_DATABASE_URL": postgres_url("postgres", password="wrong")}
    login, remedy = fails_briefly(tmp_path, "org", "list", env=wrong_password)
    assert "password authentication failed" in login
    assert "user or password in POLAR_CUSTOMERS_DATABASE_URL" in remedy

    role = f"first_hour_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f"CREATE ROLE {role} LOGIN PASSWORD 'pw' NOCREATEDB"))
    try:
        url = postgres_url(new_database_name).replace("postgres:postgres@", f"{role}:pw@")
        refusal, remedy = fails_briefly(
            tmp_path, "db", "upgrade", env={"POLAR_CUSTOMERS_DATABASE_URL": url}
        )
        assert refusal.startswith(f'There is no PostgreSQL database "{new_database_name}"')
        assert "permission denied" in refusal
        assert remedy.startswith("Create it as a user who may")
        assert f"-O {role} {new_database_name}" in remedy
    finally:
        asyncio.run(_admin(f"DROP ROLE IF EXISTS {role}"))


ListResponse = TypeVar("ListResponse")
PRODUCTION = {"POLAR_CUSTOMERS_ENVIRONMENT": "production", "POLAR_CUSTOMERS_SECRET": STRONG_SECRET}


def test_tokens_are_not_minted_with_a_secret_the_server_does_not_use(
    tmp_path: Path, new_database_url: str
) -> None:
    env: dict[str, str | None] = {"POLAR_CUSTOMERS_DATABASE_URL": new_database_url}
    succeeds(tmp_path, "db", "upgrade", env=env)
    server = start_server(new_database_url, tmp_path, settings=PRODUCTION)
    try:
        found = re.search(r"Organization ID: (\S+)", server.output())
        assert found is not None, server.output()
        mint = ("token", "create", "--org", found.group(1))

        served, remedy = fails_briefly(tmp_path, *mint, env={**env, "POLAR_CUSTOMERS_SECRET": None})
        assert served.startswith("This database is served in production")
        assert "development secret file" in served
        assert "POLAR_CUSTOMERS_SECRET" in remedy

        other = {**env, "POLAR_CUSTOMERS_SECRET": OTHER_SECRET}
        [another] = fails_briefly(tmp_path, *mint, env=other)
        assert "another secret than POLAR_CUSTOMERS_SECRET" in another
        assert "Set POLAR_CUSTOMERS_SECRET to the server's" in another
        # Neither empties nor fills a production database, whatever the secret.
        for args, name in ((("db", "reset", "--yes"), "db reset"), (("demo",), "demo")):
            assert fails_briefly(tmp_path, *args, env={**env, **PRODUCTION}) == [
                f"This database is served in production: `{name}` is for development "
                "databases only."
            ]

        token = succeeds(tmp_path, *mint, env={**env, **PRODUCTION}).stdout.strip()
        response = httpx.get(f"{server.base_url}/v1/customers/", headers=bearer(token), timeout=30)
        assert response.status_code == 200, response.text
    finally:
        server.stop()

    # A server started with another secret says that the tokens it finds no longer work.
    rotated = start_server(
        new_database_url, tmp_path, settings={**PRODUCTION, "POLAR_CUSTOMERS_SECRET": OTHER_SECRET}
    )
    try:
        assert "tokens of this database were made under another secret" in rotated.output()
        response = httpx.get(f"{rotated.base_url}/v1/customers/", headers=bearer(token), timeout=30)
        assert response.status_code == 401
    finally:
        rotated.stop()


def test_db_reset_empties_a_development_database(tmp_path: Path, new_database_url: str) -> None:
    env = {"POLAR_CUSTOMERS_DATABASE_URL": new_database_url}
    organization_id = succeeds(
        tmp_path, "org", "create", "Gone", "--create", env=env
    ).stdout.strip()
    succeeds(tmp_path, "token", "create", "--org", organization_id, env=env)

    [unasked] = fails_briefly(tmp_path, "db", "reset", env=env)
    assert "pass --yes" in unasked
    assert organization_id in succeeds(tmp_path, "org", "list", env=env).stdout

    reset = succeeds(tmp_path, "db", "reset", "--yes", env=env)
    assert "Emptying tables" in reset.stderr
    assert reset.stderr.count("Database: ") == 1
    assert reset.stdout.startswith("Emptied.")
    assert succeeds(tmp_path, "org", "list", env=env).stdout.splitlines() == ["ID  CURRENCY  NAME"]
    assert len(succeeds(tmp_path, "token", "list", env=env).stdout.splitlines()) == 1


def page(response: ListResponse | None) -> ListResponse:
    """A list call's first page (the client types it optional, for its paging)."""
    assert response is not None
    return response


def _api_snapshot(polar: Polar) -> dict[str, object]:
    """What the official client lists of the organization (ids and contents, not tokens)."""
    customers = page(polar.customers.list(limit=100)).result
    subscriptions = page(polar.subscriptions.list(limit=100)).result
    orders = page(polar.orders.list(limit=100)).result
    return {
        "customers": sorted(
            (customer.external_id, customer.email, customer.metadata)
            for customer in customers.items
        ),
        "subscriptions": sorted(
            (subscription.id, subscription.status, subscription.amount)
            for subscription in subscriptions.items
        ),
        "orders": sorted((order.id, order.status, order.total_amount) for order in orders.items),
        "products": sorted(
            product.name for product in page(polar.products.list(limit=100)).result.items
        ),
        "benefits": sorted(
            benefit.description for benefit in page(polar.benefits.list(limit=100)).result.items
        ),
        "meters": sorted(meter.name for meter in page(polar.meters.list(limit=100)).result.items),
        "events": page(polar.events.list(limit=1)).result.pagination.total_count,
    }


def test_demo_twice_gives_the_same_data_and_the_official_client_reads_it(
    tmp_path: Path, new_database_url: str
) -> None:
    # The secret of the servers `start_server` starts.
    env = {"POLAR_CUSTOMERS_DATABASE_URL": new_database_url, "POLAR_CUSTOMERS_SECRET": TEST_SECRET}
    first = succeeds(tmp_path, "demo", "--create", env=env)
    assert first.stdout.startswith("Made:\n")
    assert "Demo data" in first.stderr  # the progress bar's label
    token = re.search(r"^Access token \(shown once\): (polar_oat_\w+)$", first.stdout, re.M)
    assert token is not None, first.stdout

    server = start_server(new_database_url, tmp_path)
    try:
        polar = Polar(access_token=token.group(1), server_url=server.base_url)
        before = _api_snapshot(polar)
        second = succeeds(tmp_path, "demo", env=env)
        assert second.stdout.startswith("Already there, nothing added:\n")
        report = [line for line in first.stdout.splitlines()[1:] if "token" not in line]
        assert [line for line in second.stdout.splitlines()[1:] if "token" not in line] == report
        assert _api_snapshot(polar) == before
        assert len(before["customers"]) == 25  # type: ignore[arg-type]
        assert before["events"] > 1_000  # type: ignore[operator]

        state = polar.customers.get_state_external(external_id="demo_customer_01")
        assert state.active_subscriptions
        assert state.granted_benefits
        assert any(meter.consumed_units > 0 for meter in state.active_meters)
        balances = [
            polar.customers.get_balance(id=customer.id).balance
            for customer in page(polar.customers.list(limit=100)).result.items
        ]
        assert any(balance != 0 for balance in balances)
    finally:
        server.stop()


def test_serve_on_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        in_use, remedy = fails_briefly(tmp_path, "serve", "--port", port, env={})
    assert in_use.startswith(f"Cannot listen on 127.0.0.1:{port}: ")
    assert "--port" in remedy
    assert not (tmp_path / "polar-customers.db").exists()  # refused before anything was made


def test_tokens_are_not_minted_away_from_the_servers_data_directory(tmp_path: Path) -> None:
    data, elsewhere = tmp_path / "data", tmp_path / "elsewhere"
    elsewhere.mkdir()
    env: dict[str, str | None] = {"POLAR_CUSTOMERS_SECRET": None}
    in_data = {**env, "POLAR_CUSTOMERS_DATA_DIR": str(data)}
    organization_id = succeeds(tmp_path, "org", "create", "Mine", "--create", env=in_data)
    mint = ("token", "create", "--org", organization_id.stdout.strip())
    succeeds(tmp_path, *mint, env=in_data)  # records the data directory's secret

    # The same database from another directory, whose development secret is not the server's.
    database = {**env, "POLAR_CUSTOMERS_DATABASE_URL": f"sqlite:///{data / 'polar-customers.db'}"}
    missing, remedy = fails_briefly(elsewhere, *mint, env=database)
    assert missing == (
        f"There is no development secret file {elsewhere / 'polar-customers.secret'}; "
        "the server of this database keeps its secret elsewhere."
    )
    assert "POLAR_CUSTOMERS_DATA_DIR" in remedy
    assert list(elsewhere.iterdir()) == []


def test_a_development_secret_file_that_cannot_be_read(tmp_path: Path) -> None:
    env = {"POLAR_CUSTOMERS_SECRET": None, "POLAR_CUSTOMERS_SECRET_FILE": str(tmp_path)}
    organization_id = succeeds(tmp_path, "org", "create", "Dir", "--create", env=env).stdout
    unusable, remedy = fails_briefly(
        tmp_path, "token", "create", "--org", organization_id.strip(), env=env
    )
    assert unusable == f"Cannot use {tmp_path}: Is a directory."
    assert "POLAR_CUSTOMERS_SECRET_FILE" in remedy
