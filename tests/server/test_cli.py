"""The `polar-customers` command, run as a subprocess on a real database."""

import re
import sqlite3
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from polar_customers.auth.scopes import GRANTABLE_SCOPES
from polar_customers.auth.tokens import hash_token
from tests.factories import TEST_KEY, bearer
from tests.server.support import UUID4_PATTERN, run_cli

pytestmark = pytest.mark.server

ORGANIZATION_TOKEN = re.compile(r"polar_oat_[0-9A-Za-z]{43}")
PERSONAL_TOKEN = re.compile(r"polar_pat_[0-9A-Za-z]{43}")
INVALID_TOKEN = {
    "error": "invalid_token",
    "error_description": (
        "The access token provided is expired, revoked, malformed, or invalid for other reasons."
    ),
}


@dataclass(frozen=True)
class Cli:
    """`polar-customers` bound to one database and working directory."""

    database_url: str
    directory: Path

    def __call__(self, *args: str) -> "subprocess.CompletedProcess[str]":
        return run_cli(self.database_url, self.directory, *args)

    def ok(self, *args: str) -> str:
        """The output of a command that must succeed."""
        result = self(*args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    def fails(self, *args: str, code: int = 1) -> str:
        """The error output of a command that must fail with `code` and no traceback."""
        result = self(*args)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        return result.stderr

    def uuid(self, *args: str) -> str:
        """The id printed by a create command."""
        value = self.ok(*args).strip()
        assert UUID4_PATTERN.match(value), value
        return value


@dataclass(frozen=True)
class TokenLine:
    id: str
    kind: str
    owner: str
    scope: str
    expires: str
    comment: str


def listed(listing: str, headers: list[str]) -> list[list[str]]:
    """The rows of a list command's output: a header line, then aligned columns (cells have no
    two spaces in a row; only the last may be empty)."""
    header, *rows = listing.splitlines()
    assert re.split(r" {2,}", header) == headers, header
    cells = [re.split(r" {2,}", row, maxsplit=len(headers) - 1) for row in rows]
    return [row + [""] * (len(headers) - len(row)) for row in cells]


def token_lines(listing: str) -> list[TokenLine]:
    """`token list` output: `id  kind  owner  scopes  expiry  comment` under a header."""
    headers = ["ID", "KIND", "OWNER", "SCOPES", "EXPIRES", "COMMENT"]
    return [TokenLine(*row) for row in listed(listing, headers)]


def organization_lines(listing: str) -> list[list[str]]:
    """`org list` output: id, currency and name under a header."""
    return listed(listing, ["ID", "CURRENCY", "NAME"])


def sqlite_path(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite+aiosqlite:///"))


@pytest.fixture(scope="module")
def fresh_cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """The command on a new SQLite file, migrated with `db upgrade`."""
    directory = tmp_path_factory.mktemp("cli")
    cli = Cli(f"sqlite+aiosqlite:///{directory / 'cli.db'}", directory)
    cli.ok("db", "upgrade")
    return cli


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    cli = Cli(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}", tmp_path)
    assert cli.ok("db", "upgrade").strip() == "Database is up to date."
    with sqlite3.connect(sqlite_path(cli.database_url)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        [(version,)] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"customers", "organizations", "users", "alembic_version"} <= tables
    assert version
    # Idempotent; and an upgraded database has no organization yet.
    assert cli.ok("db", "upgrade").strip() == "Database is up to date."
    assert organization_lines(cli.ok("org", "list")) == []
    assert token_lines(cli.ok("token", "list")) == []


def test_commands_migrate_a_database_they_are_asked_to_create(tmp_path: Path) -> None:
    cli = Cli(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}", tmp_path)
    organization_id = cli.uuid("org", "create", "Fresh", "--create")
    assert organization_lines(cli.ok("org", "list")) == [[organization_id, "USD", "Fresh"]]


def test_organizations_users_memberships_and_tokens(fresh_cli: Cli) -> None:
    cli = fresh_cli
    organization_id = cli.uuid("org", "create", "Acme Inc", "--default-currency", "eur")
    assert [organization_id, "EUR", "Acme Inc"] in organization_lines(cli.ok("org", "list"))
    user_id = cli.uuid("user", "create", "jane@example.com")
    cli.uuid("user", "add-member", "--user", user_id, "--org", organization_id)

    organization_token = cli.ok(
        "token", "create", "--org", organization_id, "--scope", "customers:read",
        "--comment", "reporting",
    ).strip()  # fmt: skip
    assert ORGANIZATION_TOKEN.fullmatch(organization_token)
    personal_token = cli.ok("token", "create", "--user", user_id, "--expires-in-days", "7").strip()
    assert PERSONAL_TOKEN.fullmatch(personal_token)
    both_scopes = cli.ok(
        "token", "create", "--org", organization_id,
        "--scope", "customers:write", "--scope", "customers:read",
    ).strip()  # fmt: skip
    assert ORGANIZATION_TOKEN.fullmatch(both_scopes)
    assert len({organization_token, personal_token, both_scopes}) == 3

    listing = cli.ok("token", "list")
    # Tokens are shown only once: neither they nor their stored hashes are ever listed.
    for token in (organization_token, personal_token, both_scopes):
        assert token not in listing
        assert hash_token(token, key=TEST_KEY) not in listing
    lines = token_lines(listing)
    assert len(lines) == 3
    reporting, full, personal = lines  # organization tokens first, each kind oldest first
    assert (reporting.kind, reporting.owner, reporting.scope) == (
        "organization",
        organization_id,
        "customers:read",
    )
    assert (reporting.expires, reporting.comment) == ("never", "reporting")
    assert (full.kind, full.scope) == ("organization", "customers:read customers:write")
    assert (personal.kind, personal.owner) == ("personal", user_id)
    # The default: every scope of the API resources, none of organization management.
    assert personal.scope == " ".join(
        sorted(scope for scope in GRANTABLE_SCOPES if not scope.startswith("organizations:"))
    )
    expires = datetime.fromisoformat(personal.expires)
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=5)
    for line in lines:
        assert UUID4_PATTERN.match(line.id)

    # What is stored is the keyed hash of each token, under its scopes.
    with sqlite3.connect(sqlite_path(cli.database_url)) as connection:
        stored = dict(connection.execute("SELECT token, scope FROM organization_access_tokens"))
        stored_personal = dict(
            connection.execute("SELECT token, scope FROM personal_access_tokens")
        )
    assert stored[hash_token(organization_token, key=TEST_KEY)] == "customers:read"
    assert hash_token(personal_token, key=TEST_KEY) in stored_personal

    assert cli.ok("token", "revoke", reporting.id).strip() == f"Revoked {reporting.id}."
    assert [line.id for line in token_lines(cli.ok("token", "list"))] == [full.id, personal.id]
    assert "No live token" in cli.fails("token", "revoke", reporting.id)


def test_bad_command_lines_fail_cleanly(fresh_cli: Cli) -> None:
    cli = fresh_cli
    organization_id = cli.uuid("org", "create", "Errors")
    user_id = cli.uuid("user", "create", "errors@example.com")
    unknown = str(uuid.uuid4())
    one_of = "exactly one of --org or --user"
    # (arguments, exit code, expected in the error output); usage errors exit with 2.
    cases: list[tuple[tuple[str, ...], int, str]] = [
        (("token", "create"), 1, one_of),
        (("token", "create", "--org", organization_id, "--user", user_id), 1, one_of),
        (("token", "create", "--org", unknown), 1, unknown),
        (("user", "add-member", "--user", unknown, "--org", organization_id), 1, unknown),
        (("token", "create", "--org", organization_id, "--scope", "web:read"), 1, "reserved"),
        (("token", "create", "--org", organization_id, "--scope", "customers:delete"), 2, ""),
        (("token", "revoke", unknown), 1, "No live token"),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:  # independent commands: run them together
        outputs = list(pool.map(lambda case: cli.fails(*case[0], code=case[1]), cases))
    for (args, _code, expected), output in zip(cases, outputs, strict=True):
        assert expected in output, (args, output)
    # Nothing was created by the failed commands.
    owners = {line.owner for line in token_lines(cli.ok("token", "list"))}
    assert not owners & {organization_id, user_id}


def test_cli_tokens_on_the_live_server(live_server: str, database_url: str, tmp_path: Path) -> None:
    """Tokens made by the command work on a running server, and stop working once revoked."""
    cli = Cli(database_url, tmp_path)
    organization_id = cli.uuid("org", "create", "From the CLI")
    comment = f"cli-{uuid.uuid4().hex}"
    token = cli.ok("token", "create", "--org", organization_id, "--comment", comment).strip()
    user_id = cli.uuid("user", "create", f"{uuid.uuid4().hex}@example.com")
    cli.uuid("user", "add-member", "--user", user_id, "--org", organization_id)
    reader = cli.ok("token", "create", "--user", user_id, "--scope", "customers:read").strip()

    with httpx.Client(base_url=live_server, timeout=30.0) as http:
        created = http.post(
            "/v1/customers/", json={"email": "cli@example.com"}, headers=bearer(token)
        )
        assert created.status_code == 201, created.text
        assert created.json()["organization_id"] == organization_id

        listed = http.get("/v1/customers/", headers=bearer(reader))
        assert listed.status_code == 200, listed.text
        assert [item["id"] for item in listed.json()["items"]] == [created.json()["id"]]
        forbidden = http.post(
            "/v1/customers/",
            json={"email": "nope@example.com", "organization_id": organization_id},
            headers=bearer(reader),
        )
        assert forbidden.status_code == 403

        [line] = [line for line in token_lines(cli.ok("token", "list")) if line.comment == comment]
        assert (line.kind, line.owner) == ("organization", organization_id)
        assert cli.ok("token", "revoke", line.id).strip() == f"Revoked {line.id}."

        for request in (
            http.build_request("GET", "/v1/customers/", headers=bearer(token)),
            http.build_request(
                "GET", f"/v1/customers/{created.json()['id']}", headers=bearer(token)
            ),
            http.build_request(
                "POST", "/v1/customers/", json={"email": "x@example.com"}, headers=bearer(token)
            ),
        ):
            revoked = http.send(request)
            assert revoked.status_code == 401, revoked.text
            assert revoked.json() == INVALID_TOKEN
            assert revoked.headers["www-authenticate"].startswith(
                'Bearer realm="polar", error="invalid_token"'
            )
        # The other token of the organization still works.
        assert http.get("/v1/customers/", headers=bearer(reader)).status_code == 200


def test_organization_default_currency(live_server: str, database_url: str, tmp_path: Path) -> None:
    """`org create --default-currency` sets the currency balances are computed and shown in."""
    cli = Cli(database_url, tmp_path)
    assert "three-letter" in cli.fails("org", "create", "Bad", "--default-currency", "euro", code=2)
    organization_id = cli.uuid("org", "create", "In euros", "--default-currency", "EUR")
    token = cli.ok("token", "create", "--org", organization_id).strip()
    with httpx.Client(base_url=live_server, timeout=30.0) as http:
        created = http.post(
            "/v1/customers/", json={"email": "eur@example.com"}, headers=bearer(token)
        )
        assert created.status_code == 201, created.text
        balance = http.get(f"/v1/customers/{created.json()['id']}/balance", headers=bearer(token))
    assert balance.json() == {"balance": 0, "currency": "EUR"}
